//! The back-channel logout-token validator. Two shapes of input: any text as the token (the
//! parser and signature check), and any text as the claims of a token the IdP really signed (the
//! claim rules). An accepted token always meets every rule of OIDC Back-Channel Logout 1.0.
#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use vestibule::oidc::logout_token::{Expected, check};

const ISSUER: &str = "https://login.example.com";
const CLIENT: &str = "vestibule";
const NOW: i64 = 1_800_000_000;

static KEY: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
    let pem = include_str!("../../tests/fixtures/idp-key.pem");
    RsaPrivateKey::from_pkcs1_pem(pem).expect("fixture key")
});

static JWKS: LazyLock<CoreJsonWebKeySet> = LazyLock::new(|| {
    let public = KEY.to_public_key();
    let jwks = json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }]});
    serde_json::from_value(jwks).expect("fixture JWKS")
});

fn signed(claims: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"logout+jwt","kid":"k1"}"#);
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let sig = SigningKey::<sha2::Sha256>::new(KEY.clone()).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_vec()))
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        algs: &[CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
    };
    let (token, claims) = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        (text.to_owned(), None)
    } else {
        (signed(rest), Some(rest))
    };
    let Ok(target) = check(&token, &expected, &JWKS, NOW) else {
        return;
    };
    // Only a token the IdP signed can pass, and then only with every rule met.
    let claims: Value = serde_json::from_slice(claims.expect("raw input is never signed"))
        .expect("accepted claims are JSON");
    assert_eq!(claims["iss"], ISSUER);
    let aud = &claims["aud"];
    assert!(aud == CLIENT || aud.as_array().is_some_and(|a| a.iter().any(|v| v == CLIENT)));
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((NOW - 600..=NOW + 300).contains(&iat));
    assert!(claims.get("nonce").is_none());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert_eq!(claims["jti"].as_str(), Some(target.jti.as_str()));
    assert!(target.sid.is_some() || target.sub.is_some());
});

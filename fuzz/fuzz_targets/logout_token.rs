//! The back-channel logout-token validator, in two shapes chosen by the first input byte:
//! - even: any text as a whole token. Parser and signature check: nothing unsigned ever passes.
//! - odd: any text as the claims of a token whose signature was verified, given to the claim
//!   rules. Whatever is accepted meets every rule of OIDC Back-Channel Logout 1.0.
//!
//! (Signing fuzzed claims with the IdP key per input would also test the composition, but RSA
//! under coverage instrumentation runs at a few executions per second; the integration tests in
//! `tests/it/hostile/backchannel.rs` sign real tokens instead.)
#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use vestibule::oidc::logout_token::{Expected, check, check_claims};

const ISSUER: &str = "https://login.example.com";
const CLIENT: &str = "vestibule";
const NOW: i64 = 1_800_000_000;

/// The IdP's published keys: the test fixture's public key.
static JWKS: LazyLock<CoreJsonWebKeySet> = LazyLock::new(|| {
    let pem = include_str!("../../tests/fixtures/idp-key.pem");
    let public = RsaPrivateKey::from_pkcs1_pem(pem)
        .expect("fixture key")
        .to_public_key();
    let jwks = json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }]});
    serde_json::from_value(jwks).expect("fixture JWKS")
});

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let expected = Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        algs: &[CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            let result = check(text, &expected, &JWKS, NOW);
            assert!(result.is_err(), "an unsigned input was accepted: {text:?}");
        }
        return;
    }
    let Ok(claims) = serde_json::from_slice::<Map<String, Value>>(rest) else {
        return;
    };
    let Ok(target) = check_claims(&claims, &expected, NOW) else {
        return;
    };
    assert_eq!(claims["iss"], ISSUER);
    let aud = &claims["aud"];
    assert!(
        aud == CLIENT
            || aud
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == CLIENT))
    );
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((NOW - 600..=NOW + 300).contains(&iat));
    if let Some(exp) = claims.get("exp") {
        assert!(exp.as_i64().is_some_and(|e| e > NOW));
    }
    assert!(!claims.contains_key("nonce"));
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert_eq!(claims["jti"].as_str(), Some(target.jti.as_str()));
    assert!(!target.jti.is_empty());
    assert!(target.sid.is_some() || target.sub.is_some());
});

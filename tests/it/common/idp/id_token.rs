//! ID tokens as the test IdP issues them: correct, or broken in one precise way ([`Tweak`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;
use sha2::{Sha256, Sha384};

use super::{CLIENT_ID, Grant, IdpState, SUB, now};

/// One precise way to break the ID token (or to shape it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tweak {
    None,
    WrongAud,
    WrongNonce,
    WrongIss,
    /// `azp` names another client.
    WrongAzp,
    /// Two audiences and no `azp`.
    ExtraAudNoAzp,
    Expired,
    /// `iat` an hour in the future.
    IatInFuture,
    MissingNonce,
    MissingSub,
    UnknownKid,
    AlgNone,
    HsWithPublicKey,
    TamperedSignature,
    /// Signed by a key that is not in the JWKS at login time but appears on refetch (rotation).
    RotatedKey,
    /// No `auth_time`.
    NoAuthTime,
    /// `auth_time` an hour ago.
    StaleAuthTime,
    /// This `acr`.
    Acr(&'static str),
    /// `auth_time` this many seconds ago.
    AuthTimeAgo(i64),
    /// Another user.
    Sub(&'static str),
    /// This `sid`: a login in an IdP session another login had already (two browsers' sessions
    /// of one IdP session, as an IdP that shares its session across devices makes).
    Sid(&'static str),
    /// No `exp`.
    MissingExp,
    /// No `iat`.
    MissingIat,
    /// `nbf` an hour in the future.
    NbfInFuture,
    /// Signed by the IdP's own key, but with RS384, which the IdP does not advertise.
    UnadvertisedAlg,
    /// Signed by a key the IdP never published, which the header carries as `jwk`.
    EmbeddedJwk,
    /// Signed by a key the IdP never published, which the header's `jku` points to (a JWKS
    /// the test IdP serves at `/attacker/jwks`, counting fetches).
    Jku,
    /// The same with `x5u` (`/attacker/x5u`).
    X5u,
    /// These claims (a JSON object's members) added to the ID token, or replacing its own.
    Claims(&'static str),
    /// A valid back-channel logout token of this login (`typ: logout+jwt`, `events`, `jti`, no
    /// nonce), with an `exp`.
    LogoutToken,
}

/// The `kid` of the key only an attacker holds ([`Tweak::EmbeddedJwk`], [`Tweak::Jku`],
/// [`Tweak::X5u`]).
pub const ATTACKER_KID: &str = "attacker-key";

/// The ID token of a login.
pub(super) fn id_token(s: &IdpState, g: &Grant) -> String {
    let t = now();
    let mut claims = json!({
        "iss": s.issuer, "sub": SUB, "aud": CLIENT_ID, "iat": t, "exp": t + 300, "auth_time": t,
        "nonce": g.nonce, "sid": g.sid, "name": "Ada Lovelace", "email": "ada@example.test",
    });
    match g.tweak {
        Tweak::WrongAud => claims["aud"] = json!("someone-else"),
        Tweak::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Tweak::WrongIss => claims["iss"] = json!("http://evil.example"),
        Tweak::WrongAzp => claims["azp"] = json!("another-client"),
        Tweak::ExtraAudNoAzp => claims["aud"] = json!([CLIENT_ID, "another-client"]),
        Tweak::Expired => {
            claims["iat"] = json!(t - 7200);
            claims["exp"] = json!(t - 3600);
        }
        Tweak::IatInFuture => {
            claims["iat"] = json!(t + 3600);
            claims["exp"] = json!(t + 7200);
        }
        Tweak::MissingNonce => {
            claims.as_object_mut().map(|c| c.remove("nonce"));
        }
        Tweak::MissingSub => {
            claims.as_object_mut().map(|c| c.remove("sub"));
        }
        Tweak::NoAuthTime => {
            claims.as_object_mut().map(|c| c.remove("auth_time"));
        }
        Tweak::StaleAuthTime => claims["auth_time"] = json!(t - 3600),
        Tweak::Acr(acr) => claims["acr"] = json!(acr),
        Tweak::AuthTimeAgo(ago) => claims["auth_time"] = json!(t - ago),
        Tweak::Sub(sub) => claims["sub"] = json!(sub),
        Tweak::MissingExp => {
            claims.as_object_mut().map(|c| c.remove("exp"));
        }
        Tweak::MissingIat => {
            claims.as_object_mut().map(|c| c.remove("iat"));
        }
        Tweak::NbfInFuture => claims["nbf"] = json!(t + 3600),
        Tweak::Claims(extra) => {
            let extra: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(extra).expect("Tweak::Claims is a JSON object");
            if let Some(c) = claims.as_object_mut() {
                c.extend(extra);
            }
        }
        Tweak::LogoutToken => {
            claims = json!({
                "iss": s.issuer, "sub": SUB, "aud": CLIENT_ID, "iat": t, "exp": t + 300,
                "jti": super::random("jti"), "sid": g.sid,
                "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
            });
        }
        _ => {}
    }
    if g.tweak != Tweak::LogoutToken {
        super::merge_claims(&mut claims, &s.id_token_claims.lock().expect("claims"));
    }
    let header = match g.tweak {
        Tweak::AlgNone => json!({ "alg": "none", "typ": "JWT" }),
        Tweak::HsWithPublicKey => json!({ "alg": "HS256", "typ": "JWT", "kid": "k1" }),
        Tweak::UnknownKid | Tweak::RotatedKey => {
            json!({ "alg": "RS256", "typ": "JWT", "kid": "k2" })
        }
        Tweak::UnadvertisedAlg => json!({ "alg": "RS384", "typ": "JWT", "kid": "k1" }),
        Tweak::EmbeddedJwk => json!({
            "alg": "RS256", "typ": "JWT", "kid": ATTACKER_KID,
            "jwk": super::endpoints::jwk(&s.other_key, ATTACKER_KID),
        }),
        Tweak::Jku => json!({
            "alg": "RS256", "typ": "JWT", "kid": ATTACKER_KID,
            "jku": format!("{}/attacker/jwks", s.issuer),
        }),
        Tweak::X5u => json!({
            "alg": "RS256", "typ": "JWT", "kid": ATTACKER_KID,
            "x5u": format!("{}/attacker/x5u", s.issuer),
        }),
        Tweak::LogoutToken => json!({ "alg": "RS256", "typ": "logout+jwt", "kid": "k1" }),
        _ => json!({ "alg": "RS256", "typ": "JWT", "kid": "k1" }),
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Vec<u8> = match g.tweak {
        Tweak::AlgNone => vec![],
        Tweak::HsWithPublicKey => {
            // The classic confusion attack: HMAC keyed with the IdP's (public) RSA key.
            let pem = s
                .key
                .to_public_key()
                .to_public_key_pem(Default::default())
                .expect("pem");
            let mut mac = Hmac::<Sha256>::new_from_slice(pem.as_bytes()).expect("hmac key");
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Tweak::UnknownKid | Tweak::RotatedKey | Tweak::EmbeddedJwk | Tweak::Jku | Tweak::X5u => {
            sign(&s.other_key, &signing_input)
        }
        Tweak::UnadvertisedAlg => SigningKey::<Sha384>::new(s.key.clone())
            .sign(signing_input.as_bytes())
            .to_vec(),
        Tweak::TamperedSignature => {
            let mut sig = sign(&s.key, &signing_input);
            sig[10] ^= 0xff;
            sig
        }
        _ => sign(&s.key, &signing_input),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

pub(super) fn sign(key: &RsaPrivateKey, input: &str) -> Vec<u8> {
    SigningKey::<Sha256>::new(key.clone())
        .sign(input.as_bytes())
        .to_vec()
}

/// The ID token of a refresh answer: no nonce, a changed `name`, for `sub`.
pub(super) fn refreshed_id_token(s: &IdpState, sub: &str) -> String {
    let t = now();
    let claims = json!({
        "iss": s.issuer, "sub": sub, "aud": CLIENT_ID, "iat": t, "exp": t + 300,
        "name": "Ada King",
    });
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "k1" });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sign(&s.key, &input)))
}

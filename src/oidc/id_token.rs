//! Step (E): ID token validation with `openidconnect`'s verifier (signature by the IdP's JWKS,
//! `iss`, `aud`, `exp`), restricted to the IdP's asymmetric algorithms, plus what the crate leaves
//! to clients: `azp`, `iat` not in the future, `nbf` not in the future, and, at login, `nonce`
//! and `auth_time` within `max_age` when one was requested. ID tokens from a refresh are held to
//! the same rules but the nonce (OpenID Connect Core 12.2); their `sub` is compared by the caller.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJwsSigningAlgorithm,
};
use openidconnect::{ClaimsVerificationError, ClientId, Nonce, SignatureVerificationError};

use super::metadata::Loaded;
use super::{OidcError, Provider};
use crate::support::{now_unix, read};

/// Allowed clock skew for `iat` in the future and for `auth_time` (ID and logout tokens).
pub(super) const IAT_FUTURE_SKEW_SECS: i64 = 300;

/// RFC 7519 4.1.5, which openidconnect does not check: a token is not accepted before its `nbf`
/// (with the skew allowed for `iat`). A non-numeric `nbf` is never valid. ID and logout tokens.
pub(super) fn not_valid_yet(claims: &serde_json::Map<String, serde_json::Value>, now: i64) -> bool {
    claims.get("nbf").is_some_and(|n| {
        n.as_f64()
            .is_none_or(|n| n > now.saturating_add(IAT_FUTURE_SKEW_SECS) as f64)
    })
}

/// What an ID token is checked against besides the IdP and this client.
pub(super) enum IdTokenCheck<'a> {
    /// From a login: its `nonce`, and `auth_time` no older than `max_age` when it was sent.
    Login {
        nonce: &'a str,
        max_age: Option<u64>,
    },
    /// From a refresh: no nonce.
    Refresh,
}

impl Provider {
    fn verifier(&self, loaded: &Loaded, max_age: Option<u64>) -> CoreIdTokenVerifier<'static> {
        let jwks = (*read(&self.jwks).clone()).clone();
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.client_id.clone()),
            loaded.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(loaded.id_token_algs.clone())
        .set_issue_time_verifier_fn(|iat| {
            if iat.timestamp() > now_unix() + IAT_FUTURE_SKEW_SECS {
                Err("issued in the future".into())
            } else {
                Ok(())
            }
        })
        .set_auth_time_verifier_fn(move |auth_time| match (max_age, auth_time) {
            (None, _) => Ok(()),
            (Some(_), None) => Err("no auth_time, but max_age was requested".into()),
            (Some(max), Some(t)) => {
                let max = i64::try_from(max).unwrap_or(i64::MAX);
                if t.timestamp()
                    .saturating_add(max)
                    .saturating_add(IAT_FUTURE_SKEW_SECS)
                    < now_unix()
                {
                    Err("auth_time is older than max_age".into())
                } else {
                    Ok(())
                }
            }
        })
    }

    /// Validates signature (refetching the JWKS once, rate-limited, for an unknown key id), `iss`,
    /// `aud`, `azp`, `exp`, `iat`, and per `check` the `nonce` and `auth_time`; returns all
    /// claims of the token.
    pub(super) async fn validate_id_token(
        &self,
        loaded: &Loaded,
        raw: &str,
        check: IdTokenCheck<'_>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
        // Parsing reads the claims: a token without `sub`, or with claims of the wrong type,
        // fails here.
        let token: CoreIdToken = serde_json::from_value(serde_json::Value::String(raw.to_owned()))
            .map_err(|e| OidcError::InvalidIdToken(format!("unreadable ID token: {e}")))?;
        refused_alg(raw, &loaded.id_token_algs)?;
        let (nonce, max_age) = match check {
            IdTokenCheck::Login { nonce, max_age } => (Some(Nonce::new(nonce.to_owned())), max_age),
            IdTokenCheck::Refresh => (None, None),
        };
        let azp = |c: &CoreIdTokenClaims| c.authorized_party().map(|a| a.to_string());
        let verify = |verifier: &CoreIdTokenVerifier<'static>| match &nonce {
            Some(n) => token.claims(verifier, n).map(azp),
            None => token.claims(verifier, |_: Option<&Nonce>| Ok(())).map(azp),
        };
        let first = verify(&self.verifier(loaded, max_age));
        let azp = match first {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refetch_jwks(loaded).await => verify(&self.verifier(loaded, max_age)),
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
        // OIDC Core 3.1.3.7 step 5, which openidconnect leaves to the client: a present `azp`
        // must be this client. (Extra untrusted audiences are already refused by the verifier.)
        if azp.is_some_and(|a| a != self.client_id) {
            return Err(OidcError::InvalidIdToken("`azp` is not this client".into()));
        }
        let claims = payload_claims(raw)
            .ok_or_else(|| OidcError::InvalidIdToken("unreadable payload".into()))?;
        if not_valid_yet(&claims, now_unix()) {
            return Err(OidcError::InvalidIdToken("not valid yet (`nbf`)".into()));
        }
        Ok(claims)
    }
}

/// An ID token signed with an algorithm Vestibule does not accept: an error that names it and
/// says what to change. Some IdPs sign with HS256 (the client secret as key) by default; the
/// operator reads this page, not the code.
fn refused_alg(raw: &str, allowed: &[CoreJwsSigningAlgorithm]) -> Result<(), OidcError> {
    #[derive(serde::Deserialize)]
    struct Header {
        alg: String,
    }
    let Some(Header { alg }) = raw.split('.').next().and_then(decode_json) else {
        return Ok(());
    };
    let name = |a: &CoreJwsSigningAlgorithm| {
        serde_json::to_value(a)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    if allowed
        .iter()
        .any(|a| name(a).as_deref() == Some(alg.as_str()))
    {
        return Ok(());
    }
    let alg: String = alg
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    let accepted: Vec<String> = allowed.iter().filter_map(name).collect();
    let why = if alg.starts_with("HS") {
        "a shared-secret (HMAC) algorithm, which a confidential BFF never accepts"
    } else if alg.eq_ignore_ascii_case("none") {
        "no signature at all"
    } else {
        "an algorithm the IdP does not advertise for ID tokens"
    };
    Err(OidcError::InvalidIdToken(format!(
        "it is signed with {alg:?}, {why}; set the IdP client's ID token signature algorithm to \
         one of {} (e.g. RS256 or ES256)",
        accepted.join(", ")
    )))
}

/// The claims of a compact JWS whose signature was already verified.
fn payload_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    decode_json(jwt.split('.').nth(1)?)
}

/// A base64url JSON segment of a JWS.
pub(super) fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

//! OIDC Back-Channel Logout 1.0 logout tokens, checked offline against a given key set
//! ([`check`], which the fuzz target drives). [`Provider::validate_logout_token`] supplies the
//! cached JWKS and refetches it once when no key verifies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};

use super::id_token::{IAT_FUTURE_SKEW_SECS, decode_json, not_valid_yet};
use super::{LogoutTokenError, OidcError, Provider};
use crate::support::{now_unix, read};

/// How old a logout token's `iat` may be (and the replay window of its `jti`).
pub const MAX_AGE_SECS: i64 = 600;
const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What a valid logout token names.
#[derive(Debug)]
pub struct LogoutTarget {
    pub sid: Option<String>,
    pub sub: Option<String>,
    pub jti: String,
}

/// Who must have issued the token, to whom, with which algorithms.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Asymmetric algorithms only (never `none` or HMAC).
    pub algs: &'a [CoreJwsSigningAlgorithm],
}

impl Provider {
    /// Validates a back-channel logout token (see [`check`]) against the cached JWKS, refetching
    /// it once (rate-limited) when no key verifies the signature. Replay of `jti` is the
    /// caller's to check.
    pub async fn validate_logout_token(&self, jwt: &str) -> Result<LogoutTarget, OidcError> {
        let loaded = self.loaded()?;
        let expected = Expected {
            issuer: loaded.issuer.as_str(),
            client_id: &self.client_id,
            algs: &loaded.id_token_algs,
        };
        let now = now_unix();
        let jwks = read(&self.jwks).clone();
        let result = match check(jwt, &expected, &jwks, now) {
            Err(LogoutTokenError::Signature) if self.refetch_jwks(&loaded).await => {
                let jwks = read(&self.jwks).clone();
                check(jwt, &expected, &jwks, now)
            }
            other => other,
        };
        result.map_err(OidcError::InvalidLogoutToken)
    }
}

/// Validates a logout token: compact JWS with an allowed algorithm, signature by a key of `jwks`
/// (matching `kid` when given; the check is `openidconnect`'s), `iss`, `aud`, `iat` fresh, `exp`
/// and `nbf` when present, `jti`, the back-channel `events` member, `sid` and/or `sub`, and no
/// `nonce`. Replay of `jti` is the caller's to check (it needs the shared store).
pub fn check(
    jwt: &str,
    expected: &Expected<'_>,
    jwks: &CoreJsonWebKeySet,
    now: i64,
) -> Result<LogoutTarget, LogoutTokenError> {
    use LogoutTokenError::Invalid;
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Invalid("not a compact JWS"));
    };
    let header: serde_json::Value = decode_json(h).ok_or(Invalid("unreadable header"))?;
    let alg: CoreJwsSigningAlgorithm =
        serde_json::from_value(header["alg"].clone()).map_err(|_| Invalid("unknown alg"))?;
    if !expected.algs.contains(&alg) {
        return Err(Invalid("algorithm not allowed"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| Invalid("unreadable signature"))?;
    let kid = header["kid"].as_str();
    let message = &jwt.as_bytes()[..h.len() + 1 + p.len()];
    let verified = jwks
        .keys()
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid)))
        .any(|k| k.verify_signature(&alg, message, &signature).is_ok());
    if !verified {
        return Err(LogoutTokenError::Signature);
    }
    let claims: serde_json::Map<String, serde_json::Value> =
        decode_json(p).ok_or(Invalid("unreadable claims"))?;
    check_claims(&claims, expected, now)
}

/// The claim rules alone, for claims whose signature [`check`] has verified.
pub fn check_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
    expected: &Expected<'_>,
    now: i64,
) -> Result<LogoutTarget, LogoutTokenError> {
    use LogoutTokenError::Invalid;
    if claims.get("iss").and_then(|v| v.as_str()) != Some(expected.issuer) {
        return Err(Invalid("iss"));
    }
    if !names_audience(claims, expected.client_id) {
        return Err(Invalid("aud"));
    }
    check_times(claims, now)?;
    let jti = claims
        .get("jti")
        .and_then(|v| v.as_str())
        .filter(|j| !j.is_empty())
        .ok_or(Invalid("jti"))?;
    if !claims
        .get("events")
        .and_then(|e| e.get(BACKCHANNEL_EVENT))
        .is_some_and(|m| m.is_object())
    {
        return Err(Invalid("events has no back-channel logout member"));
    }
    if claims.contains_key("nonce") {
        return Err(Invalid("a logout token must not have a nonce"));
    }
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(Invalid("neither sid nor sub"));
    }
    Ok(LogoutTarget {
        sid,
        sub,
        jti: jti.to_owned(),
    })
}

/// `aud` is the client id, or an array holding it.
fn names_audience(claims: &serde_json::Map<String, serde_json::Value>, client_id: &str) -> bool {
    match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    }
}

/// `iat` present and fresh (at most [`MAX_AGE_SECS`] old, not from the future beyond the skew);
/// `exp` and `nbf`, when present, hold at `now`.
fn check_times(
    claims: &serde_json::Map<String, serde_json::Value>,
    now: i64,
) -> Result<(), LogoutTokenError> {
    use LogoutTokenError::Invalid;
    match claims.get("iat").and_then(|v| v.as_i64()) {
        Some(iat)
            if iat >= now.saturating_sub(MAX_AGE_SECS)
                && iat <= now.saturating_add(IAT_FUTURE_SKEW_SECS) => {}
        _ => return Err(Invalid("iat missing or not fresh")),
    }
    if claims
        .get("exp")
        .is_some_and(|e| e.as_i64().is_none_or(|e| e <= now))
    {
        return Err(Invalid("expired"));
    }
    if not_valid_yet(claims, now) {
        return Err(Invalid("not valid yet (nbf)"));
    }
    Ok(())
}

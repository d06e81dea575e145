//! The access token a route sends upstream: by the route's policy, and refreshed first when it
//! is about to expire (exactly once per session, see `session::refresh`); and refreshed after the
//! fact when an upstream refuses it as `invalid_token` (IdPs that give no `expires_in` leave no
//! other way to know).

use std::sync::Arc;

use actix_web::HttpRequest;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

use super::ProxyError;
use crate::AppState;
use crate::config::TokenPolicy;
use crate::session::Session;

/// A signed-in user's token, with the session it came from.
pub(super) struct UserToken {
    session_id: String,
    session: Arc<Session>,
}

impl UserToken {
    pub(super) fn bearer(&self) -> &str {
        &self.session.access_token
    }
}

/// `None` for `token = "none"`, and for `optional` without a session; 401 for `required`
/// without one.
pub(super) async fn access_token(
    state: &AppState,
    req: &HttpRequest,
    policy: TokenPolicy,
) -> Result<Option<UserToken>, ProxyError> {
    if policy == TokenPolicy::None {
        return Ok(None);
    }
    match state.sessions.load(req).await? {
        Some((session_id, session)) => {
            let session = state
                .sessions
                .ensure_fresh(&session_id, session, &state.oidc)
                .await?;
            Ok(Some(UserToken {
                session_id,
                session,
            }))
        }
        None if policy == TokenPolicy::Required => Err(ProxyError::Unauthenticated),
        None => Ok(None),
    }
}

/// After the upstream refused `token`: a new one, or `None` when there is none to be had (the
/// session has no refresh token).
pub(super) async fn refreshed(
    state: &AppState,
    token: &UserToken,
) -> Result<Option<UserToken>, ProxyError> {
    let session = state
        .sessions
        .refresh_rejected(
            &token.session_id,
            token.session.clone(),
            token.bearer(),
            &state.oidc,
        )
        .await?;
    Ok((session.access_token != token.bearer()).then(|| UserToken {
        session_id: token.session_id.clone(),
        session,
    }))
}

/// RFC 6750 3.1: the upstream says the bearer token is expired, revoked or otherwise bad.
pub(super) fn rejects_token(headers: &HeaderMap) -> bool {
    headers.get_all(WWW_AUTHENTICATE).iter().any(|v| {
        let v = v.as_bytes().to_ascii_lowercase();
        v.starts_with(b"bearer")
            && (contains(&v, b"error=\"invalid_token\"") || contains(&v, b"error=invalid_token"))
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests;

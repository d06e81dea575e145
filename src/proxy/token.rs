//! The access token a route sends upstream: by the route's policy, and refreshed first when it
//! is about to expire (exactly once per session, see `session::refresh`).

use actix_web::HttpRequest;

use super::ProxyError;
use crate::AppState;
use crate::config::TokenPolicy;

/// `None` for `token = "none"`, and for `optional` without a session; 401 for `required`
/// without one.
pub(super) async fn access_token(
    state: &AppState,
    req: &HttpRequest,
    policy: TokenPolicy,
) -> Result<Option<String>, ProxyError> {
    if policy == TokenPolicy::None {
        return Ok(None);
    }
    match state.sessions.load(req).await? {
        Some((id, session)) => {
            let session = state
                .sessions
                .ensure_fresh(&id, session, &state.oidc)
                .await?;
            Ok(Some(session.access_token.clone()))
        }
        None if policy == TokenPolicy::Required => Err(ProxyError::Unauthenticated),
        None => Ok(None),
    }
}

//! The signed-in user's own sessions (same `sub`): `GET /auth/sessions` lists them (opaque
//! handles, never store ids or cookie values), `DELETE /auth/sessions/{handle}` ends one, and
//! `POST /auth/sessions/end-others` ends all but the caller's. Ended sessions end on every
//! replica at once, their refresh tokens are revoked at the IdP, and their event streams hear
//! `session_ended` with reason `revoked`. The CSRF rules are `/auth/session`'s.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AuthError;
use super::listed::listed_json;
use super::session_info::signed_in;
use crate::CurrentApp;
use crate::session::{EndReason, Slide};

/// `GET /auth/sessions`.
pub async fn list(state: CurrentApp, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    let (id, session) = signed_in(&state, &req, Slide::Yes).await?;
    let listed = state.sessions.sessions_of(&session.sub, Some(&id)).await?;
    let sessions: Vec<_> = listed.iter().map(listed_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions })))
}

/// `DELETE /auth/sessions/{handle}`: 204, or 404 `session_not_found` for a handle that is not
/// one of this user's live sessions. Ending the caller's own session signs this browser out.
pub async fn end_one(
    state: CurrentApp,
    req: HttpRequest,
    handle: web::Path<String>,
) -> Result<HttpResponse, AuthError> {
    let (_, session) = signed_in(&state, &req, Slide::Yes).await?;
    let tokens = state
        .sessions
        .end_by_handle(&session.sub, &handle, EndReason::Revoked)
        .await?
        .ok_or(AuthError::NoSuchSession)?;
    state.oidc.revoke_all(&tokens).await;
    tracing::info!(ended = 1, "session ended by its user");
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /auth/sessions/end-others`: 200 `{"ended": n}`.
pub async fn end_others(state: CurrentApp, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    let (id, session) = signed_in(&state, &req, Slide::Yes).await?;
    let (ended, tokens) = state
        .sessions
        .end_others(&session.sub, &id, EndReason::Revoked)
        .await?;
    state.oidc.revoke_all(&tokens).await;
    tracing::info!(ended, "other sessions ended by their user");
    Ok(HttpResponse::Ok().json(json!({ "ended": ended })))
}

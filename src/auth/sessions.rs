//! The signed-in user's own sessions (same `sub`): `GET /auth/sessions` lists them (opaque
//! handles, never store ids or cookie values), `DELETE /auth/sessions/{handle}` ends one, and
//! `POST /auth/sessions/end-others` ends all but the caller's. Ended sessions end on every
//! replica at once, their refresh tokens are revoked at the IdP, and their event streams hear
//! `session_ended` with reason `revoked`. The CSRF rules are `/auth/session`'s.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AuthError;
use super::session_info::signed_in;
use crate::AppState;
use crate::session::{EndReason, Listed, Slide};

/// One listed session, as JSON (shared with the admin API). A session whose registry entry
/// cannot be opened (see `session::registry`) is still listed, so it can be ended: `"device":
/// "unknown"`, and `null` for what only the entry knows (`created_at`, `absolute_expires_at`,
/// `user_agent`, `ip`).
pub fn listed_json(l: &Listed) -> serde_json::Value {
    json!({
        "handle": l.handle,
        "device": if l.device.is_some() { "known" } else { "unknown" },
        "created_at": l.created_at,
        "last_seen": l.last_seen,
        "idle_expires_at": l.idle_expires_at,
        "absolute_expires_at": l.absolute_expires_at,
        "user_agent": l.device.as_ref().map(|d| &d.user_agent),
        "ip": l.device.as_ref().map(|d| &d.ip),
        "current": l.current,
    })
}

/// `GET /auth/sessions`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    let (id, session) = signed_in(&state, &req, Slide::Yes).await?;
    let listed = state.sessions.sessions_of(&session.sub, Some(&id)).await?;
    let sessions: Vec<_> = listed.iter().map(listed_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions })))
}

/// `DELETE /auth/sessions/{handle}`: 204, or 404 `session_not_found` for a handle that is not
/// one of this user's live sessions. Ending the caller's own session signs this browser out.
pub async fn end_one(
    state: web::Data<AppState>,
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
pub async fn end_others(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AuthError> {
    let (id, session) = signed_in(&state, &req, Slide::Yes).await?;
    let (ended, tokens) = state
        .sessions
        .end_others(&session.sub, &id, EndReason::Revoked)
        .await?;
    state.oidc.revoke_all(&tokens).await;
    tracing::info!(ended, "other sessions ended by their user");
    Ok(HttpResponse::Ok().json(json!({ "ended": ended })))
}

//! `GET /auth/session[?slide=false]`: who is signed in, for the SPA. Never a token. With
//! `slide=false` (a poll) the answer does not extend the idle timeout.

use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::AuthError;
use super::query::single;
use std::sync::Arc;

use crate::CurrentApp;
use crate::session::{EndReason, Session, Slide};
use crate::{AppState, ConfigRemoved, csrf};

/// The caller's session id and session, for the endpoints that serve the signed-in SPA (this
/// one, the session list, the event stream): their CSRF rules first, then 401 without a session
/// (saying why it ended, when the store remembers).
pub(super) async fn signed_in(
    state: &AppState,
    req: &HttpRequest,
    slide: Slide,
) -> Result<(String, Arc<Session>), AuthError> {
    csrf::check_call(&state.config, req)?;
    match state.sessions.load_with(req, slide).await? {
        Some(found) => Ok(found),
        None => Err(signed_out(state, req).await),
    }
}

/// The 401 of a request with no live session: `Ended` with the reason when its cookie names a
/// session the store remembers ending. Only this path pays the extra read, and a request without
/// a session cookie pays nothing.
async fn signed_out(state: &AppState, req: &HttpRequest) -> AuthError {
    if req.extensions().get::<ConfigRemoved>().is_some() {
        return AuthError::Ended(EndReason::ConfigRemoved);
    }
    let Some(id) = state.sessions.cookies().session_id(req) else {
        return AuthError::Unauthenticated;
    };
    match state.sessions.end_reason(&id).await {
        Ok(Some(reason)) => AuthError::Ended(reason),
        // The store did answer the load: a failure now only costs the reason.
        Ok(None) | Err(_) => AuthError::Unauthenticated,
    }
}

/// `GET /auth/session`: the signed-in user's `sub`, ID token claims, idle and absolute expiry,
/// and `logout_url`.
pub async fn session(state: CurrentApp, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    let slide = match single(&req, "slide")?.as_deref() {
        None | Some("true") => Slide::Yes,
        Some("false") => Slide::No,
        Some(_) => return Err(AuthError::InvalidParam("slide")),
    };
    let (id, session) = signed_in(&state, &req, slide).await?;
    let sessions = &state.sessions;
    let absolute = sessions.absolute_end(&session);
    let idle = match slide {
        // Just pushed by this very request.
        Slide::Yes => sessions.expires_at(&session),
        Slide::No => sessions
            .idle_end(&id)
            .await?
            .ok_or(AuthError::Unauthenticated)?,
    };
    let logout_url = format!(
        "{}/logout?token={}",
        state.config.server.auth_prefix, session.logout_token
    );
    Ok(HttpResponse::Ok().json(json!({
        "sub": session.sub,
        "claims": session.claims,
        "expires_at": idle.min(absolute),
        "idle_expires_at": idle.min(absolute),
        "absolute_expires_at": absolute,
        "logout_url": logout_url,
        "provider": state.config.oidc.name,
    })))
}

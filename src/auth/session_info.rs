//! `GET /auth/session`: who is signed in, for the SPA. Never a token.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AuthError;
use crate::{AppState, csrf};

/// `GET /auth/session`: the signed-in user's `sub`, ID token claims, expiry and `logout_url`.
pub async fn session(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AuthError> {
    csrf::check_call(&state.config, &req)?;
    let (_, session) = state
        .sessions
        .load(&req)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    let logout_url = format!(
        "{}/logout?token={}",
        state.config.server.auth_prefix, session.logout_token
    );
    Ok(HttpResponse::Ok().json(json!({
        "sub": session.sub,
        "claims": session.claims,
        "expires_at": state.sessions.expires_at(&session),
        "logout_url": logout_url,
    })))
}

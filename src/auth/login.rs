//! `GET /auth/login?return_to=/path`: step (A), sending the browser to the IdP.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{AuthError, query_param, return_to};
use crate::AppState;
use crate::error::PageError;
use crate::session::{PendingLogin, now_unix};

pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let result = start(&state, &req).await;
    let outcome = if result.is_ok() { "started" } else { "error" };
    crate::telemetry::metrics::METRICS
        .logins
        .with_label_values(&[outcome])
        .inc();
    result
}

async fn start(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, PageError> {
    let (raw_return_to, _) = query_param(req, "return_to");
    let return_to = return_to::sanitize(raw_return_to.as_deref());
    let auth = state
        .oidc
        .authorization_request()
        .map_err(AuthError::from)?;
    let binding = state.sessions.login_binding(req);
    let pending = PendingLogin {
        nonce: auth.nonce,
        pkce_verifier: auth.pkce_verifier,
        return_to,
        created_at: now_unix(),
    };
    state
        .sessions
        .save_pending(&binding, &auth.state, &pending)
        .await
        .map_err(AuthError::from)?;
    tracing::info!("login started");
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, auth.url.as_str()))
        .cookie(state.sessions.login_cookie(&binding))
        .finish())
}

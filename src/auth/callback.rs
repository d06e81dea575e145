//! `GET /auth/callback?code&state[&iss]`: steps (C) to (E). The state is consumed whatever
//! happens next; only a fully validated login mints a session, always under a new id.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AuthError;
use super::query::{query_param, single};
use crate::AppState;
use crate::error::PageError;
use crate::session::{Session, crypto};
use crate::support::{Chain, now_unix, secs, unix_after};

/// `GET /auth/callback`: 302 to the login's `return_to` with a new session cookie.
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let result = finish(&state, &req).await;
    let outcome = match &result {
        Ok(_) => {
            tracing::info!(result = "success", "login callback");
            "success"
        }
        Err(e) => {
            tracing::warn!(result = "failure", error = %Chain(e), "login callback");
            "failure"
        }
    };
    crate::telemetry::metrics::METRICS
        .callbacks
        .with_label_values(&[outcome])
        .inc();
    result.map_err(PageError::from)
}

async fn finish(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AuthError> {
    let st = single(req, "state")?;
    let code = single(req, "code")?;
    let iss = single(req, "iss")?;
    let idp_error = single(req, "error")?;
    let st = st
        .filter(|s| !s.is_empty())
        .ok_or(AuthError::MissingState)?;
    let cookies = state.sessions.cookies();
    let pending = state
        .sessions
        .pending()
        .take(cookies.login_binding(req).as_deref(), &st)
        .await?;

    if let Some(error) = idp_error {
        let (description, _) = query_param(req, "error_description");
        return Err(AuthError::Idp { error, description });
    }
    state.oidc.check_response_issuer(iss.as_deref())?;
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or(AuthError::MissingCode)?;

    let tokens = state
        .oidc
        .finish_login(code, pending.pkce_verifier, &pending.nonce)
        .await?;
    let session = Session {
        sub: tokens.sub,
        sid: tokens.sid,
        claims: tokens.claims,
        id_token: tokens.id_token,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        access_expires_at: tokens.access_expires_in.map(unix_after),
        access_lifetime: tokens.access_expires_in.map(secs),
        created_at: now_unix(),
        logout_token: crypto::random_token(),
    };
    // Never reuse a pre-login id: end whatever session this browser had, mint a new one.
    if let Some(old) = cookies.session_id(req) {
        state.sessions.end(&old).await?;
    }
    let id = state.sessions.create(session).await?;
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, pending.return_to))
        .cookie(cookies.session(&id))
        .finish())
}

//! `GET /auth/login?return_to=/path[&prompt=…&login_hint=…]`: step (A), sending the browser to
//! the IdP, with the login parameters `[oidc] login_params` allows (see `login_params`). The
//! login is remembered as a pending login bound to this browser's login cookie (see
//! `session::pending`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::query::{query_param, single};
use std::sync::Arc;

use super::{AuthError, PageError, chooser, login_params, login_rate, return_to};
use crate::CurrentApp;
use crate::crypto;
use crate::session::PendingLogin;
use crate::support::now_unix;
use crate::{App, AppState};

/// `GET /auth/login`: 302 to the IdP's authorization endpoint.
pub async fn login(
    state: CurrentApp,
    app: web::ReqData<Arc<App>>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    // The provider it names (of this app only), its default, or the chooser.
    let state = match single(&req, "provider")? {
        Some(name) => app
            .provider(&name)
            .cloned()
            .ok_or(AuthError::UnknownProvider)?,
        None if app.default.is_none() => {
            return Ok(chooser::page(&app, &req, &state.config.server.auth_prefix));
        }
        None => app.first().clone(),
    };
    let result = start(&state, &req).await;
    let outcome = if result.is_ok() { "started" } else { "error" };
    crate::telemetry::metrics::METRICS
        .logins
        .with_label_values(&[outcome])
        .inc();
    result.map_err(PageError::from)
}

async fn start(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AuthError> {
    let (raw_return_to, _) = query_param(req, "return_to");
    let return_to = return_to::sanitize(raw_return_to.as_deref());
    let login = login_params::read(req, &state.config.oidc.login_params)?;
    if state.oidc.uses_par() {
        let client = login_rate::client_address(req, state.config.server.forwarded_hops);
        if client.is_some_and(|c| !state.login_rate.take(c)) {
            tracing::warn!("login refused: logins_per_minute reached for this client");
            return Err(AuthError::TooManyLogins);
        }
    }
    let auth = state.oidc.authorization_request(&login.params).await?;
    let cookies = state.sessions.cookies();
    // Reused when present, so several tabs can log in at once.
    let binding = cookies
        .login_binding(req)
        .unwrap_or_else(crypto::random_token);
    let step_up = (login.acr_values.is_some() || login.max_age.is_some())
        && state.sessions.load(req).await?.is_some();
    let pending = PendingLogin {
        nonce: auth.nonce,
        pkce_verifier: auth.pkce_verifier,
        return_to,
        created_at: now_unix(),
        prompt_none: login.prompt_none,
        max_age: login.max_age,
        acr_values: login.acr_values,
        step_up,
        replaces: cookies
            .session_id(req)
            .map(|id| state.sessions.session_key(&id)),
    };
    state
        .sessions
        .pending()
        .save(&binding, &auth.state, &pending)
        .await?;
    tracing::info!("login started");
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, auth.url.as_str()))
        .cookie(cookies.login(&binding))
        .finish())
}

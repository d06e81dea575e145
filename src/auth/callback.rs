//! `GET /auth/callback?code&state[&iss]`: steps (C) to (E). The state is consumed whatever
//! happens next; only a fully validated login mints a session, always under a new id.
//!
//! Two answers go back to the SPA instead of an error page, as query parameters on `return_to`:
//! a silent login (`prompt=none`) the IdP could not complete comes back anonymous with
//! `login_error=login_required` (or `interaction_required`, `consent_required`,
//! `account_selection_required`); a login whose `acr` is none of the `acr_values` asked for
//! comes back signed in with `login_warning=acr_not_satisfied`, unless it was a step-up (started
//! from a live session, see `proxy::step_up`): then it comes back with
//! `login_error=acr_not_satisfied` and the session stays as it was, not upgraded.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::query::{query_param, single};
use super::{AuthError, PageError};

use crate::oidc::{LoginCheck, LoginTokens};
use crate::session::{Device, PendingLogin, Session};
use crate::support::Chain;
use crate::{App, AppState, CurrentApp};

/// `GET /auth/callback`: 302 to the login's `return_to` with a new session cookie.
pub async fn callback(
    state: CurrentApp,
    app: web::ReqData<Arc<App>>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let result = finish(&state, &req).await;
    let outcome = match &result {
        Ok(Finished::SignedIn(_)) => {
            tracing::info!(result = "success", "login callback");
            end_other_providers_session(&app, &state, &req).await;
            "success"
        }
        Ok(Finished::NotUpgraded(_)) => {
            tracing::info!(
                result = "step_up_refused",
                "login callback: the step-up login did not reach the acr asked for"
            );
            "step_up_refused"
        }
        Ok(Finished::Anonymous { error, .. }) => {
            tracing::info!(
                result = "no_session",
                error,
                "login callback: silent login refused"
            );
            "no_session"
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
    match result {
        Ok(
            Finished::SignedIn(res) | Finished::NotUpgraded(res) | Finished::Anonymous { res, .. },
        ) => Ok(res),
        Err(e) => Err(PageError::from(e)),
    }
}

/// How a callback that is not an error ended.
enum Finished {
    SignedIn(HttpResponse),
    /// A step-up that did not reach the `acr` asked for: back to the SPA, the session unchanged.
    NotUpgraded(HttpResponse),
    /// A silent login the IdP could not complete: back to the SPA, anonymous.
    Anonymous {
        error: &'static str,
        res: HttpResponse,
    },
}

/// The IdP's answers to `prompt=none` that mean "not without the user" (Core 3.1.2.6).
const SILENT_REFUSALS: [&str; 4] = [
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

async fn finish(state: &AppState, req: &HttpRequest) -> Result<Finished, AuthError> {
    let st = single(req, "state")?;
    let code = single(req, "code")?;
    let iss = single(req, "iss")?;
    let idp_error = single(req, "error")?;
    let st = st
        .filter(|s| !s.is_empty())
        .ok_or(AuthError::MissingState)?;
    let pending = state
        .sessions
        .pending()
        .take(state.sessions.cookies().login_binding(req).as_deref(), &st)
        .await?;

    if let Some(error) = idp_error {
        return refused_by_idp(req, &pending, error);
    }
    state.oidc.check_response_issuer(iss.as_deref())?;
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or(AuthError::MissingCode)?;

    let check = LoginCheck {
        nonce: &pending.nonce,
        max_age: pending.max_age,
        acr_values: pending.acr_values.as_deref(),
    };
    let tokens = state
        .oidc
        .finish_login(code, pending.pkce_verifier.clone(), &check)
        .await?;
    if pending.step_up && tokens.acr_satisfied == Some(false) {
        return Ok(not_upgraded(state, &pending, &tokens).await);
    }
    let back = match tokens.acr_satisfied {
        Some(false) => with_param(&pending.return_to, "login_warning", "acr_not_satisfied"),
        _ => pending.return_to.clone(),
    };
    sign_in(state, req, &pending, tokens, &back).await
}

/// The IdP answered with an error: a silent login it could not complete goes back to the SPA
/// anonymous; anything else is an error page.
fn refused_by_idp(
    req: &HttpRequest,
    pending: &PendingLogin,
    error: String,
) -> Result<Finished, AuthError> {
    if let Some(silent) = SILENT_REFUSALS.iter().find(|s| **s == error)
        && pending.prompt_none
    {
        let back = with_param(&pending.return_to, "login_error", silent);
        return Ok(Finished::Anonymous {
            error: silent,
            res: redirect(&back).finish(),
        });
    }
    let (description, _) = query_param(req, "error_description");
    Err(AuthError::Idp { error, description })
}

/// A step-up whose login did not reach the `acr` asked for: its refresh token is revoked and the
/// session stays as it was.
async fn not_upgraded(state: &AppState, pending: &PendingLogin, tokens: &LoginTokens) -> Finished {
    if let Some(rt) = &tokens.refresh_token
        && let Err(e) = state.oidc.revoke_refresh_token(rt).await
    {
        tracing::warn!(error = %Chain(&e), "could not revoke the refused step-up's refresh token");
    }
    let back = with_param(&pending.return_to, "login_error", "acr_not_satisfied");
    Finished::NotUpgraded(redirect(&back).finish())
}

/// Mints the new session, ending (and revoking) whatever session this browser had, and sends it
/// back to `back` with its cookie.
async fn sign_in(
    state: &AppState,
    req: &HttpRequest,
    pending: &PendingLogin,
    tokens: LoginTokens,
    back: &str,
) -> Result<Finished, AuthError> {
    let session = Session::from_login(tokens);
    let cookies = state.sessions.cookies();
    // Never reuse a pre-login id: end whatever session this browser had, mint a new one.
    let mut replaced: Vec<String> = pending.replaces.clone().into_iter().collect();
    if let Some(old) = cookies.session_id(req) {
        replaced.push(state.sessions.session_key(&old));
    }
    replaced.dedup();
    let sid = session.sid.clone();
    let mut revoke = Vec::new();
    if !replaced.is_empty() {
        revoke = state
            .sessions
            .end_replaced(&replaced, sid.as_deref())
            .await?;
    }
    let created = state.sessions.create(session, Device::of(req)).await?;
    // A replaced session ends like a logout: its refresh token is revoked too.
    revoke.extend(created.replaced);
    state.oidc.revoke_all(&revoke).await;
    Ok(Finished::SignedIn(
        redirect(back).cookie(cookies.session(&created.id)).finish(),
    ))
}

/// A sign-in with one provider of an app replaces the session this browser had with another
/// (its cookie is overwritten): that one ends too, as `replaced`, and its provider revokes its
/// refresh token, rather than living on, unreachable, until its idle timeout.
async fn end_other_providers_session(app: &App, state: &Arc<AppState>, req: &HttpRequest) {
    for other in app.providers.iter().filter(|p| !Arc::ptr_eq(p, state)) {
        let Some(id) = other.sessions.cookies().session_id(req) else {
            continue;
        };
        let key = other.sessions.session_key(&id);
        match other.sessions.end_replaced(&[key], None).await {
            Ok(tokens) => other.oidc.revoke_all(&tokens).await,
            Err(e) => tracing::warn!(
                error = %Chain(&e),
                "login callback: the session of the provider before could not be ended"
            ),
        }
    }
}

fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Found();
    b.insert_header((header::LOCATION, location));
    b
}

/// `path` (a sanitised same-origin path, perhaps with a query and a fragment) with one more
/// query parameter, before the fragment. Names and values here are fixed codes.
fn with_param(path: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match path.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (path, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{name}={value}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests;

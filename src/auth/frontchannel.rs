//! `GET /auth/frontchannel-logout?iss=…&sid=…`: OIDC Front-Channel Logout 1.0. The IdP, having
//! ended its own session, loads this URL in an iframe of its logout page; every session of that
//! IdP session (`sid`) ends in the shared store, so every replica sees it. Nothing is revoked:
//! the IdP ended the grant itself, as with back-channel logout.
//!
//! Unlike a back-channel logout token, nothing here is signed, and any page can load this URL.
//! What keeps it from signing strangers out is the `sid`, which is not public (the IdP, the
//! session's ID token and the SPA hold it): so a call must name exactly our issuer and a live
//! IdP session of ours, or it ends nothing (400). With `oidc.frontchannel_logout_session_required = false`, a call that
//! names neither ends the session whose cookie it carries instead, but only when the browser
//! says it loads this URL in a frame of a same-site page (`Sec-Fetch-Dest: iframe`,
//! `Sec-Fetch-Site: same-site` or `same-origin`): the session cookie is `SameSite=Lax`, so a
//! cross-site top-level navigation carries it too, and any site could otherwise sign users out.
//!
//! The answer is a page the IdP frames: only the issuer's origin may frame it (`endpoints`
//! registers it apart from the scope that lets nobody frame anything).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AuthError;
use super::query::query_param;
use std::sync::Arc;

use crate::CurrentApp;
use crate::session::{EndReason, Slide};
use crate::support::Chain;
use crate::telemetry::metrics::METRICS;
use crate::{App, AppState};

/// What the IdP's iframe shows. The IdP's page hides it, or shows it as a list of sign-outs.
const SIGNED_OUT: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
                          <title>Signed out</title><p>Signed out.</p></html>";

/// Whose sessions a front-channel logout ends.
enum Target {
    /// Every session of this IdP session.
    Sid(String),
    /// Only the caller's own (no `iss` and `sid`, which the config allows).
    OwnSession,
}

/// `GET /auth/frontchannel-logout`: 200 and a page when sessions ended; 400 `invalid_request`
/// and nothing ended when the call names no live session of ours; 503 when the store is down.
pub async fn frontchannel_logout(
    state: CurrentApp,
    app: web::ReqData<Arc<App>>,
    req: HttpRequest,
) -> Result<HttpResponse, AuthError> {
    // The IdP names itself in `iss`: of an app's providers, the one it names ends its own
    // sessions, never another's.
    let state = match query_param(&req, "iss") {
        (Some(iss), false) => app
            .providers
            .iter()
            .find(|p| p.config.oidc.issuer == iss)
            .cloned()
            .unwrap_or_else(|| state.into_inner()),
        _ => state.into_inner(),
    };
    let ended = match target(&state, &req) {
        Ok(Target::Sid(sid)) => end_idp_session(&state, &sid).await,
        Ok(Target::OwnSession) => end_own_session(&state, &req).await,
        Err(why) => Err(AuthError::FrontchannelLogout(why)),
    };
    let result = match &ended {
        Ok(n) => {
            tracing::info!(ended = n, "front-channel logout");
            "success"
        }
        Err(AuthError::FrontchannelLogout(why)) => {
            tracing::warn!(error = %why, "front-channel logout refused");
            "invalid"
        }
        Err(e) => {
            tracing::warn!(error = %Chain(e), "front-channel logout: session store unavailable");
            "error"
        }
    };
    METRICS
        .frontchannel_logouts
        .with_label_values(&[result])
        .inc();
    ended.map(|_| signed_out_page(&state.config.oidc.issuer))
}

/// What the query names. OIDC Front-Channel Logout 1.0 section 2: with session required the IdP
/// sends `iss` and `sid`, and either one comes with the other.
fn target(state: &AppState, req: &HttpRequest) -> Result<Target, String> {
    let oidc = &state.config.oidc;
    match (param(req, "iss")?, param(req, "sid")?) {
        // Exactly as configured: the issuer is compared as a string, as in ID tokens.
        (Some(iss), Some(sid)) if iss == oidc.issuer => Ok(Target::Sid(sid)),
        (Some(_), Some(_)) => Err("`iss` is not this client's issuer".into()),
        (None, None) if !oidc.frontchannel_logout_session_required => Ok(Target::OwnSession),
        (None, None) => Err("missing `iss` and `sid` (session required)".into()),
        (Some(_), None) => Err("`iss` without `sid`".into()),
        (None, Some(_)) => Err("`sid` without `iss`".into()),
    }
}

/// A query parameter given at most once, and not empty when given.
fn param(req: &HttpRequest, name: &str) -> Result<Option<String>, String> {
    match query_param(req, name) {
        (_, true) => Err(format!("`{name}` appears more than once")),
        (Some(v), false) if v.is_empty() => Err(format!("`{name}` is empty")),
        (v, false) => Ok(v),
    }
}

/// Ends every session of IdP session `sid`; refused when there is none live.
async fn end_idp_session(state: &AppState, sid: &str) -> Result<usize, AuthError> {
    let (ended, _) = state
        .sessions
        .end_matching(Some(sid), None, EndReason::FrontchannelLogout)
        .await?;
    if ended == 0 {
        return Err(AuthError::FrontchannelLogout(
            "no live session of this IdP session".into(),
        ));
    }
    Ok(ended)
}

/// Ends the session of the cookie the call carries. The cookie is kept: the SPA's next call
/// with it learns why its session ended.
async fn end_own_session(state: &AppState, req: &HttpRequest) -> Result<usize, AuthError> {
    if !framed_by_same_site(req) {
        return Err(AuthError::FrontchannelLogout(
            "no `iss` and `sid`, and not a frame of a same-site page".into(),
        ));
    }
    let Some((id, _)) = state.sessions.load_with(req, Slide::No).await? else {
        return Err(AuthError::FrontchannelLogout(
            "no `iss` and `sid`, and no live session in the cookies".into(),
        ));
    };
    state
        .sessions
        .end(&id, EndReason::FrontchannelLogout)
        .await?;
    Ok(1)
}

/// Whether the browser loads this URL in a frame of a page of the app's own site (the IdP's
/// logout page, on a sibling host). A browser that sends no Fetch Metadata is refused: nothing
/// else tells a frame from a navigation.
fn framed_by_same_site(req: &HttpRequest) -> bool {
    let header = |name: &str| req.headers().get(name).map(|v| v.as_bytes());
    header("sec-fetch-dest") == Some(b"iframe".as_slice())
        && matches!(
            header("sec-fetch-site"),
            Some(b"same-site" | b"same-origin")
        )
}

/// The page, which only the issuer's origin may frame. `no-store` and the rest come from the
/// registration in `endpoints`.
fn signed_out_page(issuer: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, page_csp(issuer)))
        .body(SIGNED_OUT)
}

/// `default-src 'none'; frame-ancestors <the issuer's origin>`. The issuer was validated as an
/// http(s) URL with a host; were it not one, nobody may frame the page.
fn page_csp(issuer: &str) -> String {
    let ancestors = url::Url::parse(issuer)
        .ok()
        .map(|u| u.origin())
        .filter(url::Origin::is_tuple)
        .map_or_else(|| "'none'".to_owned(), |o| o.ascii_serialization());
    format!("default-src 'none'; frame-ancestors {ancestors}")
}

#[cfg(test)]
mod tests;

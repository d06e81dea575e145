//! `GET /admin/sessions?sub=…` (a user's live sessions), `DELETE /admin/sessions?sub=…` or
//! `?sid=…` (end them, revoking their refresh tokens; their SPAs hear `session_ended`, reason
//! `revoked`), `GET /admin/sessions/count` (live sessions of this deployment). Each needs
//! `Authorization: Bearer <server.admin_token>`, compared in constant time.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::AdminError;
use crate::auth::listed_json;
use crate::crypto::{ct_eq, hex};
use crate::session::EndReason;
use crate::{App, AppState, Process};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sessions", web::get().to(list))
        .route("/admin/sessions", web::delete().to(end))
        .route("/admin/sessions/count", web::get().to(count));
}

#[derive(Deserialize)]
struct Target {
    sub: Option<String>,
    sid: Option<String>,
    /// Which app (needed when there are several).
    app: Option<String>,
    /// Which of its providers (all when absent): a `sub` is one user at one provider only.
    provider: Option<String>,
}

#[derive(Deserialize)]
struct Which {
    app: Option<String>,
    provider: Option<String>,
}

/// The provider states of `app` that `provider` names: all of them when `None`.
fn providers_named(app: &App, provider: Option<&str>) -> Result<Vec<Arc<AppState>>, AdminError> {
    match provider {
        None => Ok(app.providers.clone()),
        Some(name) => app
            .provider(name)
            .map(|p| vec![p.clone()])
            .ok_or_else(|| AdminError::UnknownProvider(name.to_owned())),
    }
}

/// The app named by `app`, or the only one.
fn app_named(process: &Process, app: Option<&str>) -> Result<Arc<App>, AdminError> {
    let apps = process.apps.now();
    match app {
        Some(name) => apps
            .named(name)
            .cloned()
            .ok_or_else(|| AdminError::UnknownApp(name.to_owned())),
        None if apps.list.len() == 1 => Ok(apps.list[0].clone()),
        None => Err(AdminError::AppRequired),
    }
}

/// Who is calling, for the log: the peer and a fingerprint of the token (which token, when
/// several have been in use), never the token.
fn authorize(process: &Process, req: &HttpRequest) -> Result<String, AdminError> {
    let expected = process
        .config
        .server
        .admin_token
        .as_ref()
        .ok_or(AdminError::Disabled)?
        .expose_secret();
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .ok_or(AdminError::Unauthorized)?;
    if !ct_eq(given, expected) {
        tracing::warn!(peer = ?req.peer_addr(), "admin API: refused token");
        return Err(AdminError::Unauthorized);
    }
    let fingerprint = hex(&Sha256::digest(expected.as_bytes())[..4]);
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    Ok(format!("{peer} (token {fingerprint})"))
}

/// The token of a `Bearer` credential. The scheme is case-insensitive (RFC 9110 §11.1), so
/// `bearer` from a script is not a confusing 401; the token itself is compared exactly.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

/// A user's sessions in one app, with every provider's.
async fn list(
    process: web::Data<Process>,
    req: HttpRequest,
    target: web::Query<Target>,
) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&process, &req)?;
    let (Some(sub), None) = (&target.sub, &target.sid) else {
        return Err(AdminError::BadTarget);
    };
    let app = app_named(&process, target.app.as_deref())?;
    let mut sessions = Vec::new();
    for state in providers_named(&app, target.provider.as_deref())? {
        let listed = state.sessions.sessions_of(sub, None).await?;
        sessions.extend(listed.iter().map(|l| {
            let mut json = listed_json(l);
            json["provider"] = state.config.oidc.name.clone().into();
            json
        }));
    }
    tracing::info!(
        actor,
        action = "list_sessions",
        app = %app.name,
        sub,
        count = sessions.len(),
        "admin action"
    );
    Ok(HttpResponse::Ok().json(json!({ "sub": sub, "sessions": sessions })))
}

/// Ends the sessions of a user or an IdP session in one app; each provider revokes its own
/// refresh tokens.
async fn end(
    process: web::Data<Process>,
    req: HttpRequest,
    target: web::Query<Target>,
) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&process, &req)?;
    let (by, sid, sub) = match (&target.sub, &target.sid) {
        (Some(sub), None) => ("sub", None, Some(sub.as_str())),
        (None, Some(sid)) => ("sid", Some(sid.as_str()), None),
        _ => return Err(AdminError::BadTarget),
    };
    let app = app_named(&process, target.app.as_deref())?;
    let mut ended = 0;
    for state in providers_named(&app, target.provider.as_deref())? {
        let (n, tokens) = state
            .sessions
            .end_matching(sid, sub, EndReason::Revoked)
            .await?;
        state.oidc.revoke_all(&tokens).await;
        ended += n;
    }
    tracing::info!(
        actor,
        action = "end_sessions",
        app = %app.name,
        by,
        sub,
        sid,
        ended,
        "admin action"
    );
    Ok(HttpResponse::Ok().json(json!({ "ended": ended })))
}

async fn count(
    process: web::Data<Process>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&process, &req)?;
    let app = app_named(&process, which.app.as_deref())?;
    let mut live = 0;
    for state in providers_named(&app, which.provider.as_deref())? {
        live += state.sessions.count_live().await?;
    }
    tracing::info!(actor, action = "count_sessions", app = %app.name, live, "admin action");
    Ok(HttpResponse::Ok().json(json!({ "live": live })))
}

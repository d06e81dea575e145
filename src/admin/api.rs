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

use super::AdminError;
use crate::AppState;
use crate::auth::listed_json;
use crate::crypto::{ct_eq, hex};
use crate::session::EndReason;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sessions", web::get().to(list))
        .route("/admin/sessions", web::delete().to(end))
        .route("/admin/sessions/count", web::get().to(count));
}

#[derive(Deserialize)]
struct Target {
    sub: Option<String>,
    sid: Option<String>,
}

/// Who is calling, for the log: the peer and a fingerprint of the token (which token, when
/// several have been in use), never the token.
fn authorize(state: &AppState, req: &HttpRequest) -> Result<String, AdminError> {
    let expected = state
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

async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    target: web::Query<Target>,
) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&state, &req)?;
    let (Some(sub), None) = (&target.sub, &target.sid) else {
        return Err(AdminError::BadTarget);
    };
    let listed = state.sessions.sessions_of(sub, None).await?;
    tracing::info!(
        actor,
        action = "list_sessions",
        sub,
        count = listed.len(),
        "admin action"
    );
    let sessions: Vec<_> = listed.iter().map(listed_json).collect();
    Ok(HttpResponse::Ok().json(json!({ "sub": sub, "sessions": sessions })))
}

async fn end(
    state: web::Data<AppState>,
    req: HttpRequest,
    target: web::Query<Target>,
) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&state, &req)?;
    let (by, sid, sub) = match (&target.sub, &target.sid) {
        (Some(sub), None) => ("sub", None, Some(sub.as_str())),
        (None, Some(sid)) => ("sid", Some(sid.as_str()), None),
        _ => return Err(AdminError::BadTarget),
    };
    let (ended, tokens) = state
        .sessions
        .end_matching(sid, sub, EndReason::Revoked)
        .await?;
    state.oidc.revoke_all(&tokens).await;
    tracing::info!(
        actor,
        action = "end_sessions",
        by,
        sub,
        sid,
        ended,
        "admin action"
    );
    Ok(HttpResponse::Ok().json(json!({ "ended": ended })))
}

async fn count(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AdminError> {
    let actor = authorize(&state, &req)?;
    let live = state.sessions.count_live().await?;
    tracing::info!(actor, action = "count_sessions", live, "admin action");
    Ok(HttpResponse::Ok().json(json!({ "live": live })))
}

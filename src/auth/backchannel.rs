//! `POST /auth/backchannel-logout`: OIDC Back-Channel Logout 1.0. The IdP posts a signed logout
//! token; every session it names (by `sid`, else by `sub`) ends in the shared store, so every
//! replica sees it. 200 on success; 400 with an OAuth-style JSON error otherwise.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::App;
use crate::oidc::LOGOUT_TOKEN_MAX_AGE_SECS;
use crate::session::EndReason;
use crate::store::StoreError;
use crate::support::Chain;
use crate::telemetry::metrics::METRICS;

#[derive(serde::Deserialize)]
pub struct Form {
    logout_token: Option<String>,
}

fn invalid(description: &str) -> HttpResponse {
    METRICS
        .backchannel_logouts
        .with_label_values(&["invalid"])
        .inc();
    HttpResponse::BadRequest()
        .json(json!({ "error": "invalid_request", "error_description": description }))
}

/// `POST /auth/backchannel-logout`: 200 when the logout token is valid and its sessions ended.
pub async fn backchannel_logout(
    app: web::ReqData<Arc<App>>,
    form: Option<web::Form<Form>>,
) -> HttpResponse {
    let Some(token) = form
        .and_then(|f| f.into_inner().logout_token)
        .filter(|t| !t.is_empty())
    else {
        return invalid("missing logout_token");
    };
    // The provider whose keys and issuer the token passes: each ends only its own sessions.
    let mut refused = None;
    let mut found = None;
    for state in &app.providers {
        match state.oidc.validate_logout_token(&token).await {
            Ok(t) => {
                found = Some((state.clone(), t));
                break;
            }
            Err(e) => refused = Some(Chain(&e).to_string()),
        }
    }
    let Some((state, target)) = found else {
        let reason = refused.unwrap_or_default();
        tracing::warn!(error = %reason, "back-channel logout refused");
        return invalid(&reason);
    };
    let window = Duration::from_secs(u64::try_from(LOGOUT_TOKEN_MAX_AGE_SECS * 2).unwrap_or(1200));
    match state.sessions.first_use_of_jti(&target.jti, window).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("back-channel logout refused: replayed jti");
            return invalid("replayed logout token (jti seen before)");
        }
        Err(e) => return store_down(&e),
    }
    // With a sid, end exactly that IdP session's sessions; with only a sub, all of the user's.
    let (sid, sub) = match &target.sid {
        Some(sid) => (Some(sid.as_str()), None),
        None => (None, target.sub.as_deref()),
    };
    match state
        .sessions
        .end_matching(sid, sub, EndReason::BackchannelLogout)
        .await
    {
        // The IdP ended the grant itself: nothing to revoke.
        Ok((ended, _)) => {
            tracing::info!(ended, "back-channel logout");
            METRICS
                .backchannel_logouts
                .with_label_values(&["success"])
                .inc();
            HttpResponse::Ok().finish()
        }
        Err(e) => store_down(&e),
    }
}

fn store_down(e: &StoreError) -> HttpResponse {
    METRICS
        .backchannel_logouts
        .with_label_values(&["error"])
        .inc();
    tracing::warn!(error = %Chain(e), "back-channel logout: session store unavailable");
    HttpResponse::ServiceUnavailable().json(json!({ "error": "temporarily_unavailable" }))
}

//! `GET /healthz` (liveness) and `GET /readyz` (the store answers and IdP metadata is loaded).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut reasons = Vec::new();
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        reasons.push("shutting down".to_owned());
    }
    if let Err(e) = state.sessions.store().ping().await {
        reasons.push(format!("{} {e}", state.sessions.store().kind()));
    }
    if let Some(why) = state.oidc.not_ready_reason() {
        reasons.push(why);
    }
    if reasons.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "not_ready", "reasons": reasons }))
    }
}

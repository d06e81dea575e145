//! Request limits that protect the process: the size of a request head (431) and the number of
//! requests served at once (503 `overloaded`). Body limits are per route (see `proxy`).

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::AppState;

/// Request line plus every header line, as they were on the wire (approximately).
fn head_bytes(req: &ServiceRequest) -> u64 {
    let line = req.method().as_str().len() + req.uri().to_string().len() + 12;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    (line + headers) as u64
}

fn refuse(
    req: ServiceRequest,
    status: actix_web::http::StatusCode,
    code: &str,
    retry: bool,
) -> ServiceResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if retry {
        res.insert_header((header::RETRY_AFTER, "1"));
    }
    req.into_response(res.json(json!({ "error": code })))
}

/// Counts a request as in flight for as long as it lives.
struct Slot<'a>(&'a AtomicUsize);
impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let limits = &state.config.server;
    if head_bytes(&req) > limits.max_header_bytes.as_u64() {
        tracing::info!("request refused: head over max_header_bytes");
        let res = refuse(
            req,
            actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_too_large",
            false,
        );
        return Ok(res.map_into_right_body());
    }
    let _slot = Slot(&state.in_flight);
    if state.in_flight.fetch_add(1, Ordering::SeqCst) >= limits.max_in_flight {
        tracing::warn!("request refused: max_in_flight reached");
        let res = refuse(
            req,
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            true,
        );
        return Ok(res.map_into_right_body());
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

//! Request limits that protect the process: the size of a request head (431) and the number of
//! requests served at once (503 `overloaded`). Body limits are per route (see `proxy`).
//!
//! A request counts as in flight until its response body has been sent (or the connection is
//! gone), so a long download holds its slot, and so does the `in_flight` gauge.
//!
//! Two kinds of request take no slot: the probes (`/healthz`, `/readyz`), which no limit may
//! refuse (a refused liveness probe restarts a healthy pod), and long-lived responses (the
//! `/auth/events` stream, WebSocket upgrades), which have budgets of their own per session,
//! user and process (see `session::events`): else a few users' open streams would take every
//! slot and refuse everyone.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::Process;
use crate::telemetry::metrics::METRICS;

/// Request line plus every header line, as they were on the wire (approximately).
fn head_bytes(req: &ServiceRequest) -> u64 {
    let target = req.uri().path_and_query().map_or(1, |p| p.as_str().len());
    let line = req.method().as_str().len() + target + 12;
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

/// One request in flight: counted in the state (for the limit) and in the gauge.
struct Slot(web::Data<Process>);

impl Slot {
    /// Takes a slot; `None` (and nothing held) when `max_in_flight` are already taken.
    fn take(state: web::Data<Process>) -> Option<Slot> {
        let before = state.in_flight.fetch_add(1, Ordering::SeqCst);
        let slot = Slot(state);
        METRICS.in_flight.inc();
        (before < slot.0.config.server.max_in_flight).then_some(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        METRICS.in_flight.dec();
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request's slot (if it took one) until it is sent or
    /// dropped.
    pub struct SlotBody<B> {
        #[pin]
        body: B,
        slot: Option<Slot>,
    }
}

fn is_probe(req: &ServiceRequest) -> bool {
    matches!(req.path(), "/healthz" | "/readyz")
}

/// Long-lived responses, which have budgets of their own: event streams and WebSocket upgrades.
fn is_stream(req: &ServiceRequest, state: &Process) -> bool {
    let events = req
        .path()
        .strip_prefix(state.config.server.auth_prefix.as_str())
        .is_some_and(|rest| rest == "/events");
    events || crate::proxy::is_websocket_upgrade(req.headers())
}

impl<B: MessageBody> MessageBody for SlotBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.project().body.poll_next(cx)
    }
}

/// Middleware on every request: 431 for an oversized head, 503 past `max_in_flight`.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<SlotBody<impl MessageBody>>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<Process>>().cloned() else {
        let res = refuse(
            req,
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            false,
        );
        return Ok(res.map_into_right_body());
    };
    let probe = is_probe(&req);
    if !probe && head_bytes(&req) > state.config.server.max_header_bytes.as_u64() {
        tracing::info!("request refused: head over max_header_bytes");
        let res = refuse(
            req,
            actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_too_large",
            false,
        );
        return Ok(res.map_into_right_body());
    }
    if probe || is_stream(&req, &state) {
        let res = next.call(req).await?;
        return Ok(res
            .map_body(|_, body| SlotBody { body, slot: None })
            .map_into_left_body());
    }
    let Some(slot) = Slot::take(state) else {
        tracing::warn!("request refused: max_in_flight reached");
        let res = refuse(
            req,
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            true,
        );
        return Ok(res.map_into_right_body());
    };
    let res = next.call(req).await?;
    Ok(res
        .map_body(|_, body| SlotBody {
            body,
            slot: Some(slot),
        })
        .map_into_left_body())
}

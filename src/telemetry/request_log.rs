//! The request log: a middleware that gives each request an id (`X-Request-Id`, echoed back and
//! sent upstream), a span (with the W3C trace id and, once the session is loaded, the user's
//! `sub`), its metrics, and one log line when it ends.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::metrics::{METRICS, status_class};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, kept in the request extensions for handlers that pass it on (the proxy).
#[derive(Clone)]
pub struct RequestId(pub String);

/// Set when a request's session is loaded: the user's `sub` for the request log line (the
/// session id itself is never logged).
#[derive(Clone)]
pub struct SessionSub(pub String);

/// The trace id of a valid W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`). Without OTLP the
/// header itself is passed upstream unchanged; with it, the upstream gets its own span's.
fn trace_id(req: &ServiceRequest) -> Option<String> {
    const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    let v = req.headers().get(TRACEPARENT)?.to_str().ok()?;
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match parts.as_slice() {
        [ver, trace, parent, flags]
            if hex(ver, 2)
                && *ver != "ff"
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0') =>
        {
            Some((*trace).to_owned())
        }
        _ => None,
    }
}

/// Set by the proxy on API calls: the matched route (its prefix is the metrics' `route` label).
#[derive(Clone)]
pub struct RouteLabel(pub std::sync::Arc<super::metrics::RouteMetrics>);

/// The endpoint class of a path, for metrics: `auth`, `health`, or `spa` (API routes are
/// labelled by the proxy itself).
fn class_of(path: &str, auth_prefix: &str) -> &'static str {
    if path == auth_prefix
        || path
            .strip_prefix(auth_prefix)
            .is_some_and(|r| r.starts_with('/'))
    {
        "auth"
    } else if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        "health"
    } else {
        "spa"
    }
}

/// A client-supplied request id is kept when it is short and plain; otherwise a new one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The name of the app a request was for (the `app` label of its metrics; none for the probes,
/// which answer on any host).
#[derive(Clone)]
pub struct AppLabel(pub std::sync::Arc<str>);

/// Middleware on every request: its id (kept or made), its span, the metrics, one log line.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let class = match req.app_data::<actix_web::web::Data<crate::Process>>() {
        Some(s) => class_of(req.path(), &s.config.server.auth_prefix),
        None => class_of(req.path(), "/auth"),
    };
    let span = request_span(&req, &id, class);
    let start = Instant::now();
    let method = req.method().clone();
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(id.clone()));
    let result = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let elapsed = start.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = match &result {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    let route = extension::<RouteLabel, _>(&result).map(|r| r.0);
    let route: &str = match &route {
        Some(r) => {
            r.observe(status, elapsed.as_secs_f64());
            &r.prefix
        }
        None => {
            let app = extension::<AppLabel, _>(&result).map(|a| a.0);
            let app = app.as_deref().unwrap_or("");
            count_unrouted(app, class, status, elapsed.as_secs_f64());
            class
        }
    };
    if !span.is_disabled()
        && let Some(sub) = extension::<SessionSub, _>(&result)
    {
        span.record("sub", sub.0.as_str());
    }
    if super::traces::enabled() {
        close_server_span(&span, &method, route, status);
    }
    tracing::info!(status, latency_ms, route = %route, "request");
    let mut res = result?;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// The request's span, continuing the caller's trace. Probes (`/healthz`, `/readyz`,
/// `/metrics`) every few seconds would bury the traces: they get the untraced span.
fn request_span(req: &ServiceRequest, id: &str, class: &str) -> tracing::Span {
    let span = if super::traces::enabled() && class != "health" {
        // The OTel server span: its kind is fixed when it starts, so it is named here (a span
        // with fields like these costs more to log, so only when traces are on).
        tracing::info_span!(
            "request",
            request_id = %id,
            trace_id = tracing::field::Empty,
            method = %req.method(),
            path = %req.path(),
            app = tracing::field::Empty,
            sub = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            http.request.method = %req.method(),
            url.path = %req.path(),
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
        )
    } else {
        tracing::info_span!(
            target: super::traces::UNTRACED,
            "request",
            request_id = %id,
            trace_id = tracing::field::Empty,
            method = %req.method(),
            path = %req.path(),
            app = tracing::field::Empty,
            sub = tracing::field::Empty,
        )
    };
    super::traces::continue_trace(&span, req.headers());
    if let Some(trace) = super::traces::trace_id(&span).or_else(|| trace_id(req)) {
        span.record("trace_id", trace.as_str());
    }
    span
}

/// What a handler left in the request's extensions, when it answered.
fn extension<T: Clone + 'static, B>(
    result: &Result<ServiceResponse<B>, actix_web::Error>,
) -> Option<T> {
    result.as_ref().ok().and_then(|res| {
        actix_web::HttpMessage::extensions(res.request())
            .get::<T>()
            .cloned()
    })
}

/// The metrics of a request no API route answered, labelled by its endpoint class.
fn count_unrouted(app: &str, class: &str, status: u16, seconds: f64) {
    METRICS
        .requests
        .with_label_values(&[app, class, class, status_class(status)])
        .inc();
    METRICS
        .request_seconds
        .with_label_values(&[app, class, class])
        .observe(seconds);
}

/// The OTel server span's name and attributes, known once the request is answered.
fn close_server_span(span: &tracing::Span, method: &Method, route: &str, status: u16) {
    super::traces::rename(span, format!("{method} {route}"));
    span.record("http.route", route);
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
}

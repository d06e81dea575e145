//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), and a middleware that
//! gives each request an id (`X-Request-Id`, echoed back) and logs one line when it ends.
//! Only the path is logged, never the query (it carries `code` and `state` on the callback),
//! never a header value (cookies, tokens).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, kept in the request extensions for handlers that pass it on (the proxy).
#[derive(Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber. Third-party crates are capped at `info` unless `RUST_LOG`
/// names them, so `RUST_LOG=trace` shows Vestibule's own detail without wire dumps.
pub fn init() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = format!(
        "hyper=info,h2=info,reqwest=info,rustls=info,redis=info,actix_server=info,{filter}"
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
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

pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let start = Instant::now();
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(id.clone()));
    let result = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut res) => {
            tracing::info!(status = res.status().as_u16(), latency_ms, "request");
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID, v);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::info!(
                status = e.as_response_error().status_code().as_u16(),
                latency_ms,
                "request"
            );
            Err(e)
        }
    }
}

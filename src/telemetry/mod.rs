//! Telemetry: logs and metrics.
//!
//! - `logs`: the global `tracing` subscriber (text or JSON on stderr, `RUST_LOG`); `json_lines`:
//!   the JSON line format; `log_writer`: the buffer and thread that write the lines;
//! - `request_log`: the middleware that gives each request an id and logs one line when it ends;
//! - [`metrics`]: Prometheus metrics and `GET /metrics`;
//! - [`traces`]: OpenTelemetry spans over OTLP (`[telemetry.otlp]`), trace context in and out;
//!   `sampler`: which traces are recorded (`sample_ratio`, decided here, not by the caller).
//!
//! Only the path is logged, never the query (it carries `code` and `state` on the callback),
//! never a header value (cookies, tokens).

mod json_lines;
mod log_writer;
mod logs;
pub mod metrics;
mod request_log;
mod sampler;
pub mod traces;

pub use logs::init;

/// The target of the decision log's lines (`telemetry.decision_log`).
pub const DECISION_LOG: &str = "vestibule::decision";
pub use request_log::{AppLabel, REQUEST_ID, RequestId, RouteLabel, SessionSub, request_log};

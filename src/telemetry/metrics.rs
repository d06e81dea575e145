//! Prometheus metrics (`GET /metrics`, text format), with the `prometheus` crate. Names follow
//! Prometheus conventions: `vestibule_…_total` counters, `_seconds` histograms.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Latency buckets, in seconds: 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    /// Requests by endpoint class (`auth`, `api`, `spa`, `health`), route and status class.
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub in_flight: IntGauge,
    /// Time to the upstream's response headers, per route.
    pub upstream_seconds: HistogramVec,
    /// Logins started (`started`) or refused before the IdP (`error`).
    pub logins: IntCounterVec,
    /// Callbacks by result (`success`, `failure`).
    pub callbacks: IntCounterVec,
    /// Token refreshes by result (`success`, `invalid_grant`, `failure`).
    pub refreshes: IntCounterVec,
    pub store_errors: IntCounter,
    /// Back-channel logouts by result (`success`, `invalid`, `error`).
    pub backchannel_logouts: IntCounterVec,
    /// Front-channel logouts by result (`success`, `invalid`, `error`).
    pub frontchannel_logouts: IntCounterVec,
    /// Sessions ended, by reason (`logout`, `backchannel_logout`, `frontchannel_logout`,
    /// `revoked`, `refresh_refused`, `replaced`).
    pub sessions_ended: IntCounterVec,
    /// Long-lived responses (`/auth/events` streams, proxied WebSockets) open on this replica.
    pub event_streams: IntGauge,
    /// Streams refused, by the budget they would break (`user`, `process`).
    pub streams_refused: IntCounterVec,
    /// Streams closed because a newer one of the same session went past its budget.
    pub streams_superseded: IntCounter,
    /// Sessions created (logins completed) here.
    pub sessions_created: IntCounter,
    /// 1 when the last `/readyz` answered ready, else 0.
    pub ready: IntGauge,
    /// Decisions of the routes' `allow` rules, by route and outcome (`allow`, `deny`, `error`).
    pub rule_decisions: IntCounterVec,
    /// Config reloads, by result (`applied`, `rejected`).
    pub config_reloads: IntCounterVec,
    /// Log lines dropped because the log writer's buffer was full (see `telemetry::log_writer`).
    pub log_lines_dropped: IntCounter,
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|e| unreachable_metric(name, e));
    let _ = registry.register(Box::new(c.clone()));
    c
}

fn histogram_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(BUCKETS.to_vec());
    let h = HistogramVec::new(opts, labels).unwrap_or_else(|e| unreachable_metric(name, e));
    let _ = registry.register(Box::new(h.clone()));
    h
}

/// Metric definitions are constants; an invalid one is a programming error caught by the tests.
fn unreachable_metric<T>(name: &str, e: prometheus::Error) -> T {
    panic!("invalid metric definition {name}: {e}")
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new();
    let in_flight = IntGauge::new(
        "vestibule_http_requests_in_flight",
        "Requests being served.",
    )
    .unwrap_or_else(|e| unreachable_metric("in_flight", e));
    let _ = registry.register(Box::new(in_flight.clone()));
    let event_streams = IntGauge::new(
        "vestibule_event_streams",
        "Long-lived responses (/auth/events streams, proxied WebSockets) open on this replica.",
    )
    .unwrap_or_else(|e| unreachable_metric("event_streams", e));
    let _ = registry.register(Box::new(event_streams.clone()));
    let sessions_created = IntCounter::new(
        "vestibule_sessions_created_total",
        "Sessions created (logins completed) here.",
    )
    .unwrap_or_else(|e| unreachable_metric("sessions_created", e));
    let _ = registry.register(Box::new(sessions_created.clone()));
    let ready = IntGauge::new(
        "vestibule_ready",
        "1 when the last /readyz answered ready (store answers, IdP metadata loaded, not draining), else 0.",
    )
    .unwrap_or_else(|e| unreachable_metric("ready", e));
    let _ = registry.register(Box::new(ready.clone()));
    let log_lines_dropped = IntCounter::new(
        "vestibule_log_lines_dropped_total",
        "Log lines dropped because the log writer's queue was full (requests never wait for the log).",
    )
    .unwrap_or_else(|e| unreachable_metric("log_lines_dropped", e));
    let _ = registry.register(Box::new(log_lines_dropped.clone()));
    let streams_superseded = IntCounter::new(
        "vestibule_streams_superseded_total",
        "Streams closed because a newer one of the same session went past max_streams_per_session.",
    )
    .unwrap_or_else(|e| unreachable_metric("streams_superseded", e));
    let _ = registry.register(Box::new(streams_superseded.clone()));
    let store_errors = IntCounter::new(
        "vestibule_session_store_errors_total",
        "Session store operations that failed.",
    )
    .unwrap_or_else(|e| unreachable_metric("store_errors", e));
    let _ = registry.register(Box::new(store_errors.clone()));
    Metrics {
        config_reloads: counter_vec(
            &registry,
            "vestibule_config_reloads_total",
            "Config reloads (SIGHUP or server.watch_config), by result: applied, rejected.",
            &["result"],
        ),
        requests: counter_vec(
            &registry,
            "vestibule_http_requests_total",
            "HTTP requests by app, endpoint class, route and status class.",
            &["app", "class", "route", "status"],
        ),
        request_seconds: histogram_vec(
            &registry,
            "vestibule_http_request_duration_seconds",
            "HTTP request latency by app, endpoint class and route.",
            &["app", "class", "route"],
        ),
        in_flight,
        upstream_seconds: histogram_vec(
            &registry,
            "vestibule_upstream_request_duration_seconds",
            "Time until an upstream's response headers, by app and route.",
            &["app", "route"],
        ),
        logins: counter_vec(
            &registry,
            "vestibule_logins_total",
            "Logins started, by result.",
            &["result"],
        ),
        callbacks: counter_vec(
            &registry,
            "vestibule_login_callbacks_total",
            "Login callbacks, by result.",
            &["result"],
        ),
        refreshes: counter_vec(
            &registry,
            "vestibule_token_refreshes_total",
            "Token refreshes at the IdP, by result.",
            &["result"],
        ),
        store_errors,
        backchannel_logouts: counter_vec(
            &registry,
            "vestibule_backchannel_logouts_total",
            "Back-channel logout requests, by result.",
            &["result"],
        ),
        frontchannel_logouts: counter_vec(
            &registry,
            "vestibule_frontchannel_logouts_total",
            "Front-channel logout requests, by result.",
            &["result"],
        ),
        sessions_ended: counter_vec(
            &registry,
            "vestibule_sessions_ended_total",
            "Sessions ended here, by reason.",
            &["reason"],
        ),
        event_streams,
        streams_refused: counter_vec(
            &registry,
            "vestibule_streams_refused_total",
            "Streams (event streams, WebSockets) refused, by the budget they would break.",
            &["limit"],
        ),
        streams_superseded,
        sessions_created,
        ready,
        rule_decisions: counter_vec(
            &registry,
            "vestibule_rule_decisions_total",
            "Decisions of the routes' allow rules, by route and outcome (allow, deny, error).",
            &["route", "outcome"],
        ),
        log_lines_dropped,
        registry,
    }
});

/// How many of the log writer's dropped lines the metric has counted.
static LOG_DROPS_COUNTED: AtomicU64 = AtomicU64::new(0);

/// Brings `vestibule_log_lines_dropped_total` up to the writer's count (at each scrape).
fn count_dropped_lines() {
    let now = super::log_writer::dropped_lines();
    let before = LOG_DROPS_COUNTED.swap(now, Ordering::Relaxed);
    METRICS.log_lines_dropped.inc_by(now.saturating_sub(before));
}

/// `GET /metrics`.
pub async fn metrics() -> HttpResponse {
    count_dropped_lines();
    let mut buf = Vec::new();
    match TextEncoder::new().encode(&METRICS.registry.gather(), &mut buf) {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(buf),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

/// One API route's request metrics, resolved once when the routes are built: a label lookup
/// per request (hashing the labels, a lock, a shared reference count) was measurable.
pub struct RouteMetrics {
    pub prefix: String,
    by_status_class: [prometheus::IntCounter; 5],
    seconds: prometheus::Histogram,
    pub upstream_seconds: prometheus::Histogram,
}

impl RouteMetrics {
    /// The metrics of the route at `prefix` of app `app`.
    pub fn new(app: &str, prefix: &str) -> Self {
        let count = |c| METRICS.requests.with_label_values(&[app, "api", prefix, c]);
        Self {
            prefix: prefix.to_owned(),
            by_status_class: STATUS_CLASSES.map(count),
            seconds: METRICS
                .request_seconds
                .with_label_values(&[app, "api", prefix]),
            upstream_seconds: METRICS.upstream_seconds.with_label_values(&[app, prefix]),
        }
    }

    /// One request of this route ended with `status` after `seconds`.
    pub fn observe(&self, status: u16, seconds: f64) {
        let class = status_class(status);
        let i = STATUS_CLASSES.iter().position(|c| *c == class).unwrap_or(4);
        self.by_status_class[i].inc();
        self.seconds.observe(seconds);
    }
}

/// Every value [`status_class`] gives.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// `2xx`, `4xx`, …
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests;

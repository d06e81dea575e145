//! OpenTelemetry traces (`[telemetry.otlp]`): `tracing` spans exported over OTLP/HTTP.
//!
//! The spans are ordinary `tracing` spans: the request span of `request_log` (kind `server`), and
//! `debug`-level children where a request waits: `session.load`, `token.refresh`, `idp.*` and
//! `upstream` (kind `client`). `tracing-opentelemetry` turns them into OTel spans; a batch
//! processor sends them from its own thread. Only the exporting layer asks for `debug` spans, so
//! with OTLP off their callsites stay disabled and cost one relaxed load.
//!
//! Attributes are OTel HTTP semantic-convention names with values the code picks (method, path,
//! route, status, host): never a header value, a query or a body, so never a token, a code or a
//! cookie. A request continues the caller's W3C `traceparent`; the upstream call carries its own
//! span's.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::HeaderMap as ActixHeaders;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use crate::config::OtlpConfig;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The target of spans never exported: request spans while traces are off, and probes.
pub const UNTRACED: &str = "vestibule::untraced";

/// Whether spans are exported (so worth continuing and propagating).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    #[error("cannot build the OTLP span exporter")]
    Exporter(#[source] opentelemetry_otlp::ExporterBuildError),
    #[error("cannot build the OTLP HTTP client")]
    Client(#[source] reqwest::Error),
}

/// Keeps the exporter alive; dropping it sends the spans still queued (at shutdown).
pub struct Traces(SdkTracerProvider);

impl Drop for Traces {
    fn drop(&mut self) {
        ENABLED.store(false, Ordering::Relaxed);
        if let Err(e) = self.0.shutdown() {
            eprintln!("vestibule: flushing traces at shutdown: {e}");
        }
    }
}

/// The layer that exports Vestibule's spans, and the guard that flushes them. Must be called
/// outside any async runtime (the exporter's blocking HTTP client owns one).
pub fn layer<S>(config: &OtlpConfig) -> Result<(impl Layer<S> + Send + Sync, Traces), TracesError>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(TracesError::Client)?;
    let endpoint = format!(
        "{}/v1/traces",
        config.endpoint.as_str().trim_end_matches('/')
    );
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(ExportClient(http))
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_headers(config.headers.clone().into_iter().collect())
        .build()
        .map_err(TracesError::Exporter)?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(config.export_interval)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(batch)
        .with_sampler(super::sampler::sampler(config.sample_ratio))
        .with_resource(
            Resource::builder()
                .with_service_name(config.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("vestibule");
    ENABLED.store(true, Ordering::Relaxed);
    // Spans only (events stay in the logs), and only Vestibule's own: a dependency's spans would
    // name internals nobody asked for.
    let only_ours = tracing_subscriber::filter::filter_fn(|meta| {
        meta.is_span()
            && meta.target().starts_with("vestibule")
            && meta.target() != UNTRACED
            && *meta.level() <= tracing::Level::DEBUG
    });
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_threads(false)
        .with_filter(only_ours);
    Ok((layer, Traces(provider)))
}

/// Makes `span` a child of the caller's `traceparent` (and `tracestate`), when it sent a valid one.
pub fn continue_trace(span: &tracing::Span, headers: &ActixHeaders) {
    if !enabled() || span.is_disabled() {
        return;
    }
    let cx = TraceContextPropagator::new().extract(&IncomingHeaders(headers));
    // Fails only when the span is already started or not ours: then it keeps its own root.
    let _ = span.set_parent(cx);
}

/// The trace id of `span` (32 hex), for the log line; `None` when traces are off.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    if !enabled() || span.is_disabled() {
        return None;
    }
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

/// Replaces any `traceparent`/`tracestate` in `headers` (an upstream request's) with `span`'s.
pub fn inject(span: &tracing::Span, headers: &mut reqwest::header::HeaderMap) {
    if !enabled() || span.is_disabled() {
        return;
    }
    headers.remove("traceparent");
    headers.remove("tracestate");
    TraceContextPropagator::new().inject_context(
        &span.context(),
        &mut opentelemetry_http::HeaderInjector(headers),
    );
}

/// `url` as `url.full` may show it: scheme, host, port and path; never the query (API queries
/// are the application's data) nor userinfo.
pub fn url_full(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

struct IncomingHeaders<'a>(&'a ActixHeaders);

impl Extractor for IncomingHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The exporter's HTTP client: reqwest 0.12's blocking client (the batch processor exports from
/// its own thread, outside tokio), so the build needs no second reqwest or TLS stack.
#[derive(Debug)]
struct ExportClient(reqwest::blocking::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ExportClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let (parts, body) = request.into_parts();
        let res = self
            .0
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body.to_vec())
            .send()?;
        let status = res.status();
        let headers = res.headers().clone();
        let mut out = opentelemetry_http::Response::new(res.bytes()?);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// The `client` span of one outgoing HTTP call (to an IdP endpoint, to an upstream), a child of
/// the current span: named `name` (`otel.name`), with its method and, when traces are on, where it
/// goes. [`record_status`] or [`record_failure`] finish it.
pub fn client_span(
    name: impl std::fmt::Display,
    method: &str,
    url: impl std::fmt::Display,
) -> tracing::Span {
    let span = tracing::debug_span!(
        "client",
        otel.name = %name,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        server.address = tracing::field::Empty,
        server.port = tracing::field::Empty,
        url.full = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        oauth.grant_type = tracing::field::Empty,
    );
    record_peer(&span, url);
    span
}

/// Records where `span`'s call goes (`server.address`, `server.port`, `url.full`), when traces
/// are on.
fn record_peer(span: &tracing::Span, url: impl std::fmt::Display) {
    if !enabled() || span.is_disabled() {
        return;
    }
    let Ok(url) = url::Url::parse(&url.to_string()) else {
        return;
    };
    if let Some(host) = url.host_str() {
        span.record("server.address", host);
    }
    if let Some(port) = url.port_or_known_default() {
        span.record("server.port", port);
    }
    span.record("url.full", url_full(&url).as_str());
}

/// Records the answer's status on `span` (`error` from 500 up).
pub fn record_status(span: &tracing::Span, status: u16) {
    if !enabled() || span.is_disabled() {
        return;
    }
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
}

/// Marks `span`'s call as failed without an answer (unreachable, timed out).
pub fn record_failure(span: &tracing::Span) {
    if enabled() && !span.is_disabled() {
        span.record("otel.status_code", "error");
    }
}

/// Names `span` once its name is known (a server span's route is, only after routing). Recording
/// `otel.name` late does not rename a span that has started, so this goes to the OTel span.
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt;
    if enabled() && !span.is_disabled() {
        span.context().span().update_name(name);
    }
}

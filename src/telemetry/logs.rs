//! The global `tracing` subscriber: text or JSON lines on stderr, filtered by `RUST_LOG`
//! (default `info`), the decision log when `telemetry.decision_log` is on (JSON lines on stderr
//! whatever the format, whatever `RUST_LOG` says: an audit trail is not a level of detail), and
//! the OTLP span exporter when `[telemetry.otlp]` is set.
//!
//! Lines are formatted on the thread that logs (JSON by `json_lines`), then appended to a
//! bounded buffer that a thread of its own writes to stderr (`log_writer`): a request never waits
//! for stderr or for the disk behind it, and a worker never makes a syscall per line. A full
//! buffer drops lines rather than blocking; the drops are counted in
//! `vestibule_log_lines_dropped_total`.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use super::DECISION_LOG;
use super::json_lines::{JsonLine, JsonMembers};
use super::log_writer::{LogWriter, LogWriterGuard};
use super::traces::{self, Traces, TracesError};
use crate::config::{LogFormat, TelemetryConfig};

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("cannot start the log writer thread")]
    LogThread(#[source] std::io::Error),
    #[error(transparent)]
    Traces(#[from] TracesError),
}

/// Keep until exit: dropping it writes what is still queued (the last spans and log lines).
pub struct Telemetry {
    _traces: Option<Traces>,
    _writer: LogWriterGuard,
}

/// Installs the global subscriber. Third-party crates are capped at `info` unless `RUST_LOG`
/// names them, so `RUST_LOG=trace` shows Vestibule's own detail without wire dumps. Returns the
/// guard of the traces and the log writer (keep it until exit: dropping it flushes both).
pub fn init(config: &TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    let (out, guard) = LogWriter::spawn(std::io::stderr()).map_err(TelemetryError::LogThread)?;
    let traces = install(config, out)?;
    Ok(Telemetry {
        _traces: traces,
        _writer: guard,
    })
}

fn install(config: &TelemetryConfig, out: LogWriter) -> Result<Option<Traces>, TracesError> {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    // The decision log's lines are its own layer's, never also the ordinary log's.
    let filter = format!(
        "hyper=info,h2=info,reqwest=info,rustls=info,redis=info,actix_server=info,{filter},\
         {DECISION_LOG}=off"
    );
    let filter = EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{DECISION_LOG}=off")));
    let decisions = config.decision_log.then(|| decision_lines(out.clone()));
    match &config.otlp {
        // The log filter applies to the log lines alone, so that the exporter can see the
        // `debug` spans a log at `info` leaves out.
        Some(otlp) => {
            let (spans, guard) = traces::layer(otlp)?;
            let _ = tracing_subscriber::registry()
                .with(decisions)
                .with(lines(config.format, out.clone()).with_filter(filter))
                .with(spans)
                .try_init();
            Ok(Some(guard))
        }
        // Filters per layer, so that the log's filter does not silence the decision log.
        None if decisions.is_some() => {
            let _ = tracing_subscriber::registry()
                .with(decisions)
                .with(lines(config.format, out.clone()).with_filter(filter))
                .try_init();
            Ok(None)
        }
        // Without an exporter the filter stays global: disabled callsites then cost nothing.
        None => {
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(lines(config.format, out))
                .try_init();
            Ok(None)
        }
    }
}

/// The decision log: one flat JSON object per line, the event's fields only (no span).
fn decision_lines<S>(out: LogWriter) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fmt::layer()
        .with_writer(out)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_filter(Targets::new().with_target(DECISION_LOG, tracing::Level::INFO))
        .boxed()
}

fn lines<S>(format: LogFormat, out: LogWriter) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let layer = fmt::layer().with_writer(out);
    match format {
        LogFormat::Json => layer.event_format(JsonLine).fmt_fields(JsonMembers).boxed(),
        LogFormat::Text => layer
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
    }
}

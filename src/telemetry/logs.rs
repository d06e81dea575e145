//! The global `tracing` subscriber: text or JSON lines on stderr, filtered by `RUST_LOG`
//! (default `info`), the decision log when `telemetry.decision_log` is on (JSON lines on stderr
//! whatever the format, whatever `RUST_LOG` says: an audit trail is not a level of detail), and
//! the OTLP span exporter when `[telemetry.otlp]` is set.
//!
//! Lines are formatted on the thread that logs, then handed to one writer thread through a
//! bounded queue, which writes each batch it finds with one `write` (a buffered stderr flushed
//! per batch): a request never waits for stderr or for the disk behind it, and a worker never
//! makes a syscall per line. A full queue drops lines rather than blocking; the drops are counted
//! in `vestibule_log_lines_dropped_total`.

use std::io::{BufWriter, Stderr};

use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

use super::DECISION_LOG;
use super::metrics::count_log_drops_from;
use super::traces::{self, Traces, TracesError};
use crate::config::{LogFormat, TelemetryConfig};

/// Lines the writer thread may have waiting before new ones are dropped: seconds of a busy
/// replica's request log, a few megabytes at most.
const QUEUE_LINES: usize = 65_536;

/// Keep until exit: dropping it writes what is still queued (the last spans and log lines).
pub struct Telemetry {
    _traces: Option<Traces>,
    _writer: WorkerGuard,
}

fn writer() -> (NonBlocking, WorkerGuard) {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUE_LINES)
        .thread_name("vestibule-log")
        .finish(BufWriter::new(std::io::stderr()) as BufWriter<Stderr>);
    count_log_drops_from(writer.error_counter());
    (writer, guard)
}

/// Installs the global subscriber. Third-party crates are capped at `info` unless `RUST_LOG`
/// names them, so `RUST_LOG=trace` shows Vestibule's own detail without wire dumps. Returns the
/// guard of the traces and the log writer (keep it until exit: dropping it flushes both).
pub fn init(config: &TelemetryConfig) -> Result<Telemetry, TracesError> {
    let (out, guard) = writer();
    let traces = install(config, out)?;
    Ok(Telemetry {
        _traces: traces,
        _writer: guard,
    })
}

fn install(config: &TelemetryConfig, out: NonBlocking) -> Result<Option<Traces>, TracesError> {
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
fn decision_lines<S>(out: NonBlocking) -> Box<dyn Layer<S> + Send + Sync>
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

fn lines<S>(format: LogFormat, out: NonBlocking) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let layer = fmt::layer().with_writer(out);
    match format {
        LogFormat::Json => layer.json().with_current_span(true).boxed(),
        LogFormat::Text => layer
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
    }
}

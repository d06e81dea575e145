//! The global `tracing` subscriber: text or JSON lines on stderr, filtered by `RUST_LOG`
//! (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: text or JSON lines on stderr. Third-party crates are capped at
/// `info` unless `RUST_LOG` names them, so `RUST_LOG=trace` shows Vestibule's own detail without
/// wire dumps.
pub fn init(format: crate::config::LogFormat) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = format!(
        "hyper=info,h2=info,reqwest=info,rustls=info,redis=info,actix_server=info,{filter}"
    );
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Json => builder.json().with_current_span(true).try_init(),
        crate::config::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

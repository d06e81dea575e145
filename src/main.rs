//! The `vestibule` command: parses arguments, loads the config, starts the server, drains it on
//! SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vestibule::config::Config;
use vestibule::server::{Running, StartError};

#[derive(Parser)]
#[command(
    name = "vestibule",
    version,
    about = "Backend-for-frontend session proxy (OIDC, server-side tokens)"
)]
struct Cli {
    /// Config file (TOML). Every key can be overridden by VESTIBULE_SECTION__KEY variables.
    #[arg(long, short, env = "VESTIBULE_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the proxy (the default).
    Run,
    /// Validate the config and exit: 0 when valid, 2 with the problem otherwise.
    CheckConfig,
    /// Ask the running proxy's `/healthz` (on `admin_listen` if set, else `listen`): exit 0 when
    /// it answers 200, 1 otherwise. For container HEALTHCHECKs (no curl needed in the image).
    Healthcheck,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(path) = cli.config else {
        eprintln!("vestibule: no config file: pass --config FILE or set VESTIBULE_CONFIG");
        return ExitCode::from(2);
    };
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vestibule: invalid configuration\n{e}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig => {
            println!("{}: configuration is valid", path.display());
            ExitCode::SUCCESS
        }
        Command::Healthcheck => healthcheck(&config),
        Command::Run => run(config),
    }
}

fn run(config: Config) -> ExitCode {
    vestibule::telemetry::init(config.telemetry.format);
    let result = actix_web::rt::System::new().block_on(async move {
        let running = vestibule::server::start(config)?;
        let (main, admin) = running.handles();
        let state = running.state.clone();
        actix_web::rt::spawn(async move {
            shutdown_signal().await;
            Running::drain(&state, main, admin).await;
        });
        let listen_error = |source| StartError::Listen {
            addr: "server".into(),
            source,
        };
        match running.admin {
            Some(admin) => {
                let (main, admin) = futures_util::future::join(running.server, admin).await;
                main.and(admin).map_err(listen_error)
            }
            None => running.server.await.map_err(listen_error),
        }
    });
    match result {
        Ok(()) => {
            tracing::info!("shutdown complete");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "vestibule stopped");
            eprintln!("vestibule: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers the process can still be killed; never resolve.
        _ => std::future::pending::<()>().await,
    }
}

fn healthcheck(config: &Config) -> ExitCode {
    use std::io::{Read, Write};
    use std::time::Duration;
    let mut addr = config.server.admin_listen.unwrap_or(config.server.listen);
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let timeout = Duration::from_secs(3);
    let answer = std::net::TcpStream::connect_timeout(&addr, timeout).and_then(|mut s| {
        s.set_read_timeout(Some(timeout))?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: healthcheck\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head)?;
        Ok(head)
    });
    match answer {
        Ok(head) if head.starts_with(b"HTTP/1.1 200") => ExitCode::SUCCESS,
        Ok(head) => {
            eprintln!(
                "vestibule healthcheck: {addr} answered {}",
                String::from_utf8_lossy(&head)
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("vestibule healthcheck: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

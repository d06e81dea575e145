//! The `vestibule` command: parses arguments, loads the config, starts the server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vestibule::config::Config;

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
        Command::Run => run(config),
    }
}

fn run(config: Config) -> ExitCode {
    vestibule::telemetry::init();
    let result = actix_web::rt::System::new().block_on(async move {
        let server = vestibule::server::start(config)?;
        server
            .await
            .map_err(|source| vestibule::server::StartError::Listen {
                addr: "server".into(),
                source,
            })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "vestibule stopped");
            eprintln!("vestibule: {e}");
            ExitCode::FAILURE
        }
    }
}

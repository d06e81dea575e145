//! The `vestibule` command: parses arguments, loads the config, and hands over to
//! `server::run` (or `check-config`, `healthcheck`, `sessions`). Nothing else happens here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vestibule::config::{Config, Deployment};
use vestibule::support::Chain;

/// jemalloc rather than glibc's malloc: a proxied call makes some 60 short-lived allocations, and
/// glibc's took ~17 % of a call's user-space CPU (its free lists, `malloc_consolidate` after each
/// 8 KB read buffer); jemalloc's thread caches take ~1.6 µs less per call, and its RSS stays
/// within the limits glibc's does (1,000 idle connections, 1 GB streamed: docs/performance.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
    CheckConfig {
        /// Also grade it against RFC 10017 (browser-based apps, BFF) and RFC 9700: exit 1 when
        /// there are findings.
        #[arg(long)]
        audit: bool,
    },
    /// Print the JSON Schema of the config file (for editors: `#:schema ./vestibule.schema.json`).
    ConfigSchema,
    /// Print the configuration reference (Markdown): every key with its type, default,
    /// environment variable and doc comment. It is committed as docs/configuration-reference.md.
    ConfigReference,
    /// Ask the running proxy's `/healthz` (on `admin_listen` if set, else `listen`): exit 0 when
    /// it answers 200, 1 otherwise. For container HEALTHCHECKs (no curl needed in the image).
    Healthcheck,
    /// Operators' session tools: call the running proxy's admin API (on `admin_listen`, with
    /// `server.admin_token`, best set as VESTIBULE_SERVER__ADMIN_TOKEN).
    Sessions {
        /// Which app's sessions (needed when the config has several `[[apps]]`).
        #[arg(long, global = true)]
        app: Option<String>,
        /// Which of the app's providers (all when absent): a `sub` is one user at one provider.
        #[arg(long, global = true)]
        provider: Option<String>,
        #[command(subcommand)]
        action: SessionsCommand,
    },
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// List a user's live sessions.
    List {
        #[arg(long)]
        sub: String,
    },
    /// End sessions: all of a user's (`--sub`) or of one IdP session (`--sid`).
    End {
        #[arg(long, conflicts_with = "sid", required_unless_present = "sid")]
        sub: Option<String>,
        #[arg(long)]
        sid: Option<String>,
    },
    /// Count the live sessions of this deployment.
    Count,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::ConfigSchema) = cli.command {
        println!("{}", vestibule::config::json_schema());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::ConfigReference) = cli.command {
        print!("{}", vestibule::config::reference::markdown());
        return ExitCode::SUCCESS;
    }
    let Some(path) = cli.config else {
        eprintln!("vestibule: no config file: pass --config FILE or set VESTIBULE_CONFIG");
        return ExitCode::from(2);
    };
    let deployment = match Deployment::load(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("vestibule: invalid configuration\n{}", Chain(&e));
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::ConfigSchema | Command::ConfigReference => ExitCode::SUCCESS,
        Command::CheckConfig { audit } => check_config(&path, &deployment, audit),
        Command::Healthcheck => healthcheck(deployment.process()),
        Command::Sessions {
            app,
            provider,
            action,
        } => {
            let scope: Vec<(&str, &str)> =
                [("app", app.as_deref()), ("provider", provider.as_deref())]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect();
            sessions(deployment.process(), &scope, action)
        }
        Command::Run => run(deployment, path),
    }
}

/// `check-config`: the config loaded, so it is valid; `--audit` grades it too, app by app (1 on
/// findings).
fn check_config(path: &Path, deployment: &Deployment, audit: bool) -> ExitCode {
    println!("{}: configuration is valid", path.display());
    if !audit {
        return ExitCode::SUCCESS;
    }
    let mut clean = true;
    for config in &deployment.apps {
        if deployment.has_apps() {
            println!("\n## App {:?} ({})\n", config.app.name, config.origin());
        }
        let report = vestibule::config::audit::audit(config);
        println!("{report}");
        clean &= report.is_clean();
    }
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `healthcheck`: 0 when the running proxy's `/healthz` answers 200.
fn healthcheck(config: &Config) -> ExitCode {
    match vestibule::health::probe(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vestibule healthcheck: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// `sessions …`: one call to the running proxy's admin API, its answer printed.
fn sessions(config: &Config, scope: &[(&str, &str)], action: SessionsCommand) -> ExitCode {
    use vestibule::admin::client::{Action, run};
    let action = match action {
        SessionsCommand::List { sub } => Action::List { sub },
        SessionsCommand::End { sub: Some(sub), .. } => Action::EndBySub { sub },
        SessionsCommand::End { sid, .. } => Action::EndBySid {
            sid: sid.unwrap_or_default(),
        },
        SessionsCommand::Count => Action::Count,
    };
    match run(config, scope, action) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("vestibule sessions: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// `run` (the default): tracing, then the server until a signal has drained it.
fn run(deployment: Deployment, path: PathBuf) -> ExitCode {
    let config = deployment.process();
    // Held until exit: dropping it sends the last spans and writes the last log lines.
    let _telemetry = match vestibule::telemetry::init(&config.telemetry) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("vestibule: cannot start tracing\n{}", Chain(&e));
            return ExitCode::from(2);
        }
    };
    match vestibule::server::run(deployment, Some(path)) {
        Ok(()) => {
            tracing::info!("shutdown complete");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %Chain(&e), "vestibule stopped");
            eprintln!("vestibule: {}", Chain(&e));
            ExitCode::FAILURE
        }
    }
}

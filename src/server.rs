//! Builds the HTTP server(s) from a validated config, runs them, and drains them on SIGTERM or
//! SIGINT.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::config::Deployment;
use crate::session::SessionManager;
use crate::store::StoreError;
use crate::{Process, admin, apps, auth, health, identity, limits, proxy, spa, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Apps(#[from] apps::BuildError),
}

/// A started Vestibule: the main server, the optional admin server, and their shared state.
pub struct Running {
    pub server: Server,
    pub admin: Option<Server>,
    pub process: web::Data<Process>,
}

impl Running {
    /// Handles to stop the servers.
    pub fn handles(&self) -> (ServerHandle, Option<ServerHandle>) {
        (
            self.server.handle(),
            self.admin.as_ref().map(|a| a.handle()),
        )
    }

    /// Graceful shutdown: `/readyz` turns 503 at once; new connections are still served for
    /// `shutdown_delay`; then the listeners close and in-flight requests get `shutdown_grace`.
    pub async fn drain(process: &Process, main: ServerHandle, admin: Option<ServerHandle>) {
        process.draining.store(true, Ordering::SeqCst);
        tracing::info!(
            delay_s = process.config.server.shutdown_delay.as_secs_f64(),
            "shutdown: draining"
        );
        tokio::time::sleep(process.config.server.shutdown_delay).await;
        tracing::info!("shutdown: closing listeners, waiting for in-flight requests");
        // Event streams never finish by themselves: end them (the SPA reconnects elsewhere).
        for app in &process.apps.now().list {
            for state in &app.providers {
                state.sessions.events().close_all();
            }
        }
        main.stop(true).await;
        if let Some(a) = admin {
            a.stop(true).await;
        }
    }
}

/// Runs Vestibule until a signal has drained it (or a listener fails): the `run` command.
/// `file`: where a reload reads the config again (`SIGHUP`, `server.watch_config`).
pub fn run(deployment: Deployment, file: Option<PathBuf>) -> Result<(), StartError> {
    for name in crate::config::ignored_environment() {
        tracing::debug!(variable = %name, "not a VESTIBULE_<SECTION>__<KEY> name; ignored");
    }
    actix_web::rt::System::new().block_on(async move {
        let running = start(deployment, file)?;
        let (main, admin) = running.handles();
        let process = running.process.clone();
        actix_web::rt::spawn(async move {
            shutdown_signal().await;
            Running::drain(&process, main, admin).await;
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
    })
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

fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).map_err(|source| StartError::Listen {
        addr: addr.to_string(),
        source,
    })
}

/// Binds `[server] listen` (and `admin_listen`) and starts serving.
pub fn start(deployment: Deployment, file: Option<PathBuf>) -> Result<Running, StartError> {
    let server = &deployment.process().server;
    let listener = bind(server.listen)?;
    let admin = server.admin_listen.map(bind).transpose()?;
    start_on(deployment, file, listener, admin)
}

/// Starts serving on already bound listeners (tests bind port 0 first). Must be called inside
/// an actix/tokio runtime: it spawns the IdP discovery loops and the reload watch. Signals but
/// `SIGHUP` are not handled here: the caller decides when to [`Running::drain`].
pub fn start_on(
    deployment: Deployment,
    file: Option<PathBuf>,
    listener: TcpListener,
    admin: Option<TcpListener>,
) -> Result<Running, StartError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let process = shared_state(deployment, file, &addr)?;
    let metrics_on_main = admin.is_none();
    let server = main_server(process.clone(), listener, addr, metrics_on_main)?;
    let admin = admin
        .map(|l| admin_server(process.clone(), l))
        .transpose()?;
    Ok(Running {
        server,
        admin,
        process,
    })
}

/// What every worker shares: the store, the apps (their IdP clients' discovery started, their
/// session managers listening for sessions ended on other replicas), and the reload watch.
fn shared_state(
    deployment: Deployment,
    file: Option<PathBuf>,
    addr: &str,
) -> Result<web::Data<Process>, StartError> {
    let config = Arc::new(deployment.process().clone());
    let store = SessionManager::store_from_config(&config)?;
    let login_rate = Arc::new(auth::LoginRate::new(config.server.logins_per_minute));
    let deployment = Arc::new(deployment);
    let built = apps::build(deployment.clone(), &store, &login_rate, None)?;
    let names: Vec<&str> = deployment
        .apps
        .iter()
        .map(|a| a.app.name.as_str())
        .collect();
    tracing::info!(
        listen = %addr,
        public_url = %config.server.public_url,
        apps = %names.join(","),
        store = store.kind(),
        "vestibule starting"
    );
    let process = web::Data::new(Process {
        config: config.clone(),
        apps: apps::Live::new(built),
        draining: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
    });
    if let Some(file) = file {
        let reloader = apps::Reloader {
            file,
            process: process.clone(),
            store,
            login_rate,
        };
        let hup = apps::hangups();
        tokio::spawn(apps::watch(reloader, hup, config.server.watch_config));
    }
    Ok(process)
}

/// The main server: auth endpoints, API routes, the SPA, health (and metrics when there is no
/// admin listener), behind the limits, the app picker and the request log. Which app, route and
/// SPA serve a request is looked up per request, so a reload needs no new server.
fn main_server(
    process: web::Data<Process>,
    listener: TcpListener,
    addr: String,
    metrics_on_main: bool,
) -> Result<Server, StartError> {
    let config = process.config.clone();
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let server = HttpServer::new(move || {
        let cfg = process.config.clone();
        App::new()
            .app_data(process.clone())
            // One upstream client (and connection pool) per worker: see `UpstreamClient`.
            .app_data(web::Data::new(proxy::UpstreamClient::new()))
            .wrap(from_fn(apps::pick_app))
            .wrap(from_fn(limits::enforce))
            .wrap(from_fn(telemetry::request_log))
            .configure(health::configure)
            // Before the API scope: a route cannot hide it.
            .configure(identity::configure)
            .configure(|c| {
                if metrics_on_main {
                    telemetry::metrics::configure(c)
                }
            })
            .configure(|c| auth::configure(c, &cfg.server.auth_prefix))
            .configure(proxy::configure)
            .configure(spa::configure)
    })
    .workers(workers)
    .max_connections(config.server.max_connections.div_ceil(workers))
    // A client that closes its end is gone at once, as nginx sees it: its event stream or
    // download frees its budget now, not at the next failed write.
    .h1_allow_half_closed(false)
    .disable_signals()
    .shutdown_timeout(config.server.shutdown_grace.as_secs())
    .listen(listener)
    .map_err(|source| StartError::Listen { addr, source })?
    .run();
    Ok(server)
}

/// The admin server on `admin_listen`: health, metrics and the operators' session API.
fn admin_server(process: web::Data<Process>, listener: TcpListener) -> Result<Server, StartError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let grace = process.config.server.shutdown_grace.as_secs();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(process.clone())
            .configure(health::configure)
            .configure(telemetry::metrics::configure)
            .configure(admin::configure)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(grace)
    .listen(listener)
    .map_err(|source| StartError::Listen { addr, source })?
    .run();
    Ok(server)
}

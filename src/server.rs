//! Builds the HTTP server(s) from a validated config, runs them, and drains them on SIGTERM or
//! SIGINT.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::config::Config;
use crate::identity::{Identity, IdentityError};
use crate::oidc::{Provider, ProviderError};
use crate::session::{ClientTokens, SessionManager};
use crate::store::StoreError;
use crate::{AppState, admin, auth, health, identity, limits, proxy, spa, telemetry};

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
    #[error("cannot set up the identity provider client")]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Rule(#[from] proxy::BadRule),
    #[error("cannot load the identity signing keys")]
    Identity(#[from] IdentityError),
}

/// A started Vestibule: the main server, the optional admin server, and their shared state.
pub struct Running {
    pub server: Server,
    pub admin: Option<Server>,
    pub state: web::Data<AppState>,
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
    pub async fn drain(state: &AppState, main: ServerHandle, admin: Option<ServerHandle>) {
        state.draining.store(true, Ordering::SeqCst);
        tracing::info!(
            delay_s = state.config.server.shutdown_delay.as_secs_f64(),
            "shutdown: draining"
        );
        tokio::time::sleep(state.config.server.shutdown_delay).await;
        tracing::info!("shutdown: closing listeners, waiting for in-flight requests");
        // Event streams never finish by themselves: end them (the SPA reconnects elsewhere).
        state.sessions.events().close_all();
        main.stop(true).await;
        if let Some(a) = admin {
            a.stop(true).await;
        }
    }
}

/// Runs Vestibule until a signal has drained it (or a listener fails): the `run` command.
pub fn run(config: Config) -> Result<(), StartError> {
    for name in crate::config::ignored_environment() {
        tracing::debug!(variable = %name, "not a VESTIBULE_<SECTION>__<KEY> name; ignored");
    }
    actix_web::rt::System::new().block_on(async move {
        let running = start(config)?;
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
pub fn start(config: Config) -> Result<Running, StartError> {
    let listener = bind(config.server.listen)?;
    let admin = config.server.admin_listen.map(bind).transpose()?;
    start_on(config, listener, admin)
}

/// Starts serving on already bound listeners (tests bind port 0 first). Must be called inside
/// an actix/tokio runtime: it spawns the IdP discovery loop. Signals are not handled here: the
/// caller decides when to [`Running::drain`].
pub fn start_on(
    config: Config,
    listener: TcpListener,
    admin: Option<TcpListener>,
) -> Result<Running, StartError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let state = shared_state(config, &addr)?;
    let metrics_on_main = admin.is_none();
    let server = main_server(state.clone(), listener, addr, metrics_on_main)?;
    let admin = admin.map(|l| admin_server(state.clone(), l)).transpose()?;
    Ok(Running {
        server,
        admin,
        state,
    })
}

/// The state every worker shares: the store, the IdP client (its discovery loop started) and
/// the session manager (listening for sessions ended on other replicas).
fn shared_state(config: Config, addr: &str) -> Result<web::Data<AppState>, StartError> {
    let store = SessionManager::store_from_config(&config)?;
    let oidc = Arc::new(Provider::new(&config)?);
    let sessions = Arc::new(SessionManager::new(&config, store, oidc.sealing_secret()));
    sessions.listen_for_ended_sessions();
    tokio::spawn(oidc.clone().keep_discovered());
    tracing::info!(
        listen = %addr,
        public_url = %config.server.public_url,
        store = sessions.store().kind(),
        "vestibule starting"
    );
    let client_tokens = ClientTokens::new(&config, sessions.store().clone(), oidc.sealing_secret());
    let login_rate = auth::LoginRate::new(config.server.logins_per_minute);
    let identity = Arc::new(Identity::new(&config, sessions.store().clone())?);
    tokio::spawn(identity.clone().warm());
    Ok(web::Data::new(AppState {
        identity,
        login_rate,
        config: Arc::new(config),
        oidc,
        sessions,
        client_tokens,
        draining: AtomicBool::new(false),
        in_flight: AtomicUsize::new(0),
    }))
}

/// The main server: auth endpoints, API routes, the SPA, health (and metrics when there is no
/// admin listener), behind the limits and the request log.
fn main_server(
    state: web::Data<AppState>,
    listener: TcpListener,
    addr: String,
    metrics_on_main: bool,
) -> Result<Server, StartError> {
    let config = state.config.clone();
    let identity = state.identity.clone();
    let router = Arc::new(proxy::Router::new(proxy::routes(&config)?));
    let spa_upstream = proxy::spa_upstream(&config);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let server = HttpServer::new(move || {
        let cfg = state.config.clone();
        let mut app = App::new()
            .app_data(state.clone())
            // The routes, for the forward-auth endpoint (the API scope's guard has its own).
            .app_data(web::Data::from(router.clone()))
            // One upstream client (and connection pool) per worker: see `UpstreamClient`.
            .app_data(web::Data::new(proxy::UpstreamClient::new()))
            .wrap(from_fn(limits::enforce))
            .wrap(from_fn(telemetry::request_log))
            .configure(health::configure)
            // Before the API scope: a route cannot hide it.
            .configure(|c| identity::configure(c, &identity))
            .configure(|c| {
                if metrics_on_main {
                    telemetry::metrics::configure(c)
                }
            })
            .configure(|c| auth::configure(c, &cfg.server.auth_prefix))
            .configure(|c| proxy::configure(c, &router));
        if let Some(dir) = &cfg.spa.dir {
            app = app.configure(|c| spa::configure(c, dir));
        } else if let Some(route) = &spa_upstream {
            app = app.service(proxy::spa_service(route.clone()));
        }
        app
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
fn admin_server(state: web::Data<AppState>, listener: TcpListener) -> Result<Server, StartError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let grace = state.config.server.shutdown_grace.as_secs();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
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

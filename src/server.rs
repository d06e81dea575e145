//! Builds the HTTP server from a validated config.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::config::Config;
use crate::oidc::{OidcError, Provider};
use crate::session::{SessionManager, StoreError};
use crate::{AppState, auth, health, proxy, spa, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Oidc(#[from] OidcError),
}

/// Binds `[server] listen` and starts serving.
pub fn start(config: Config) -> Result<Server, StartError> {
    let addr = config.server.listen;
    let listener = TcpListener::bind(addr).map_err(|source| StartError::Listen {
        addr: addr.to_string(),
        source,
    })?;
    start_on(config, listener)
}

/// Starts serving on an already bound listener (tests bind port 0 first). Must be called inside
/// an actix/tokio runtime: it spawns the IdP discovery loop.
pub fn start_on(config: Config, listener: TcpListener) -> Result<Server, StartError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let store = SessionManager::store_from_config(&config)?;
    let sessions = Arc::new(SessionManager::new(&config, store));
    let oidc = Arc::new(Provider::new(&config)?);
    tokio::spawn(oidc.clone().keep_discovered());
    tracing::info!(
        listen = %addr,
        public_url = %config.server.public_url,
        store = sessions.store().kind(),
        "vestibule starting"
    );

    let routes = proxy::routes(&config);
    let spa_upstream = proxy::spa_upstream(&config);
    let state = web::Data::new(AppState {
        config: Arc::new(config),
        oidc,
        sessions,
    });
    let server = HttpServer::new(move || {
        let cfg = state.config.clone();
        let mut app = App::new()
            .app_data(state.clone())
            // One upstream client (and connection pool) per worker: each actix worker is a
            // single-threaded runtime, and a pooled connection is driven by the runtime that
            // opened it, so a shared pool would bounce every call between threads.
            .app_data(web::Data::new(proxy::UpstreamClient::new()))
            .wrap(from_fn(telemetry::request_log))
            .configure(health::configure)
            .configure(|c| auth::configure(c, &cfg.server.auth_prefix))
            .configure(|c| proxy::configure(c, &routes));
        if let Some(dir) = &cfg.spa.dir {
            app = app.configure(|c| spa::configure(c, dir));
        } else if let Some(route) = &spa_upstream {
            app = app.service(proxy::spa_service(route.clone()));
        }
        app
    })
    .listen(listener)
    .map_err(|source| StartError::Listen { addr, source })?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

//! Vestibule: a backend-for-frontend session proxy.
//!
//! Where things are: `config` (the TOML file), `oidc` (the IdP: discovery, tokens, ID token
//! validation), `session` (cookies, stores, encryption), `auth` (login, callback, session,
//! logout endpoints), `proxy` (API routes: token, streaming, WebSockets), `health`, `spa`
//! (static files), `telemetry` (logs), `error` (errors to HTTP responses). `server` wires them
//! into an actix-web server.

pub mod auth;
pub mod config;
pub mod error;
pub mod health;
pub mod limits;
pub mod oidc;
pub mod proxy;
pub mod server;
pub mod session;
pub mod spa;
pub mod telemetry;

use std::sync::Arc;

/// What every handler shares.
pub struct AppState {
    pub config: Arc<config::Config>,
    pub oidc: Arc<oidc::Provider>,
    pub sessions: Arc<session::SessionManager>,
    /// Set when shutdown begins: `/readyz` answers 503 from then on.
    pub draining: std::sync::atomic::AtomicBool,
    /// Requests being served (for `max_in_flight`).
    pub in_flight: std::sync::atomic::AtomicUsize,
}

//! Vestibule: a backend-for-frontend session proxy.
//!
//! The crate map (`ARCHITECTURE.md` says the same, with where to start reading):
//!
//! - [`server`]: builds and runs the actix-web server(s), drains them on shutdown;
//! - [`config`]: the TOML file, environment overrides, validation per section;
//! - [`auth`]: the `/auth/*` endpoints: login, callback, session, logout, back-channel logout;
//! - [`csrf`]: every rule about where a request may come from;
//! - [`admin`]: the operators' session API on `admin_listen` (list, end, count sessions) and
//!   the `sessions` subcommand that calls it;
//! - [`session`]: a signed-in browser's session: the cookie codec, pending logins, the
//!   exactly-once token refresh, the session registry, event streams;
//! - [`store`]: the shared expiring store, bytes only (memory, Redis), and its key layout;
//! - [`crypto`]: random tokens, hex, constant-time comparison, sealing, the deployment's keyring;
//! - [`identity`]: the signed identity sent upstreams, its keys and `/.well-known/jwks.json`;
//! - [`oidc`]: the IdP: discovery and keys, the authorization request, the token endpoint, ID
//!   and logout token validation;
//! - [`proxy`]: API routes: token, rules, header hygiene, streaming, WebSockets;
//! - [`authz`]: a route's `allow` rule (CEL over the user's claims and the request);
//! - [`spa`]: the single-page app's static files (or dev server, through `proxy`);
//! - [`health`]: `/healthz`, `/readyz`, and the `healthcheck` command's probe;
//! - [`limits`]: request head size and requests in flight;
//! - [`telemetry`]: logs, request ids, Prometheus metrics;
//! - [`error`]: the one place where errors become HTTP responses;
//! - [`support`]: the clock, poison-tolerant locks, error chains for logs, the path rules that
//!   more than one layer applies.

#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod authz;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod error;
pub mod health;
pub mod identity;
pub mod limits;
pub mod oidc;
pub mod proxy;
pub mod server;
pub mod session;
pub mod spa;
pub mod store;
pub mod support;
pub mod telemetry;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

/// What every handler shares.
pub struct AppState {
    pub config: Arc<config::Config>,
    pub oidc: Arc<oidc::Provider>,
    pub sessions: Arc<session::SessionManager>,
    /// The application's own tokens, for `client` routes.
    pub client_tokens: session::ClientTokens,
    /// The identity sent upstreams (`identity_header` routes), and its keys.
    pub identity: Arc<identity::Identity>,
    /// Set when shutdown begins: `/readyz` answers 503 from then on.
    pub draining: AtomicBool,
    /// Requests being served (for `max_in_flight`).
    pub in_flight: AtomicUsize,
    /// Logins per client while they cost an IdP call (`server.logins_per_minute`).
    pub login_rate: auth::LoginRate,
}

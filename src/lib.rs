//! Vestibule: a backend-for-frontend session proxy.
//!
//! The crate map (`ARCHITECTURE.md` says the same, with where to start reading):
//!
//! - [`server`]: builds and runs the actix-web server(s), drains them on shutdown;
//! - [`config`]: the TOML file, environment overrides, validation per section;
//! - [`auth`]: the `/auth/*` endpoints: login, callback, session, logout, back-channel logout;
//! - [`csrf`]: every rule about where a request may come from;
//! - [`apps`]: the apps of the deployment, which one a request is for (its `Host`), and reloading
//!   them from the config file;
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
pub mod apps;
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

/// What the handlers of one app signed in with one of its providers share: a request is served
/// by the one its `Host` and session cookie pick (see [`apps`]), so that every handler sees one
/// app and one provider, and a session's refresh, logout and route tokens go to the provider
/// that signed it in.
pub struct AppState {
    /// The app's config, with this provider's `oidc`.
    pub config: Arc<config::Config>,
    pub oidc: Arc<oidc::Provider>,
    /// This provider's sessions (its own store namespace, its cookies' values tagged with it).
    pub sessions: Arc<session::SessionManager>,
    /// The application's own tokens, for `client` routes.
    pub client_tokens: Arc<session::ClientTokens>,
    /// The identity sent upstreams (`identity_header` routes), and its keys: the app's.
    pub identity: Arc<identity::Identity>,
    /// The app's API routes.
    pub router: Arc<proxy::Router>,
    /// The SPA's dev server, when `spa.upstream` is set.
    pub spa_upstream: Option<Arc<proxy::Route>>,
    /// Logins per client while they cost an IdP call (`server.logins_per_minute`): the
    /// process's, shared by every app.
    pub login_rate: Arc<auth::LoginRate>,
}

/// One app: its providers' states, in the file's order.
pub struct App {
    pub name: Arc<str>,
    pub providers: Vec<Arc<AppState>>,
    /// Where `/auth/login` goes without `provider`: `None` with several providers and no
    /// `default_provider` (the chooser).
    pub default: Option<usize>,
}

impl App {
    pub fn provider(&self, name: &str) -> Option<&Arc<AppState>> {
        self.providers.iter().find(|p| p.config.oidc.name == name)
    }

    /// The state a request without a session of a known provider is served by.
    pub fn first(&self) -> &Arc<AppState> {
        &self.providers[self.default.unwrap_or(0)]
    }
}

/// Marks a request whose session cookie names a provider its app no longer has (a reload
/// removed it): its 401 says `config_removed`.
#[derive(Clone, Copy)]
pub struct ConfigRemoved;

/// The handlers' argument: the app and provider state this request is served by.
pub type CurrentApp = actix_web::web::ReqData<Arc<AppState>>;

/// What the whole process shares, whichever app a request is for.
pub struct Process {
    /// The config the process started with: listeners, limits and the store do not reload.
    pub config: Arc<config::Config>,
    /// The apps, swapped whole by a reload.
    pub apps: apps::Live,
    /// Set when shutdown begins: `/readyz` answers 503 from then on.
    pub draining: AtomicBool,
    /// Requests being served (for `max_in_flight`).
    pub in_flight: AtomicUsize,
}

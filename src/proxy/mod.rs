//! API proxying for `[[routes]]` (and the SPA dev server): the CSRF rules, the route's token
//! policy, then the call is forwarded with `Authorization: Bearer <access token>`, streaming both
//! ways.
//!
//! - `path`: the canonical reading of a path, and the spellings an API path may not have;
//! - `router`: [`Router`], choosing a request's route on that reading;
//! - `route`: [`Route`], a `[[routes]]` entry and how its upstream URL is made;
//! - `forward`: forwarding one HTTP call (streaming, limits, timeouts);
//! - `call`: [`Call`], one call as a route's policy judges it (served here, or checked for a
//!   gateway by `auth::check`);
//! - `token`: the access token a route sends (its kind; refreshed first when needed), and
//!   [`admit`], a call's admission: step-up, rule, token;
//! - `step_up`: a route's stronger or more recent sign-in rule (RFC 9470);
//! - `rule`: a route's `allow` rule deciding, counted and logged ([`RouteRule`]);
//! - [`headers`]: header hygiene both ways, and the forwarding headers Vestibule adds;
//! - `identity`: the signed identity a call carries, and the browser's identity headers removed;
//! - `websocket`: WebSocket upgrades; `client`: the upstream HTTP client;
//! - `service`: where the API scope and the SPA dev-server service are registered;
//! - [`ProxyError`] (`error`).

mod call;
mod client;
mod error;
mod forward;
pub mod headers;
mod identity;
pub mod path;
mod route;
mod router;
mod rule;
mod service;
mod step_up;
mod token;
mod websocket;

pub use call::Call;
pub use client::UpstreamClient;
pub use error::ProxyError;
pub use identity::for_caller as identity_for_caller;
pub use path::PathError;
pub use route::{DEFAULT_IDENTITY_HEADER, Route, routes, spa_upstream};
pub use router::Router;
pub use rule::{BadRule, Outcome, RouteRule};
pub use service::{configure, spa_dev_server};
pub use step_up::Challenge;
pub use token::{Admission, admit};
pub use websocket::is_upgrade as is_websocket_upgrade;

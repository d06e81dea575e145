//! API proxying for `[[routes]]` (and the SPA dev server): the CSRF rules, the route's token
//! policy, then the call is forwarded with `Authorization: Bearer <access token>`, streaming both
//! ways.
//!
//! - `route`: [`Route`], a `[[routes]]` entry and how its upstream URL is made;
//! - `forward`: forwarding one HTTP call (streaming, limits, timeouts);
//! - `token`: the access token a route sends (its kind; refreshed first when needed);
//! - `step_up`: a route's stronger or more recent sign-in rule (RFC 9470);
//! - [`headers`]: header hygiene both ways, and the forwarding headers Vestibule adds;
//! - `websocket`: WebSocket upgrades; `client`: the upstream HTTP client;
//! - [`ProxyError`] (`error`).

mod client;
mod error;
mod forward;
pub mod headers;
mod route;
mod step_up;
mod token;
mod websocket;

use std::sync::Arc;

use actix_web::web;

pub use client::UpstreamClient;
pub use error::ProxyError;
pub use route::{Route, routes, spa_upstream};
pub use step_up::Challenge;

/// Registers each route as a scope (actix matches scopes on whole path segments), most specific
/// first so the longest prefix wins.
pub fn configure(cfg: &mut web::ServiceConfig, routes: &[Arc<Route>]) {
    for route in routes {
        cfg.service(
            web::scope(&route.prefix)
                .app_data(web::Data::from(route.clone()))
                .default_service(web::to(forward::forward)),
        );
    }
}

/// The catch-all service for the SPA dev server (registered last).
pub fn spa_service(route: Arc<Route>) -> actix_web::Scope {
    web::scope("")
        .app_data(web::Data::from(route))
        .default_service(web::to(forward::forward))
}

//! Where the API scope (and the SPA dev server's catch-all) are registered.

use actix_web::web;

use super::{forward, router};

/// Registers the API: one scope whose guard chooses the route of every path from the request's
/// app's routes (see `Router`); paths under no route fall through to the SPA.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .guard(router::ApiPath)
            .default_service(web::to(forward::forward)),
    );
}

/// The catch-all handler for an app whose SPA is a dev server.
pub use forward::forward_spa as spa_dev_server;

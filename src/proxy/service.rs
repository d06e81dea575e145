//! Where the API scope (and the SPA dev server's catch-all) are registered.

use std::sync::Arc;

use actix_web::web;

use super::{Route, Router, forward, router};

/// Registers the API: one scope whose guard chooses the route of every path (see `Router`);
/// paths under no route fall through to the SPA.
pub fn configure(cfg: &mut web::ServiceConfig, router: &Arc<Router>) {
    cfg.service(
        web::scope("")
            .guard(router::ApiPath(router.clone()))
            .default_service(web::to(forward::forward)),
    );
}

/// The catch-all service for the SPA dev server (registered last).
pub fn spa_service(route: Arc<Route>) -> actix_web::Scope {
    web::scope("")
        .app_data(web::Data::from(route))
        .default_service(web::to(forward::forward_spa))
}

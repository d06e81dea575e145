//! `GET /.well-known/jwks.json`: the public keys upstreams verify identities with (the signing
//! key and the retired ones), on the main listener, outside the auth scope. Upstreams may cache
//! it five minutes; a new key is published before it signs (see the manual's rotation steps).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::IdentityError;
use crate::{AppState, CurrentApp};

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long upstreams and caches may keep the JWKS.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Registers the JWKS endpoint, for the apps where some route sends an identity (elsewhere the
/// path is the SPA's or a route's, as any other).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(JWKS_PATH)
            .guard(actix_web::guard::fn_guard(|ctx| {
                ctx.req_data()
                    .get::<Arc<AppState>>()
                    .is_some_and(|s| s.identity.enabled())
            }))
            .route(web::get().to(jwks)),
    );
}

async fn jwks(state: CurrentApp) -> Result<HttpResponse, IdentityError> {
    let keys = state.identity.keys().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .body(keys.jwks()))
}

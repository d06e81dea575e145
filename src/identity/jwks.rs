//! `GET /.well-known/jwks.json`: the public keys upstreams verify identities with (the signing
//! key and the retired ones), on the main listener, outside the auth scope. Upstreams may cache
//! it five minutes; a new key is published before it signs (see the manual's rotation steps).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::{Identity, IdentityError};

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long upstreams and caches may keep the JWKS.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Registers the JWKS endpoint when some route sends an identity.
pub fn configure(cfg: &mut web::ServiceConfig, identity: &Arc<Identity>) {
    if identity.enabled() {
        cfg.service(
            web::resource(JWKS_PATH)
                .app_data(web::Data::from(identity.clone()))
                .route(web::get().to(jwks)),
        );
    }
}

async fn jwks(identity: web::Data<Identity>) -> Result<HttpResponse, IdentityError> {
    let keys = identity.keys().await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .body(keys.jwks()))
}

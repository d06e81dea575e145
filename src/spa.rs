//! The single-page app: static files from `[spa] dir`, with `index.html` for navigations to
//! paths that are not files (client-side routes) and a plain 404 for missing assets.
//!
//! Caching: `index.html` (and every navigation fallback) is `no-cache`, so a deploy is picked up
//! at once; fingerprinted assets (`app.3f9a2b1c.js`, `index-BxK3n9aZ.js`) are
//! `public, max-age=31536000, immutable`; other files are `no-cache` and revalidated with their
//! ETag (`If-None-Match` → 304). Content types come from the file extension. Compression:
//! [`compress`] (precompressed siblings, else text on the fly).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use actix_files::{Files, FilesService, NamedFile};
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse, fn_service};
use actix_web::guard::fn_guard;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};

use crate::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Registers the SPA, last: every path that is nothing else goes to the request's app's SPA, a
/// dev server (through `proxy`) or built files. Apps are looked up per request, so that a
/// reload may change them.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .guard(fn_guard(|ctx| {
                app_of(ctx.req_data().get::<Arc<AppState>>())
                    .is_some_and(|s| s.spa_upstream.is_some())
            }))
            .default_service(web::to(crate::proxy::spa_dev_server)),
    );
    // Per worker (this runs in each worker's app factory): a file service per directory.
    let served: Rc<RefCell<HashMap<PathBuf, FilesService>>> = Rc::default();
    let encode = |req: ServiceRequest, next: Next<actix_web::body::BoxBody>| async move {
        let root = spa_dir(&req).unwrap_or_default();
        compress::encode(&root, req, next).await
    };
    cfg.service(
        web::scope("")
            .guard(fn_guard(|ctx| {
                app_of(ctx.req_data().get::<Arc<AppState>>())
                    .is_some_and(|s| s.config.spa.dir.is_some())
            }))
            .wrap(from_fn(encode))
            .wrap(from_fn(cache_control))
            .default_service(fn_service(move |req: ServiceRequest| {
                let served = served.clone();
                async move {
                    let Some(dir) = spa_dir(&req) else {
                        return Ok(req.into_response(HttpResponse::NotFound().finish()));
                    };
                    let service = files_for(&served, &dir).await?;
                    service.call(req).await
                }
            })),
    );
}

fn app_of(state: Option<&Arc<AppState>>) -> Option<&AppState> {
    state.map(|s| &**s)
}

/// The request's app's SPA directory.
fn spa_dir(req: &ServiceRequest) -> Option<PathBuf> {
    req.extensions()
        .get::<Arc<AppState>>()
        .and_then(|s| s.config.spa.dir.clone())
}

/// This worker's file service for `dir`, made on first use.
async fn files_for(
    served: &Rc<RefCell<HashMap<PathBuf, FilesService>>>,
    dir: &Path,
) -> Result<FilesService, actix_web::Error> {
    if let Some(s) = served.borrow().get(dir) {
        return Ok(s.clone());
    }
    let service = files(dir)
        .new_service(())
        .await
        .map_err(|()| actix_web::error::ErrorInternalServerError("the SPA's files"))?;
    served
        .borrow_mut()
        .insert(dir.to_path_buf(), service.clone());
    Ok(service)
}

/// The files of `dir`, with `index.html` for navigations to paths that are not files.
fn files(dir: &Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
        .use_etag(true)
        .use_last_modified(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let res = if is_navigation(&req) {
                    match NamedFile::open(&index) {
                        Ok(f) => f.into_response(&req),
                        Err(_) => HttpResponse::NotFound().finish(),
                    }
                } else {
                    HttpResponse::NotFound().finish()
                };
                Ok(ServiceResponse::new(req, res))
            }
        }))
}

/// Sets `Cache-Control` on successful SPA responses.
async fn cache_control(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let immutable = is_fingerprinted(req.path());
    let mut res = next.call(req).await?;
    let status = res.status();
    if status.is_success() || status == actix_web::http::StatusCode::NOT_MODIFIED {
        let is_html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        let value = if immutable && !is_html {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    Ok(res)
}

/// A file name with a content hash before its extension: `name.HASH.ext` or `name-HASH.ext`,
/// HASH being 8+ characters of `[A-Za-z0-9_]` with a digit, or with both cases.
pub fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    let hash = stem.rsplit(['.', '-']).next().unwrap_or_default();
    if hash.len() < 8
        || hash.len() == stem.len()
        || !hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return false;
    }
    let digit = hash.bytes().any(|b| b.is_ascii_digit());
    let mixed = hash.bytes().any(|b| b.is_ascii_lowercase())
        && hash.bytes().any(|b| b.is_ascii_uppercase());
    digit || mixed
}

/// A browser navigation: a GET or HEAD that accepts HTML.
fn is_navigation(req: &actix_web::HttpRequest) -> bool {
    matches!(
        *req.method(),
        actix_web::http::Method::GET | actix_web::http::Method::HEAD
    ) && req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

mod compress;

#[cfg(test)]
mod tests;

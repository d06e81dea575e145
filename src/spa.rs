//! The single-page app: static files from `[spa] dir`, with `index.html` for navigations to
//! paths that are not files (client-side routes) and a plain 404 for missing assets.
//!
//! Caching: `index.html` (and every navigation fallback) is `no-cache`, so a deploy is picked up
//! at once; fingerprinted assets (`app.3f9a2b1c.js`, `index-BxK3n9aZ.js`) are
//! `public, max-age=31536000, immutable`; other files are `no-cache` and revalidated with their
//! ETag (`If-None-Match` → 304). Content types come from the file extension. Compression:
//! [`compress`] (precompressed siblings, else text on the fly).

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Registers the service serving `dir` at `/`; must come after every other route.
pub fn configure(cfg: &mut web::ServiceConfig, dir: &Path) {
    let index: PathBuf = dir.join("index.html");
    let files = Files::new("/", dir)
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
        }));
    let root = std::sync::Arc::new(dir.to_path_buf());
    let encode = move |req: ServiceRequest, next: Next<actix_web::body::BoxBody>| {
        let root = root.clone();
        async move { compress::encode(&root, req, next).await }
    };
    cfg.service(
        web::scope("")
            .wrap(from_fn(encode))
            .wrap(from_fn(cache_control))
            .service(files),
    );
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

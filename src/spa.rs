//! The single-page app: static files from `[spa] dir`, with `index.html` for navigations to
//! paths that are not files (client-side routes) and a plain 404 for missing assets.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::HttpResponse;
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header;

/// A service serving `dir` at `/`; must be registered after every other route.
pub fn files(dir: &Path) -> Files {
    let index: PathBuf = dir.join("index.html");
    Files::new("/", dir)
        .index_file("index.html")
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

/// A browser navigation: a GET that accepts HTML.
fn is_navigation(req: &actix_web::HttpRequest) -> bool {
    req.method() == actix_web::http::Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

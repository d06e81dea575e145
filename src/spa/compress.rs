//! Content encoding of the SPA's files, so a first load moves compressed bytes.
//!
//! 1. A precompressed sibling the build made (`app.3f9a2b1c.js.br`, `.gz`) is served as it is,
//!    with `Content-Encoding` and the original's type: no CPU per request, the best ratio.
//! 2. Otherwise a text file of at least [`MIN_SIZE`] bytes is compressed on the fly (brotli at a
//!    fast level, or gzip), streamed: nothing is buffered whole.
//!
//! Either way the response says `Vary: Accept-Encoding`. ETags stay right per encoding: a sibling
//! has its own (it is another file), and an on-the-fly encoding makes the file's ETag weak, as
//! nginx does, so a revalidation (`If-None-Match`, a weak comparison) still gets its 304.
//! Only the SPA scope is wrapped: proxied API bodies and event streams are never touched.

use std::path::{Component, Path, PathBuf};

use actix_files::NamedFile;
use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentEncoding, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;

/// Below this, compressing saves less than the headers it adds.
pub const MIN_SIZE: u64 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    fn extension(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gz",
        }
    }

    fn content_encoding(self) -> ContentEncoding {
        match self {
            Self::Brotli => ContentEncoding::Brotli,
            Self::Gzip => ContentEncoding::Gzip,
        }
    }
}

/// The coding to send for this `Accept-Encoding`: brotli when accepted at least as much as gzip
/// (browsers list both at q=1), else gzip, else none. `*` counts for either.
pub fn preferred(headers: &HeaderMap) -> Option<Coding> {
    let mut br = None;
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match name.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Some(Coding::Brotli)
    } else if gzip > 0.0 {
        Some(Coding::Gzip)
    } else {
        None
    }
}

/// The middleware on the SPA scope.
pub async fn encode(
    dir: &Path,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let coding = preferred(req.headers());
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    if let Some(coding) = coding.filter(|_| readable)
        && let Some(file) = precompressed(dir, req.path(), coding)
    {
        let (req, _) = req.into_parts();
        let mut res = file.into_response(&req);
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        return Ok(ServiceResponse::new(req, res));
    }
    let res = next.call(req).await?;
    Ok(on_the_fly(res, coding))
}

/// `{dir}{path}.br` (or `.gz`) when both it and the file it compresses exist under `dir`.
fn precompressed(dir: &Path, path: &str, coding: Coding) -> Option<NamedFile> {
    let relative = safe_relative(path)?;
    let original = dir.join(&relative);
    let ext = original.extension()?.to_str()?.to_owned();
    let mut sibling = original.clone().into_os_string();
    sibling.push(".");
    sibling.push(coding.extension());
    let sibling = PathBuf::from(sibling);
    if !original.is_file() || !sibling.is_file() {
        return None;
    }
    let file = NamedFile::open(&sibling).ok()?;
    Some(
        file.set_content_type(actix_files::file_extension_to_mime(&ext))
            .set_content_encoding(coding.content_encoding())
            .disable_content_disposition(),
    )
}

/// The request path as a relative path with normal segments only (percent-decoded): no `..`,
/// no root, no hidden file, no backslash or NUL. `None` for anything else, which then goes to
/// `actix-files` and its own rules.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let mut out = PathBuf::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains(['\\', '\0']) {
            return None;
        }
        match Path::new(segment).components().next() {
            Some(Component::Normal(_)) => out.push(segment),
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn on_the_fly<B: MessageBody + 'static>(
    mut res: ServiceResponse<B>,
    coding: Option<Coding>,
) -> ServiceResponse<BoxBody> {
    let compressible = matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED)
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_text);
    if !compressible {
        return res.map_into_boxed_body();
    }
    let large = matches!(res.response().body().size(), BodySize::Sized(n) if n >= MIN_SIZE);
    match coding {
        Some(coding) if res.status() == StatusCode::OK && large => {
            weaken_etag(res.headers_mut());
            // The encoder sets Content-Encoding and Vary, and streams.
            res.map_body(|head, body| {
                BoxBody::new(Encoder::response(coding.content_encoding(), head, body))
            })
        }
        _ => {
            res.headers_mut()
                .append(header::VARY, HeaderValue::from_static("accept-encoding"));
            res.map_into_boxed_body()
        }
    }
}

fn weaken_etag(headers: &mut HeaderMap) {
    let Some(strong) = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.starts_with("W/"))
        .map(|v| format!("W/{v}"))
    else {
        return;
    };
    if let Ok(weak) = HeaderValue::from_str(&strong) {
        headers.insert(header::ETAG, weak);
    }
}

/// Types worth compressing (already-compressed images, fonts and archives are not).
fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/javascript"
                | "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "application/wasm"
                | "image/svg+xml"
        )
}

#[cfg(test)]
mod tests;

//! Every rule about where a request comes from, in one place.
//!
//! 1. **The anti-CSRF header** (`X-CSRF: 1` by default) on `/auth/session` and every API call. A
//!    custom header cannot be sent cross-site without a CORS preflight, and Vestibule grants none.
//! 2. **The browser's own word** on `/auth/session`, API calls and logout: `Sec-Fetch-Site`, when
//!    sent, must be `same-origin` (`same-site` is refused too: a sibling subdomain is another
//!    application), and `Origin`, when sent, must be exactly `public_url`. Clients that are not
//!    browsers send neither and pass this layer; they still need layer 1 (or the logout token).
//! 3. **WebSocket upgrades** on API routes: browsers cannot add headers to a handshake, so
//!    instead of layer 1 the upgrade must carry `Origin` = `public_url` (cross-site WebSocket
//!    hijacking).
//!
//! 4. **A gateway's check** (`/auth/check`) of the request it is about to forward, judged on
//!    that request's method and the browser's headers the gateway passed on: a call carrying the
//!    anti-CSRF header, and every method but GET and HEAD, meets layers 1 and 2 as an API call
//!    does; a GET or HEAD without it (a page, a link followed, an image) meets Fetch Metadata's
//!    resource isolation policy: same-origin, typed or bookmarked, no Fetch Metadata at all, or a
//!    top-level navigation from anywhere (a link on another site must open a page); and `Origin`,
//!    when sent, must be `public_url`.
//!
//! `/auth/login` accepts cross-site navigations on purpose (a "Sign in" link on another site);
//! the callback is protected by the browser-bound state instead (`session::pending`).

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("missing or wrong anti-CSRF header")]
    MissingHeader,
    #[error("the request did not come from a page of this application's origin")]
    CrossSite,
    #[error("cross-site WebSocket upgrade refused")]
    CrossSiteWebSocket,
}

/// A call from the SPA's own code (`fetch`): both layers.
pub fn check_call(config: &Config, req: &HttpRequest) -> Result<(), CsrfError> {
    check_call_headers(config, req.headers())
}

fn check_call_headers(config: &Config, headers: &HeaderMap) -> Result<(), CsrfError> {
    if !has_csrf_header(config, headers) {
        return Err(CsrfError::MissingHeader);
    }
    if !from_own_origin(config, headers, Typed::Refused) {
        return Err(CsrfError::CrossSite);
    }
    Ok(())
}

/// The request a gateway checks (layer 4): `method` is the original request's, `headers` the
/// browser's as the gateway passed them on.
pub fn check_forwarded(
    config: &Config,
    method: &str,
    headers: &HeaderMap,
) -> Result<(), CsrfError> {
    if !is_read(method) || has_csrf_header(config, headers) {
        return check_call_headers(config, headers);
    }
    let fetch = |name: header::HeaderName| headers.get(name).map(|v| v.as_bytes());
    let top_level =
        fetch(SEC_FETCH_MODE) == Some(b"navigate") && fetch(SEC_FETCH_DEST) == Some(b"document");
    if top_level {
        return match headers.get(header::ORIGIN) {
            Some(o) if !is_own_origin(config, o.as_bytes()) => Err(CsrfError::CrossSite),
            _ => Ok(()),
        };
    }
    if from_own_origin(config, headers, Typed::Allowed) {
        Ok(())
    } else {
        Err(CsrfError::CrossSite)
    }
}

/// Whether a request a gateway checks is a page being opened (a GET or HEAD without the
/// anti-CSRF header, and a navigation when the browser says what it is): what a sign-in
/// redirect suits, where an API call wants its 401.
pub fn is_navigation(config: &Config, method: &str, headers: &HeaderMap) -> bool {
    is_read(method)
        && !has_csrf_header(config, headers)
        && headers
            .get(SEC_FETCH_MODE)
            .is_none_or(|m| m.as_bytes() == b"navigate")
}

// Named once: a lookup by `&str` parses the name, and allocates it (these are not among the
// names the `http` crate knows), on every call.
const SEC_FETCH_MODE: header::HeaderName = header::HeaderName::from_static("sec-fetch-mode");
const SEC_FETCH_SITE: header::HeaderName = header::HeaderName::from_static("sec-fetch-site");
const SEC_FETCH_DEST: header::HeaderName = header::HeaderName::from_static("sec-fetch-dest");

fn is_read(method: &str) -> bool {
    method == "GET" || method == "HEAD"
}

fn has_csrf_header(config: &Config, headers: &HeaderMap) -> bool {
    headers
        .get(config.server.csrf_header.as_str())
        .is_some_and(|v| v.as_bytes() == b"1")
}

/// A navigation that changes state (logout): it cannot carry a header, so a per-endpoint secret
/// is layer 1; this is layer 2, which also admits a URL the user typed or bookmarked.
pub fn check_navigation(config: &Config, req: &HttpRequest) -> Result<(), CsrfError> {
    if from_own_origin(config, req.headers(), Typed::Allowed) {
        Ok(())
    } else {
        Err(CsrfError::CrossSite)
    }
}

/// A WebSocket upgrade on an API route: `Origin` must be present and ours.
pub fn check_websocket(config: &Config, req: &HttpRequest) -> Result<(), CsrfError> {
    match req.headers().get(header::ORIGIN) {
        Some(origin) if is_own_origin(config, origin.as_bytes()) => Ok(()),
        _ => Err(CsrfError::CrossSiteWebSocket),
    }
}

/// Whether `Sec-Fetch-Site: none` (typed, bookmarked) passes besides `same-origin`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Typed {
    Allowed,
    Refused,
}

fn from_own_origin(config: &Config, headers: &HeaderMap, typed: Typed) -> bool {
    let site_ok = match headers.get(SEC_FETCH_SITE).map(|v| v.as_bytes()) {
        None | Some(b"same-origin") => true,
        Some(b"none") => typed == Typed::Allowed,
        Some(_) => false,
    };
    let origin_ok = headers
        .get(header::ORIGIN)
        .is_none_or(|o| is_own_origin(config, o.as_bytes()));
    site_ok && origin_ok
}

/// The one origin comparison: exactly `public_url` without its trailing slash, byte for byte.
fn is_own_origin(config: &Config, origin: &[u8]) -> bool {
    origin == config.origin().as_bytes()
}

#[cfg(test)]
mod tests;

//! The request a gateway asks `/auth/check` about, in the gateway's own words, taken only when
//! the TCP peer is one of `server.trusted_proxies`: a client can send every one of these headers
//! too, and a gateway that passes the client's headers on (nginx passes them all to its auth
//! subrequest) would carry them.
//!
//! Two ways to say it, never both:
//! - **headers** (nginx `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`): `GET
//!   /auth/check` with the URI in `X-Original-URI` (nginx: `$request_uri`) or `X-Forwarded-Uri`
//!   (Traefik, Caddy), exactly one of them, once; and the method in `X-Forwarded-Method`, once
//!   (nginx's subrequest is always a GET: without the header a POST would be judged as one);
//! - **path** (Envoy `ext_authz` over HTTP, `path_prefix = "/auth/check"`): the original path
//!   follows the check's own (`/auth/check/api/x?q`), and the method is the request's own; then
//!   none of the headers above may come along.
//!
//! A URI is an origin-form request target (`/path?query`): an absolute URI (another host), a
//! fragment, a space or a control or non-ASCII byte is refused, as a gateway never sends one.
//! Rewrite and method-override headers (`X-HTTP-Method-Override`, `X-Original-URL`, …) are
//! never read.

use actix_web::HttpRequest;
use actix_web::http::Method;

use super::CheckError;
use crate::config::Config;

pub const ORIGINAL_URI: &str = "x-original-uri";
pub const FORWARDED_URI: &str = "x-forwarded-uri";
pub const FORWARDED_METHOD: &str = "x-forwarded-method";

/// The request being checked.
#[derive(Debug, PartialEq)]
pub struct Original {
    pub method: Method,
    /// Its path, raw, as the browser sent it.
    pub path: String,
    /// Its path and query (where a sign-in should bring the user back).
    pub uri: String,
}

/// The request the peer of `req` asks about; `check_path` is where the check endpoint is
/// (`{auth_prefix}/check`).
pub fn read(req: &HttpRequest, config: &Config, check_path: &str) -> Result<Original, CheckError> {
    let peer = req.peer_addr().map(|a| a.ip());
    if !peer.is_some_and(|ip| config.server.trusted_proxies.contains(ip)) {
        return Err(CheckError::UntrustedProxy(peer.map_or_else(
            || "(unknown)".to_owned(),
            |ip| ip.to_canonical().to_string(),
        )));
    }
    let tail = req
        .uri()
        .path()
        .strip_prefix(check_path)
        .ok_or(CheckError::BadForwarded(
            "the check's own path is spelled oddly",
        ))?;
    if tail.is_empty() {
        return from_headers(req);
    }
    if [ORIGINAL_URI, FORWARDED_URI, FORWARDED_METHOD]
        .iter()
        .any(|h| req.headers().contains_key(*h))
    {
        return Err(CheckError::BadForwarded(
            "a check with the original path in its own takes no X-Original-URI, \
             X-Forwarded-Uri or X-Forwarded-Method",
        ));
    }
    let uri = match req.uri().query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail.to_owned(),
    };
    original(req.method().clone(), &uri)
}

/// The headers way: the URI from exactly one of the two URI headers, the method from its own.
fn from_headers(req: &HttpRequest) -> Result<Original, CheckError> {
    let values = |name| req.headers().get_all(name).collect::<Vec<_>>();
    let uris: Vec<_> = values(ORIGINAL_URI)
        .into_iter()
        .chain(values(FORWARDED_URI))
        .collect();
    let uri = match uris.as_slice() {
        [one] => one,
        [] => {
            return Err(CheckError::BadForwarded(
                "no X-Original-URI or X-Forwarded-Uri: which request is this check about?",
            ));
        }
        _ => {
            return Err(CheckError::BadForwarded(
                "more than one X-Original-URI or X-Forwarded-Uri",
            ));
        }
    };
    let method = match values(FORWARDED_METHOD).as_slice() {
        [one] => Method::from_bytes(one.as_bytes())
            .map_err(|_| CheckError::BadForwarded("X-Forwarded-Method is not a method"))?,
        [] => return Err(CheckError::BadForwarded("no X-Forwarded-Method")),
        _ => return Err(CheckError::BadForwarded("more than one X-Forwarded-Method")),
    };
    // Not visible ASCII: refused below, as an empty URI is.
    original(method, uri.to_str().unwrap_or(""))
}

fn original(method: Method, uri: &str) -> Result<Original, CheckError> {
    let origin_form =
        uri.starts_with('/') && uri.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
    if !origin_form {
        return Err(CheckError::BadForwarded(
            "the original URI is not a path and query (`/x?y`): no scheme or host, fragment, \
             space, control or non-ASCII byte",
        ));
    }
    let path = uri.split_once('?').map_or(uri, |(p, _)| p);
    Ok(Original {
        method,
        path: path.to_owned(),
        uri: uri.to_owned(),
    })
}

#[cfg(test)]
mod tests;

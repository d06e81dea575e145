//! Header hygiene for forwarded calls, both ways, and the headers Vestibule adds upstream.
//! actix-web (http 0.2 types) faces the browser, hyper (http 1 types) faces the upstream;
//! these functions convert between them.

use actix_web::http::header as ax;
use actix_web::{HttpMessage, HttpRequest};
// The upstream side speaks the `http` crate's types (hyper's); actix has its own (`ax`).
use http::header as hy;

use crate::config::Config;
use crate::telemetry::RequestId;

/// Marks an answer as Vestibule's own refusal (its value is the `error` code), so that the SPA
/// can tell it from an upstream's answer of the same status and body: an upstream's is removed.
pub const REFUSAL: &str = "vestibule-refusal";

/// Hop-by-hop headers (RFC 9110 7.6.1) never cross the proxy, in either direction.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Header names listed in `Connection` values (hop-by-hop too).
fn connection_listed<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

fn is_hop_by_hop(name: &str, listed: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || listed.iter().any(|l| l == name)
}

/// Headers the browser may not pass upstream: Vestibule sets or strips them. A name with `_` is
/// never passed (nginx's default too): CGI, WSGI and Rack read `X_Original_URL` as
/// `X-Original-URL`, so no list of names could be complete otherwise.
fn is_reserved_request_header(name: &str) -> bool {
    matches!(
        name,
        "host"
            | "cookie"
            | "authorization"
            | "x-forwarded-for"
            | "x-forwarded-proto"
            | "x-forwarded-host"
            | "forwarded"
    ) || name.contains('_')
        || REWRITE_HEADERS.contains(&name)
}

/// Headers with which servers and frameworks let a request name another path, method, host,
/// scheme or client than its own (IIS URL Rewrite's `X-Original-URL`, Symfony's
/// `X-Forwarded-Prefix`, Rails' and ASP.NET's method overrides, Next.js's internal
/// `X-Middleware-Subrequest`, CDNs' client-address headers, …): routes are chosen on the
/// request line, so these would let a call reach what its route does not allow (RFC 10017
/// §6.1.3.6).
pub const REWRITE_HEADERS: [&str; 34] = [
    "x-original-url",
    "x-original-uri",
    "x-original-path",
    "x-original-method",
    "x-original-host",
    "x-rewrite-url",
    "x-rewrite-path",
    "x-request-uri",
    "x-proxy-url",
    "x-envoy-original-path",
    "x-envoy-original-url",
    "x-forwarded-prefix",
    "x-forwarded-path",
    "x-forwarded-uri",
    "x-forwarded-url",
    "x-forwarded-server",
    "x-forwarded-port",
    "x-forwarded-scheme",
    "x-forwarded-protocol",
    "x-forwarded-ssl",
    "x-forwarded",
    "front-end-https",
    "x-url-scheme",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-middleware-subrequest",
    "x-host",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
];

/// What goes upstream: the browser's headers minus hop-by-hop ones, `Host`, `Cookie`,
/// `Authorization`, and the forwarding headers that Vestibule sets itself.
pub fn upstream_request(incoming: &ax::HeaderMap) -> hy::HeaderMap {
    let listed = connection_listed(incoming.get_all(ax::CONNECTION).map(|v| v.as_bytes()));
    let mut out = hy::HeaderMap::with_capacity(incoming.len() + 6);
    for (name, value) in incoming {
        let n = name.as_str();
        if is_hop_by_hop(n, &listed) || is_reserved_request_header(n) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            hy::HeaderName::from_bytes(n.as_bytes()),
            hy::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
    out
}

/// What goes back to the browser: the upstream's headers minus hop-by-hop ones, minus
/// `Content-Length` (actix-web frames the streamed body itself), and minus any `Set-Cookie` for
/// Vestibule's own cookies (an upstream must not plant or clear a session), and minus
/// [`REFUSAL`] (an upstream must not pass for Vestibule refusing).
pub fn downstream_response(
    upstream: &hy::HeaderMap,
    own_cookies: &[&str],
    out: &mut ax::HeaderMap,
) {
    let listed = connection_listed(
        upstream
            .get_all(hy::CONNECTION)
            .iter()
            .map(|v| v.as_bytes()),
    );
    for (name, value) in upstream {
        let n = name.as_str();
        if is_hop_by_hop(n, &listed)
            || name == hy::CONTENT_LENGTH
            || n == REFUSAL
            || (name == hy::SET_COOKIE && sets_own_cookie(value.as_bytes(), own_cookies))
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            ax::HeaderName::from_bytes(n.as_bytes()),
            ax::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
}

fn sets_own_cookie(value: &[u8], own: &[&str]) -> bool {
    let Ok(v) = std::str::from_utf8(value) else {
        return false;
    };
    let name = v.split('=').next().unwrap_or_default().trim();
    own.iter().any(|o| o.eq_ignore_ascii_case(name))
}

/// `X-Forwarded-For`: the incoming chain (if any) plus the peer.
pub fn forwarded_for(
    incoming: &ax::HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> Option<hy::HeaderValue> {
    use std::fmt::Write as _;
    // One string for the whole chain: this runs on every proxied call.
    let mut chain = String::with_capacity(64);
    for prior in incoming
        .get_all(X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
    {
        if !chain.is_empty() {
            chain.push_str(", ");
        }
        chain.push_str(prior);
    }
    if let Some(p) = peer {
        if !chain.is_empty() {
            chain.push_str(", ");
        }
        let _ = write!(chain, "{}", p.ip());
    }
    if chain.is_empty() {
        return None;
    }
    hy::HeaderValue::from_str(&chain).ok()
}

/// Named once: looking a header up by a `&str` parses (and, for a name outside the standard
/// set, allocates) the name every time.
const X_FORWARDED_FOR: ax::HeaderName = ax::HeaderName::from_static("x-forwarded-for");

/// What Vestibule adds upstream: `Authorization` (the route's token), `X-Forwarded-For`
/// (the chain plus the peer), `X-Forwarded-Proto` and `X-Forwarded-Host` (from `public_url`,
/// never from the browser), `X-Request-Id`, and the route's own `extra` headers.
pub fn add_forwarding(
    headers: &mut hy::HeaderMap,
    config: &Config,
    req: &HttpRequest,
    token: Option<&str>,
    extra: &hy::HeaderMap,
) {
    if let Some(t) = token
        && let Ok(mut v) = hy::HeaderValue::from_str(&format!("Bearer {t}"))
    {
        v.set_sensitive(true);
        headers.insert(hy::AUTHORIZATION, v);
    }
    if let Some(v) = forwarded_for(req.headers(), req.peer_addr()) {
        headers.insert(hy::HeaderName::from_static("x-forwarded-for"), v);
    }
    let public = &config.server.public_url;
    if let Ok(v) = hy::HeaderValue::from_str(public.scheme()) {
        headers.insert(hy::HeaderName::from_static("x-forwarded-proto"), v);
    }
    let host = match (public.host_str(), public.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    };
    if let Ok(v) = hy::HeaderValue::from_str(&host) {
        headers.insert(hy::HeaderName::from_static("x-forwarded-host"), v);
    }
    if let Some(id) = req.extensions().get::<RequestId>()
        && let Ok(v) = hy::HeaderValue::from_str(&id.0)
    {
        headers.insert(hy::HeaderName::from_static("x-request-id"), v);
    }
    for (k, v) in extra {
        headers.insert(k.clone(), v.clone());
    }
}

#[cfg(test)]
mod tests;

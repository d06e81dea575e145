//! API proxying for `[[routes]]` (and the SPA dev server): CSRF check, token policy, then the
//! call is forwarded with `Authorization: Bearer <access token>`, streaming both ways.

mod forward;
pub mod headers;
mod websocket;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::config::{Config, RouteConfig, TokenPolicy};
use crate::session::{RefreshError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("missing or wrong anti-CSRF header")]
    Csrf,
    #[error("the request did not come from a page of this application's origin")]
    CrossSite,
    #[error("cross-site WebSocket upgrade refused")]
    CrossSiteWebSocket,
    #[error("no live session")]
    Unauthenticated,
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refresh(#[from] RefreshError),
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    #[error("upstream did not answer within {0:?}")]
    Timeout(Duration),
    #[error("bad upstream request: {0}")]
    BadRequest(String),
    #[error("request body larger than this route's limit of {0} bytes")]
    BodyTooLarge(u64),
    #[error("malformed request body: {0}")]
    MalformedBody(String),
}

/// One forwarding target, ready to use.
pub struct Route {
    pub prefix: String,
    /// Upstream origin plus base path, without a trailing slash (`http://api:9200/v1`).
    upstream_base: String,
    pub token: TokenPolicy,
    strip_prefix: bool,
    timeout: Duration,
    extra_headers: reqwest::header::HeaderMap,
    /// API routes need the anti-CSRF header; the SPA dev server does not.
    csrf: bool,
    /// Largest request body forwarded.
    max_body: Option<u64>,
}

impl Route {
    fn new(r: &RouteConfig, csrf: bool) -> Self {
        let mut extra_headers = reqwest::header::HeaderMap::new();
        for (k, v) in &r.headers {
            // Validated at config load; an invalid pair cannot get here.
            if let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.as_bytes()),
                reqwest::header::HeaderValue::from_str(v),
            ) {
                extra_headers.insert(k, v);
            }
        }
        Route {
            prefix: r.prefix.clone(),
            upstream_base: r.upstream.as_str().trim_end_matches('/').to_owned(),
            token: r.token,
            strip_prefix: r.strip_prefix,
            timeout: r.timeout,
            extra_headers,
            csrf,
            max_body: r.max_body.map(|b| b.as_u64()),
        }
    }

    /// The upstream URL for a request path and query, percent-encoding kept byte for byte.
    /// Paths with dot segments (`..`, `.`, `%2e%2e`) or backslashes are refused: URL parsing
    /// would resolve them and climb out of the route's upstream base path.
    pub fn upstream_url(&self, path: &str, query: Option<&str>) -> Result<String, ProxyError> {
        if escapes_base(path) {
            return Err(ProxyError::BadRequest("dot segments in the path".into()));
        }
        let rest = if self.strip_prefix && self.prefix != "/" {
            path.strip_prefix(self.prefix.as_str()).unwrap_or(path)
        } else {
            path
        };
        let rest = if rest.is_empty() { "/" } else { rest };
        Ok(match query {
            Some(q) => format!("{}{rest}?{q}", self.upstream_base),
            None => format!("{}{rest}", self.upstream_base),
        })
    }
}

/// True for a path that URL parsing would rewrite: a `.` or `..` segment (also percent-encoded),
/// or a backslash (read as `/` in http URLs).
fn escapes_base(path: &str) -> bool {
    path.contains('\\') || path.split('/').any(is_dot_segment)
}

/// `.`, `..`, or either spelled with `%2e` (any case). No allocation: this runs on every call.
fn is_dot_segment(seg: &str) -> bool {
    let s = seg.as_bytes();
    let (mut dots, mut i) = (0, 0);
    while i < s.len() {
        if s[i] == b'.' {
            i += 1;
        } else if s.len() >= i + 3 && s[i] == b'%' && s[i + 1] == b'2' && s[i + 2] | 0x20 == b'e' {
            i += 3;
        } else {
            return false;
        }
        dots += 1;
        if dots > 2 {
            return false;
        }
    }
    dots > 0
}

/// The HTTP client for upstreams (one per worker): pooled keep-alive connections, no redirects
/// followed, no decompression (bodies pass through untouched).
pub struct UpstreamClient(pub reqwest::Client);

impl UpstreamClient {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        UpstreamClient(client)
    }
}

impl Default for UpstreamClient {
    fn default() -> Self {
        Self::new()
    }
}

/// All routes, most specific first.
pub fn routes(config: &Config) -> Vec<Arc<Route>> {
    let mut routes: Vec<Arc<Route>> = config
        .routes
        .iter()
        .map(|r| Arc::new(Route::new(r, true)))
        .collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
    routes
}

/// The SPA dev server as a route: everything not matched elsewhere, no token, no CSRF header.
pub fn spa_upstream(config: &Config) -> Option<Arc<Route>> {
    config.spa.upstream.as_ref().map(|u| {
        let r = RouteConfig {
            prefix: "/".into(),
            upstream: u.clone(),
            token: TokenPolicy::None,
            strip_prefix: false,
            timeout: Duration::from_secs(60),
            headers: Default::default(),
            max_body: None,
        };
        Arc::new(Route::new(&r, false))
    })
}

/// Registers each route as a scope (actix matches scopes on whole path segments), most specific
/// first so the longest prefix wins.
pub fn configure(cfg: &mut web::ServiceConfig, routes: &[Arc<Route>]) {
    for route in routes {
        cfg.service(
            web::scope(&route.prefix)
                .app_data(web::Data::from(route.clone()))
                .default_service(web::to(forward::forward)),
        );
    }
}

/// The catch-all service for the SPA dev server (registered last).
pub fn spa_service(route: Arc<Route>) -> actix_web::Scope {
    web::scope("")
        .app_data(web::Data::from(route))
        .default_service(web::to(forward::forward))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(prefix: &str, upstream: &str, strip: bool) -> Route {
        Route::new(
            &RouteConfig {
                prefix: prefix.into(),
                upstream: url::Url::parse(upstream).expect("url"),
                token: TokenPolicy::Required,
                strip_prefix: strip,
                timeout: Duration::from_secs(1),
                headers: Default::default(),
                max_body: None,
            },
            true,
        )
    }

    #[test]
    fn upstream_urls_keep_encoding() {
        let url = |r: &Route, path: &str, q: Option<&str>| r.upstream_url(path, q).ok();
        let r = route("/api", "http://127.0.0.1:9200", false);
        assert_eq!(
            url(&r, "/api/a%2Fb/%E2%9C%93", Some("q=%20x&y")).as_deref(),
            Some("http://127.0.0.1:9200/api/a%2Fb/%E2%9C%93?q=%20x&y")
        );
        let r = route("/api", "http://127.0.0.1:9200/v1/", true);
        assert_eq!(
            url(&r, "/api/users", None).as_deref(),
            Some("http://127.0.0.1:9200/v1/users")
        );
        assert_eq!(
            url(&r, "/api", None).as_deref(),
            Some("http://127.0.0.1:9200/v1/")
        );
        assert_eq!(
            url(&r, "/api/x..y/.well-known/a.b", None).as_deref(),
            Some("http://127.0.0.1:9200/v1/x..y/.well-known/a.b")
        );
    }

    #[test]
    fn dot_segments_cannot_climb_out_of_the_base_path() {
        let r = route("/api", "http://127.0.0.1:9200/v1/", true);
        for path in [
            "/api/../admin",
            "/api/./x",
            "/api/%2e%2e/admin",
            "/api/%2E%2e/admin",
            "/api/.%2e/admin",
            "/api/x/..",
            "/api/%2e",
            "/api/%2E%2e%2e/x/%2e%2e",
            "/api/..\\admin",
        ] {
            assert!(r.upstream_url(path, None).is_err(), "{path}");
        }
        for path in [
            "/api/.../%2e%2e%2e",
            "/api/.env",
            "/api/a.b/c%2e",
            "/api/%2f",
        ] {
            assert!(r.upstream_url(path, None).is_ok(), "{path}");
        }
    }
}

//! A `[[routes]]` entry ready to serve: where its calls go, and how the upstream URL is made
//! from the request's path.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, NEVER_FORWARDED, RouteConfig, TokenPolicy};
use crate::identity::RouteIdentity;
use crate::oidc::{ClientGrant, RouteGrant};

use super::ProxyError;
use super::rule::{BadRule, RouteRule};
use super::step_up::StepUp;
use crate::session::Session;

/// One forwarding target, ready to use.
pub struct Route {
    pub prefix: String,
    /// The prefix as paths are matched (see `path`: case-folded).
    pub folded_prefix: String,
    /// Segments in the prefix (where `strip_prefix` cuts the raw path).
    pub prefix_segments: usize,
    /// `%2F`/`%5C` may be forwarded (else 400).
    pub allow_encoded_slash: bool,
    /// The methods forwarded, and the `Allow` value for the others' 405; `None`: all.
    pub methods: Option<(Vec<http::Method>, String)>,
    /// Upstream origin plus base path, without a trailing slash (`http://api:9200/v1`).
    upstream_base: String,
    pub token: TokenPolicy,
    /// The user's token of this route, when it has its own (narrowed or exchanged).
    pub user_grant: Option<RouteGrant>,
    /// The application's token of this route (`client`, `user_or_client`).
    pub client_grant: Option<ClientGrant>,
    pub step_up: Option<StepUp>,
    /// Who may call (`allow`); `None`: whoever the token kind lets through.
    pub rule: Option<RouteRule>,
    strip_prefix: bool,
    pub timeout: Duration,
    pub extra_headers: http::header::HeaderMap,
    /// API routes need the anti-CSRF header; the SPA dev server does not.
    pub csrf: bool,
    /// Largest request body forwarded.
    pub max_body: Option<u64>,
    /// Its request metrics, resolved once.
    pub metrics: std::sync::Arc<crate::telemetry::metrics::RouteMetrics>,
    /// The signed identity its calls carry (`identity_header`).
    pub identity: Option<RouteIdentity>,
    /// Identity headers removed from every call: any route's, and the default name.
    pub identity_names: Arc<[http::HeaderName]>,
}

impl Route {
    pub(super) fn new(r: &RouteConfig, csrf: bool, app: &str) -> Self {
        let mut extra_headers = http::header::HeaderMap::new();
        for (k, v) in &r.headers {
            // Validated at config load; an invalid pair cannot get here.
            if let (Ok(k), Ok(v)) = (
                http::header::HeaderName::from_bytes(k.as_bytes()),
                http::header::HeaderValue::from_str(v),
            ) {
                extra_headers.insert(k, v);
            }
        }
        let methods = r.methods.as_ref().map(|ms| {
            // Validated at config load: each is a method token.
            let parsed = ms
                .iter()
                .filter_map(|m| http::Method::from_bytes(m.as_bytes()).ok())
                .collect();
            (parsed, ms.join(", "))
        });
        Route {
            prefix: r.prefix.clone(),
            folded_prefix: super::path::fold_prefix(&r.prefix),
            prefix_segments: r.prefix.split('/').filter(|s| !s.is_empty()).count(),
            allow_encoded_slash: r.allow_encoded_slash,
            methods,
            upstream_base: r.upstream.as_str().trim_end_matches('/').to_owned(),
            token: r.token,
            user_grant: RouteGrant::for_route(r),
            client_grant: ClientGrant::for_route(r),
            step_up: StepUp::for_route(r),
            rule: None,
            strip_prefix: r.strip_prefix,
            timeout: r.timeout,
            extra_headers,
            csrf,
            max_body: r.max_body.map(|b| b.as_u64()),
            metrics: std::sync::Arc::new(crate::telemetry::metrics::RouteMetrics::new(
                app, &r.prefix,
            )),
            identity: None,
            identity_names: Arc::from(Vec::new()),
        }
    }

    /// The route with its identity (from `r`, with `origin` for the default audience), and the
    /// identity headers no call may bring from the browser.
    fn with_identity(
        mut self,
        r: &RouteConfig,
        origin: &str,
        names: &Arc<[http::HeaderName]>,
    ) -> Self {
        self.identity = RouteIdentity::for_route(r, origin);
        self.identity_names = names.clone();
        self
    }

    /// The upstream URL for a request path and query, percent-encoding kept byte for byte;
    /// `prefix_end`: where the route's prefix ends in `path` (see `Router`). Paths with dot
    /// segments (`..`, `.`, `%2e%2e`) or backslashes are refused here too (API paths already
    /// were, by `path`; the SPA dev server's are only here): URL parsing would resolve them and
    /// climb out of the route's upstream base path.
    pub fn upstream_url(
        &self,
        path: &str,
        prefix_end: usize,
        query: Option<&str>,
    ) -> Result<String, ProxyError> {
        let rest = self.rest_of(path, prefix_end)?;
        Ok(match query {
            Some(q) => format!("{}{rest}?{q}", self.upstream_base),
            None => format!("{}{rest}", self.upstream_base),
        })
    }

    /// 405 for a method this route does not forward. `CONNECT` (an upstream proxy would open a
    /// tunnel with the user's token), `TRACE` and `TRACK` (an upstream would echo the
    /// `Authorization` header, the token, back to the browser) are never forwarded.
    pub fn check_method(&self, method: &actix_web::http::Method) -> Result<(), ProxyError> {
        let never = NEVER_FORWARDED.contains(&method.as_str());
        match &self.methods {
            Some((allowed, allow))
                if never || !allowed.iter().any(|m| m.as_str() == method.as_str()) =>
            {
                Err(ProxyError::MethodNotAllowed(allow.clone()))
            }
            None if never => Err(ProxyError::MethodNotAllowed(ANY_METHOD.to_owned())),
            _ => Ok(()),
        }
    }

    /// Whether the signed-in `session` may call `method` on `path` (raw, as sent): 403
    /// `forbidden` when the route's rule does not allow it or fails. The forward-auth endpoint
    /// decides with this too.
    pub fn authorize(&self, session: &Session, method: &str, path: &str) -> Result<(), ProxyError> {
        match &self.rule {
            Some(rule) if !rule.decide(&self.prefix, session, method, path).allows() => {
                Err(ProxyError::Forbidden(self.prefix.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Whether a caller without a session is served: on a route without a rule whose token
    /// kind needs no user (`optional` and `user_or_client` send another token or none; `none`
    /// and `client` never send the user's).
    pub fn serves_anonymous(&self) -> bool {
        self.rule.is_none() && self.token != TokenPolicy::User
    }

    /// The part of `path` appended to the upstream's base path.
    fn rest_of<'a>(&self, path: &'a str, prefix_end: usize) -> Result<&'a str, ProxyError> {
        if escapes_base(path) {
            return Err(ProxyError::BadRequest("dot segments in the path".into()));
        }
        let rest = if self.strip_prefix {
            path.get(prefix_end..).unwrap_or(path)
        } else {
            path
        };
        Ok(if rest.is_empty() { "/" } else { rest })
    }
}

/// `Allow` of a route without `methods`, for the methods never forwarded.
const ANY_METHOD: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// The configured API routes, their rules compiled.
pub fn routes(config: &Config) -> Result<Vec<Arc<Route>>, BadRule> {
    let names = identity_names(config);
    config
        .routes
        .iter()
        .map(|r| {
            let mut route =
                Route::new(r, true, &config.app.name).with_identity(r, config.origin(), &names);
            route.rule = RouteRule::for_route(r, config).map_err(|source| BadRule {
                route: r.prefix.clone(),
                source,
            })?;
            Ok(Arc::new(route))
        })
        .collect()
}

/// The name an identity is sent in by default, removed from every call whatever the config: an
/// upstream that trusts it must never get the browser's.
pub const DEFAULT_IDENTITY_HEADER: &str = "x-vestibule-identity";

/// Every route's identity header, and the default name: no call carries the browser's.
fn identity_names(config: &Config) -> Arc<[http::HeaderName]> {
    let mut names = vec![http::HeaderName::from_static(DEFAULT_IDENTITY_HEADER)];
    for r in &config.routes {
        // Validated at config load: a header name.
        if let Some(n) = r.identity_header.as_deref()
            && let Ok(name) = http::HeaderName::from_bytes(n.as_bytes())
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    Arc::from(names)
}

/// The SPA dev server as a route: everything not matched elsewhere, no token, no CSRF header.
pub fn spa_upstream(config: &Config) -> Option<Arc<Route>> {
    config.spa.upstream.as_ref().map(|u| {
        let r = RouteConfig {
            timeout: Duration::from_secs(60),
            ..RouteConfig::plain("/", u.clone(), TokenPolicy::None)
        };
        Arc::new(Route::new(&r, false, &config.app.name).with_identity(
            &r,
            config.origin(),
            &identity_names(config),
        ))
    })
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

#[cfg(test)]
mod tests;

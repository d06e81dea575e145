//! `[[routes]]`: API path prefixes and the upstreams they are forwarded to.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

use super::file::{Broken, broken};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenPolicy {
    #[default]
    Required,
    Optional,
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Path prefix, matched on whole segments: `/api` matches `/api` and `/api/x`, not `/apix`.
    pub prefix: String,
    /// Where calls go: `http(s)://host[:port][/base]`.
    pub upstream: Url,
    #[serde(default)]
    pub token: TokenPolicy,
    /// Remove `prefix` from the forwarded path (`/api/x` → `/x`).
    #[serde(default)]
    pub strip_prefix: bool,
    /// Longest wait for the upstream's response headers (504 after that); bodies may stream longer.
    #[serde(default = "default_route_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Extra request headers added to every forwarded call (e.g. an API key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Largest request body forwarded (e.g. `"10MB"`); unset: unlimited (streaming). Larger: 413.
    pub max_body: Option<bytesize::ByteSize>,
}

fn default_route_timeout() -> Duration {
    Duration::from_secs(30)
}

impl RouteConfig {
    /// Every route on its own, then the rule across them: each prefix once.
    pub(super) fn validate_all(routes: &[RouteConfig], auth_prefix: &str) -> Result<(), Broken> {
        for r in routes {
            r.validate(auth_prefix)?;
        }
        let mut prefixes: Vec<&str> = routes.iter().map(|r| r.prefix.as_str()).collect();
        prefixes.sort_unstable();
        if prefixes.windows(2).any(|w| w[0] == w[1]) {
            return Err(broken("routes.prefix", "expected each prefix once"));
        }
        Ok(())
    }

    fn validate(&self, auth_prefix: &str) -> Result<(), Broken> {
        let p = &self.prefix;
        if !p.starts_with('/') || (p.len() > 1 && p.ends_with('/')) || p.contains(['?', '#', '*']) {
            return Err(broken(
                "routes.prefix",
                format!("expected a path like \"/api\", got {p:?}"),
            ));
        }
        let under_auth = p
            .strip_prefix(auth_prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under_auth || p == "/healthz" || p == "/readyz" {
            return Err(broken(
                "routes.prefix",
                format!("{p:?} would hide Vestibule's own endpoints"),
            ));
        }
        if !matches!(self.upstream.scheme(), "http" | "https") || self.upstream.query().is_some() {
            return Err(broken(
                "routes.upstream",
                format!(
                    "expected an http(s) URL without query, got {}",
                    self.upstream
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(broken(
                "routes.timeout",
                "expected a positive duration such as \"30s\"",
            ));
        }
        for (name, value) in &self.headers {
            if HeaderName::try_from(name.as_str()).is_err() || HeaderValue::from_str(value).is_err()
            {
                return Err(broken(
                    "routes.headers",
                    format!("expected valid HTTP header names and values, got {name:?}"),
                ));
            }
        }
        Ok(())
    }
}

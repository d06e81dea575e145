//! `[server]`: where Vestibule listens, the origin browsers use, and the process's limits.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::broken::{Broken, broken};
use super::trusted_proxies::TrustedProxies;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on, e.g. `127.0.0.1:8080`, or `0.0.0.0:8080` in a container.
    /// Plain http: TLS ends in front of Vestibule (ingress, load balancer).
    #[schemars(extend("x-kind" = "address"))]
    pub listen: SocketAddr,
    /// The origin browsers use, e.g. `https://app.example.com`: scheme, host and port only. Every
    /// redirect URI, cookie and `Origin` check is built on it; https is required off loopback.
    pub public_url: Url,
    /// Path under which Vestibule serves its own endpoints (`/auth/login`, `/auth/callback`,
    /// `/auth/session`, …). Change it when the app already uses `/auth`; the redirect URI to
    /// register at the IdP follows it (`public_url` + prefix + `/callback`).
    #[serde(default = "default_auth_prefix")]
    pub auth_prefix: String,
    /// The anti-CSRF header that `/auth/session` and every API call must carry, with the value
    /// `1`. A page of another site cannot send a custom header without a CORS preflight, which
    /// Vestibule never grants.
    #[serde(default = "default_csrf_header")]
    pub csrf_header: String,
    /// A second address serving only `/metrics`, `/healthz`, `/readyz` and the admin API (then
    /// `/metrics` is not served on `listen`).
    #[schemars(extend("x-kind" = "address"))]
    pub admin_listen: Option<SocketAddr>,
    /// Bearer token of the admin API on `admin_listen` (better set as
    /// `VESTIBULE_SERVER__ADMIN_TOKEN`); unset, the admin API is off.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub admin_token: Option<secrecy::SecretString>,
    /// On SIGTERM/SIGINT, `/readyz` turns 503 at once; new connections are still accepted for
    /// this long (so load balancers notice), then the listener closes.
    #[serde(default = "default_shutdown_delay", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub shutdown_delay: Duration,
    /// After the listener closes, in-flight requests (long streams included) get this long to
    /// finish before the process exits.
    #[serde(default = "default_shutdown_grace", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub shutdown_grace: Duration,
    /// Largest request head (request line and headers) accepted; larger: 431.
    #[serde(default = "default_max_header_bytes")]
    #[schemars(with = "String", extend("x-kind" = "size"))]
    pub max_header_bytes: bytesize::ByteSize,
    /// Most open client connections (across workers); more wait in the accept backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most requests served at once; more get 503 `overloaded` with `Retry-After`.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Most long-lived responses (`/auth/events` streams and proxied WebSockets) open at once on
    /// this replica; more get 503 `too_many_streams`. They never take `max_in_flight` slots.
    #[serde(default = "default_max_streams")]
    pub max_streams: usize,
    /// Most of them one user (`sub`, all their sessions) holds open on this replica; more get 429
    /// `too_many_streams`.
    #[serde(default = "default_max_streams_per_user")]
    pub max_streams_per_user: usize,
    /// Most of them one session holds open on this replica; a new one closes the oldest.
    #[serde(default = "default_max_streams_per_session")]
    pub max_streams_per_session: usize,
    /// Logins one client address may start per minute while logins make a pushed authorization
    /// request (an IdP call each); more: 429 `too_many_logins`. 0: no limit.
    #[serde(default = "default_logins_per_minute")]
    pub logins_per_minute: u32,
    /// Reverse proxies in front of Vestibule that append to `X-Forwarded-For` (0: the peer is
    /// the client). Used to tell clients apart for `logins_per_minute`.
    #[serde(default)]
    pub forwarded_hops: usize,
    /// The gateways (nginx, Traefik, Caddy, Envoy) that may ask `GET /auth/check` whether to
    /// let a request through: IP addresses or networks (`"10.0.0.7"`, `"10.0.0.0/8"`,
    /// `"fd00::/8"`), matched against the TCP peer's address only, never `X-Forwarded-For`. Only
    /// from them are `X-Original-URI`, `X-Forwarded-Uri` and `X-Forwarded-Method` read; any other
    /// peer's check is answered 400 `untrusted_proxy`. Empty: forward-auth is off. A network of
    /// every address (`0.0.0.0/0`, `::/0`) is refused: it would let any client name the request
    /// being checked.
    #[serde(default)]
    #[schemars(with = "Vec<String>", extend("x-kind" = "networks"))]
    pub trusted_proxies: TrustedProxies,
    /// Allow `public_url` or `oidc.issuer` on plain http at a non-loopback host. Off: Vestibule
    /// refuses to start, because cookies, codes and tokens would cross the network in clear.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// Reload the config when the file's content changes (checked every 2 s), as on `SIGHUP`.
    /// For a Kubernetes ConfigMap mounted as a directory (not with `subPath`, which never
    /// changes).
    #[serde(default)]
    pub watch_config: bool,
}

fn default_auth_prefix() -> String {
    "/auth".into()
}
fn default_csrf_header() -> String {
    "X-CSRF".into()
}
fn default_max_header_bytes() -> bytesize::ByteSize {
    bytesize::ByteSize::kib(32)
}
fn default_max_connections() -> usize {
    25_000
}
fn default_max_in_flight() -> usize {
    10_000
}
fn default_max_streams() -> usize {
    10_000
}
fn default_max_streams_per_user() -> usize {
    16
}
fn default_max_streams_per_session() -> usize {
    4
}
fn default_logins_per_minute() -> u32 {
    60
}
fn default_shutdown_delay() -> Duration {
    Duration::from_secs(5)
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(30)
}

impl ServerConfig {
    /// Where a command on this machine reaches the admin listener (or the main one without it):
    /// its own address, or loopback when it listens on every address.
    pub fn local_admin_addr(&self) -> SocketAddr {
        let mut addr = self.admin_listen.unwrap_or(self.listen);
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        addr
    }

    pub(super) fn validate(&self) -> Result<(), Broken> {
        if let Some(t) = &self.admin_token {
            use secrecy::ExposeSecret;
            if t.expose_secret().len() < 32 {
                return Err(broken(
                    "server.admin_token",
                    "expected at least 32 characters (e.g. `openssl rand -hex 32`)",
                ));
            }
        }
        self.validate_public_url()?;
        self.validate_limits()?;
        if let Some(net) = self.trusted_proxies.everyone() {
            return Err(broken(
                "server.trusted_proxies",
                format!(
                    "{net} trusts every address: any client could then name the request a check \
                     is about; list the gateways' own addresses or networks"
                ),
            ));
        }
        let prefix = &self.auth_prefix;
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() < 2 {
            return Err(broken(
                "server.auth_prefix",
                "expected a path like \"/auth\" (leading slash, no trailing slash)",
            ));
        }
        if actix_web::http::header::HeaderName::try_from(self.csrf_header.as_str()).is_err() {
            return Err(broken(
                "server.csrf_header",
                "expected a valid HTTP header name",
            ));
        }
        Ok(())
    }

    /// `public_url` is the origin every cookie, redirect and `Origin` check is built on: an
    /// http(s) origin and nothing more, https off loopback.
    fn validate_public_url(&self) -> Result<(), Broken> {
        let pu = &self.public_url;
        if !matches!(pu.scheme(), "http" | "https") || pu.host_str().is_none() {
            return Err(broken(
                "server.public_url",
                "expected an http(s) origin such as \"https://app.example.com\"",
            ));
        }
        if pu.path() != "/"
            || pu.query().is_some()
            || pu.fragment().is_some()
            || !pu.username().is_empty()
        {
            return Err(broken(
                "server.public_url",
                "expected an origin only: no path, query, fragment or user",
            ));
        }
        require_https("server.public_url", pu, self.allow_insecure_http)?;
        Ok(())
    }

    /// The limits: a request head size an HTTP server can work with, and no zero that would
    /// refuse everything.
    fn validate_limits(&self) -> Result<(), Broken> {
        let (min, max) = (1024, 131_072);
        if !(min..=max).contains(&self.max_header_bytes.as_u64()) {
            return Err(broken(
                "server.max_header_bytes",
                "expected a size between \"1KiB\" and \"128KiB\"",
            ));
        }
        if self.max_streams == 0
            || self.max_streams_per_user == 0
            || self.max_streams_per_session == 0
        {
            return Err(broken(
                "server.max_streams",
                "expected positive limits (max_streams, max_streams_per_user, max_streams_per_session)",
            ));
        }
        if self.max_connections == 0 || self.max_in_flight == 0 {
            return Err(broken(
                "server.max_connections",
                "expected positive limits (max_connections, max_in_flight)",
            ));
        }
        Ok(())
    }
}

/// Plain http only for loopback hosts, unless the operator opted in: cookies, codes and tokens
/// would otherwise cross a network in clear.
pub(super) fn require_https(
    key: &'static str,
    url: &Url,
    allow_insecure: bool,
) -> Result<(), Broken> {
    if url.scheme() == "http" && !is_loopback(url) && !allow_insecure {
        return Err(broken(
            key,
            format!(
                "expected https (plain http is only allowed for loopback hosts, or with \
                 server.allow_insecure_http = true), got {url}"
            ),
        ));
    }
    Ok(())
}

/// True for hosts that never leave the machine: `localhost` (and `*.localhost`), 127.0.0.0/8
/// and `::1`. Browsers treat these as secure contexts even on http.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

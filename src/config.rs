//! Configuration: one TOML file, every key overridable from the environment
//! (`VESTIBULE_OIDC__CLIENT_SECRET` sets `oidc.client_secret`).
//!
//! Loading never panics: every problem becomes a [`ConfigError`] whose message names the file
//! (or environment variable), the key, and what was expected.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "VESTIBULE_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the config file: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub oidc: OidcConfig,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    pub spa: SpaConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    #[serde(default)]
    pub format: LogFormat,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The origin browsers use, e.g. `https://app.example.com`.
    pub public_url: Url,
    /// Prefix of the auth endpoints.
    #[serde(default = "default_auth_prefix")]
    pub auth_prefix: String,
    /// Anti-CSRF header name; its value must be `1`.
    #[serde(default = "default_csrf_header")]
    pub csrf_header: String,
    /// A second address serving only `/metrics`, `/healthz` and `/readyz` (then `/metrics` is not
    /// served on `listen`).
    pub admin_listen: Option<SocketAddr>,
    /// On SIGTERM/SIGINT, `/readyz` turns 503 at once; new connections are still accepted for
    /// this long (so load balancers notice), then the listener closes.
    #[serde(default = "default_shutdown_delay", with = "humantime_serde")]
    pub shutdown_delay: Duration,
    /// After the listener closes, in-flight requests (long streams included) get this long to
    /// finish before the process exits.
    #[serde(default = "default_shutdown_grace", with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Largest request head (request line and headers) accepted; larger: 431.
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: bytesize::ByteSize,
    /// Most open client connections (across workers); more wait in the accept backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most requests served at once; more get 503 `overloaded` with `Retry-After`.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Allow `public_url` or `oidc.issuer` on plain http at a non-loopback host. Off: Vestibule
    /// refuses to start, because cookies, codes and tokens would cross the network in clear.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuer, exactly as the IdP spells it (compared as a string, trailing slash included);
    /// discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Confidential client secret. Better set with `VESTIBULE_OIDC__CLIENT_SECRET`.
    pub client_secret: SecretString,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Extra parameters added to the authorization request (e.g. `audience`, `prompt`).
    #[serde(default)]
    pub extra_auth_params: BTreeMap<String, String>,
    /// Timeout of every request to the IdP.
    #[serde(default = "default_http_timeout", with = "humantime_serde")]
    pub http_timeout: Duration,
    /// Where the browser lands after logout: `post_logout_redirect_uri` = `public_url` + this
    /// path (register it at the IdP), or the path itself when the IdP has no end-session endpoint.
    #[serde(default = "default_post_logout_path")]
    pub post_logout_path: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    #[default]
    Memory,
    Redis,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    #[serde(default)]
    pub store: StoreKind,
    pub redis_url: Option<Url>,
    /// Sliding: a session unused this long ends.
    #[serde(default = "default_idle", with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Fixed: a session ends this long after login, used or not.
    #[serde(default = "default_absolute", with = "humantime_serde")]
    pub absolute_timeout: Duration,
    /// How long a started login may take before its callback.
    #[serde(default = "default_login_timeout", with = "humantime_serde")]
    pub login_timeout: Duration,
    /// Base cookie name; `__Host-` is prepended when `public_url` is https.
    #[serde(default = "default_cookie_name")]
    pub cookie_name: String,
    /// How long a replica may reuse a session it loaded before asking the store again
    /// (at most half the idle timeout; `"0s"` turns the cache off).
    #[serde(default = "default_cache_ttl", with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// Refresh the access token when it expires within this long (before forwarding).
    #[serde(default = "default_refresh_skew", with = "humantime_serde")]
    pub refresh_skew: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Memory,
            redis_url: None,
            idle_timeout: default_idle(),
            absolute_timeout: default_absolute(),
            login_timeout: default_login_timeout(),
            cookie_name: default_cookie_name(),
            cache_ttl: default_cache_ttl(),
            refresh_skew: default_refresh_skew(),
        }
    }
}

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

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaConfig {
    /// Directory of the built SPA (with `index.html`).
    pub dir: Option<PathBuf>,
    /// Or a dev server to proxy.
    pub upstream: Option<Url>,
}

fn default_auth_prefix() -> String {
    "/auth".into()
}
fn default_csrf_header() -> String {
    "X-CSRF".into()
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into()]
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
fn default_shutdown_delay() -> Duration {
    Duration::from_secs(5)
}
fn default_shutdown_grace() -> Duration {
    Duration::from_secs(30)
}
fn default_post_logout_path() -> String {
    "/".into()
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_idle() -> Duration {
    Duration::from_secs(30 * 60)
}
fn default_absolute() -> Duration {
    Duration::from_secs(12 * 3600)
}
fn default_login_timeout() -> Duration {
    Duration::from_secs(10 * 60)
}
fn default_route_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_refresh_skew() -> Duration {
    Duration::from_secs(30)
}
fn default_cache_ttl() -> Duration {
    Duration::from_secs(1)
}
fn default_cookie_name() -> String {
    "vestibule".into()
}

impl Config {
    /// Loads `file`, applies `VESTIBULE_*` environment overrides, and validates.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let name = file.display().to_string();
        // figment treats a missing file as empty; an operator's typo must not start a default proxy.
        std::fs::metadata(file).map_err(|e| ConfigError::Unreadable {
            file: name.clone(),
            reason: e.to_string(),
        })?;
        let figment = Figment::new().merge(Toml::file(file)).merge(
            Env::prefixed(ENV_PREFIX)
                .ignore(&["CONFIG", "LOG"])
                .split("__"),
        );
        Self::extract(figment, &name)
    }

    /// Parses and validates TOML text alone (no file, no environment); `name` labels errors.
    pub fn from_toml_str(toml: &str, name: &str) -> Result<Self, ConfigError> {
        Self::extract(Figment::from(Toml::string(toml)), name)
    }

    fn extract(figment: Figment, name: &str) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|e| describe(name, e))?;
        config.validate().map_err(|(key, expected)| {
            ConfigError::Invalid(format!("{name}: key `{key}`: {expected}"))
        })?;
        Ok(config)
    }

    /// Checks what serde cannot: relations between keys and the shape of URLs and paths.
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let pu = &self.server.public_url;
        if !matches!(pu.scheme(), "http" | "https") || pu.host_str().is_none() {
            return Err((
                "server.public_url",
                "expected an http(s) origin such as \"https://app.example.com\"".into(),
            ));
        }
        if pu.path() != "/"
            || pu.query().is_some()
            || pu.fragment().is_some()
            || !pu.username().is_empty()
        {
            return Err((
                "server.public_url",
                "expected an origin only: no path, query, fragment or user".into(),
            ));
        }
        let issuer = match Url::parse(&self.oidc.issuer) {
            Ok(iss) if matches!(iss.scheme(), "http" | "https") && iss.host_str().is_some() => iss,
            _ => {
                return Err((
                    "oidc.issuer",
                    format!("expected an http(s) URL, got {:?}", self.oidc.issuer),
                ));
            }
        };
        if !self.server.allow_insecure_http {
            for (key, url) in [("server.public_url", pu), ("oidc.issuer", &issuer)] {
                if url.scheme() == "http" && !is_loopback(url) {
                    return Err((
                        key,
                        format!(
                            "expected https (plain http is only allowed for loopback hosts, or \
                             with server.allow_insecure_http = true), got {url}"
                        ),
                    ));
                }
            }
        }
        if self.oidc.client_id.is_empty() {
            return Err(("oidc.client_id", "expected a non-empty string".into()));
        }
        if !self.oidc.scopes.iter().any(|s| s == "openid") {
            return Err((
                "oidc.scopes",
                "expected a list that contains \"openid\"".into(),
            ));
        }
        if crate::auth::return_to::sanitize(Some(&self.oidc.post_logout_path))
            != self.oidc.post_logout_path
        {
            return Err((
                "oidc.post_logout_path",
                "expected a same-origin path such as \"/\" or \"/signed-out\"".into(),
            ));
        }
        if self.server.max_header_bytes.as_u64() < 1024
            || self.server.max_header_bytes.as_u64() > 131_072
        {
            return Err((
                "server.max_header_bytes",
                "expected a size between \"1KiB\" and \"128KiB\"".into(),
            ));
        }
        if self.server.max_connections == 0 || self.server.max_in_flight == 0 {
            return Err((
                "server.max_connections",
                "expected positive limits (max_connections, max_in_flight)".into(),
            ));
        }
        let prefix = &self.server.auth_prefix;
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() < 2 {
            return Err((
                "server.auth_prefix",
                "expected a path like \"/auth\" (leading slash, no trailing slash)".into(),
            ));
        }
        if actix_web::http::header::HeaderName::try_from(self.server.csrf_header.as_str()).is_err()
        {
            return Err((
                "server.csrf_header",
                "expected a valid HTTP header name".into(),
            ));
        }
        let s = &self.session;
        if s.store == StoreKind::Redis {
            match &s.redis_url {
                None => {
                    return Err((
                        "session.redis_url",
                        "expected a redis:// or rediss:// URL when store = \"redis\"".into(),
                    ));
                }
                Some(u) if !matches!(u.scheme(), "redis" | "rediss" | "redis+unix" | "unix") => {
                    return Err((
                        "session.redis_url",
                        "expected a redis://, rediss:// or unix socket URL".into(),
                    ));
                }
                _ => {}
            }
        }
        for (key, d) in [
            ("session.idle_timeout", s.idle_timeout),
            ("session.absolute_timeout", s.absolute_timeout),
            ("session.login_timeout", s.login_timeout),
        ] {
            if d.is_zero() {
                return Err((key, "expected a positive duration such as \"30m\"".into()));
            }
        }
        if s.cookie_name.is_empty()
            || !s
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err((
                "session.cookie_name",
                "expected letters, digits, '-' or '_'".into(),
            ));
        }
        for r in &self.routes {
            let p = &r.prefix;
            if !p.starts_with('/')
                || (p.len() > 1 && p.ends_with('/'))
                || p.contains(['?', '#', '*'])
            {
                return Err((
                    "routes.prefix",
                    format!("expected a path like \"/api\", got {p:?}"),
                ));
            }
            if p == prefix
                || p.starts_with(&format!("{prefix}/"))
                || p == "/healthz"
                || p == "/readyz"
            {
                return Err((
                    "routes.prefix",
                    format!("{p:?} would hide Vestibule's own endpoints"),
                ));
            }
            if !matches!(r.upstream.scheme(), "http" | "https") || r.upstream.query().is_some() {
                return Err((
                    "routes.upstream",
                    format!("expected an http(s) URL without query, got {}", r.upstream),
                ));
            }
            if r.timeout.is_zero() {
                return Err((
                    "routes.timeout",
                    "expected a positive duration such as \"30s\"".into(),
                ));
            }
            for (name, value) in &r.headers {
                let bad_name =
                    actix_web::http::header::HeaderName::try_from(name.as_str()).is_err();
                let bad_value = actix_web::http::header::HeaderValue::from_str(value).is_err();
                if bad_name || bad_value {
                    return Err((
                        "routes.headers",
                        format!("expected valid HTTP header names and values, got {name:?}"),
                    ));
                }
            }
        }
        let mut prefixes: Vec<&str> = self.routes.iter().map(|r| r.prefix.as_str()).collect();
        prefixes.sort_unstable();
        if prefixes.windows(2).any(|w| w[0] == w[1]) {
            return Err(("routes.prefix", "expected each prefix once".into()));
        }
        if let Some(u) = &self.spa.upstream
            && !matches!(u.scheme(), "http" | "https")
        {
            return Err(("spa.upstream", "expected an http(s) URL".into()));
        }
        match (&self.spa.dir, &self.spa.upstream) {
            (Some(_), Some(_)) => {
                return Err((
                    "spa",
                    "expected either `dir` or `upstream`, not both".into(),
                ));
            }
            (Some(dir), None) if !dir.join("index.html").is_file() => {
                return Err((
                    "spa.dir",
                    format!(
                        "expected a directory containing index.html, got {}",
                        dir.display()
                    ),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// True when cookies must be `Secure` with the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }

    /// `public_url` without its trailing slash, for building absolute URLs.
    pub fn origin(&self) -> String {
        self.server
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }
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

/// Turns figment's errors into one line each: source, key, problem.
fn describe(file: &str, err: figment::Error) -> ConfigError {
    let lines: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let from_file = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .and_then(|s| match s {
                    figment::Source::File(p) => Some(p.display().to_string()),
                    _ => None,
                });
            let from_env = e
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.contains("environment"));
            let source = match (from_file, from_env) {
                (Some(f), _) => f,
                // Name the exact variable the operator set.
                (None, true) => format!(
                    "environment variable {ENV_PREFIX}{}",
                    e.path.join("__").to_uppercase()
                ),
                (None, false) => file.to_owned(),
            };
            let key = if key.is_empty() {
                "(top level)".to_owned()
            } else {
                key
            };
            format!("{source}: key `{key}`: {}", e.kind)
        })
        .collect();
    ConfigError::Invalid(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"
[oidc]
issuer = "http://127.0.0.2:9100"
client_id = "vestibule"
client_secret = "s3cret"
"#;

    fn write(contents: &str) -> tempfile_path::TempFile {
        tempfile_path::TempFile::new(contents)
    }

    mod tempfile_path {
        use super::*;
        pub struct TempFile(pub PathBuf);
        impl TempFile {
            pub fn new(contents: &str) -> Self {
                let path = std::env::temp_dir()
                    .join(format!("vestibule-cfg-{}.toml", uuid::Uuid::new_v4()));
                let mut f = std::fs::File::create(&path).expect("temp file");
                f.write_all(contents.as_bytes()).expect("write temp file");
                TempFile(path)
            }
        }
        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    fn err_of(contents: &str) -> String {
        let f = write(contents);
        match Config::load(&f.0) {
            Ok(_) => panic!("expected an error for {contents}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let f = write(MINIMAL);
        let c = Config::load(&f.0).expect("valid");
        assert_eq!(c.session.store, StoreKind::Memory);
        assert_eq!(c.session.idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.server.auth_prefix, "/auth");
        assert_eq!(c.oidc.scopes, vec!["openid"]);
        assert!(!c.is_https());
    }

    #[test]
    fn unknown_key_names_file_and_key() {
        let msg = err_of(&format!("{MINIMAL}\n[session]\nidel_timeout = \"5m\"\n"));
        assert!(msg.contains("vestibule-cfg-"), "{msg}");
        assert!(msg.contains("session.idel_timeout"), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn bad_duration_and_url_are_named() {
        let msg = err_of(&format!("{MINIMAL}\n[session]\nidle_timeout = \"soon\"\n"));
        assert!(msg.contains("session.idle_timeout"), "{msg}");
        let msg = err_of(&MINIMAL.replace("http://127.0.0.2:9100", "not a url"));
        assert!(msg.contains("oidc.issuer"), "{msg}");
    }

    #[test]
    fn missing_required_key_is_named() {
        let msg = err_of(&MINIMAL.replace("client_id = \"vestibule\"\n", ""));
        assert!(msg.contains("client_id"), "{msg}");
        assert!(msg.contains("missing"), "{msg}");
    }

    #[test]
    fn redis_store_needs_url() {
        let msg = err_of(&format!("{MINIMAL}\n[session]\nstore = \"redis\"\n"));
        assert!(msg.contains("session.redis_url"), "{msg}");
    }

    #[test]
    fn public_url_with_path_is_refused() {
        let msg = err_of(&MINIMAL.replace(
            "public_url = \"http://127.0.0.1:8080\"",
            "public_url = \"http://127.0.0.1:8080/app\"",
        ));
        assert!(msg.contains("server.public_url"), "{msg}");
    }

    #[test]
    fn plain_http_needs_loopback_or_explicit_opt_in() {
        let with = |public_url: &str, issuer: &str| {
            MINIMAL
                .replace("http://127.0.0.1:8080", public_url)
                .replace("http://127.0.0.2:9100", issuer)
        };
        for (public_url, issuer, loads) in [
            ("http://app.example.com", "http://127.0.0.2:9100", false),
            ("http://10.0.0.5:8080", "http://127.0.0.2:9100", false),
            ("http://127.0.0.1:8080", "http://login.example.com", false),
            (
                "http://localhost.evil.example",
                "http://127.0.0.2:9100",
                false,
            ),
            ("http://localhost:8080", "http://127.0.0.2:9100", true),
            ("http://app.localhost", "http://[::1]:9100", true),
            ("https://app.example.com", "https://login.example.com", true),
        ] {
            let toml = with(public_url, issuer);
            match Config::from_toml_str(&toml, "t") {
                Ok(_) => assert!(loads, "{public_url} {issuer} must be refused"),
                Err(e) => {
                    assert!(!loads, "{public_url} {issuer}: {e}");
                    assert!(e.to_string().contains("expected https"), "{e}");
                    let opted_in = toml.replace("[oidc]", "allow_insecure_http = true\n[oidc]");
                    assert!(Config::from_toml_str(&opted_in, "t").is_ok(), "{opted_in}");
                }
            }
        }
    }

    #[test]
    fn missing_file_is_an_error() {
        let e = Config::load(Path::new("/nonexistent/vestibule.toml"))
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|m| m.contains("/nonexistent/vestibule.toml")));
    }
}

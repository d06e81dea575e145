//! `[session]`: the store (and `[session.redis]`, where it is), the timeouts, the cookie's name,
//! and the per-replica cache.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::broken::{Broken, broken};
use crate::crypto::{KEY_LEN, Keyring, decode_key};

/// Where sessions, and what is kept beside them (pending logins, the application's tokens, the
/// session registry), are stored.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    /// In this process: lost on restart, and seen by this replica only.
    #[default]
    Memory,
    /// In Redis, shared by every replica and kept across restarts: needs `[session.redis]` (or
    /// `redis_url`) and `encryption_key`.
    Redis,
}

/// How the Redis store is deployed.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RedisMode {
    /// One endpoint: a single server, or a managed service's primary endpoint.
    #[default]
    Standalone,
    /// A primary found through Redis Sentinel, followed across failovers.
    Sentinel,
    /// Redis (or Valkey) Cluster.
    Cluster,
}

/// What a session write waits for.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// The primary has it (replication is asynchronous: a failover right after may lose it).
    #[default]
    Primary,
    /// At least one replica has it too (`WAIT 1`); a write no replica confirms in time is an
    /// error (503), not a session that a failover would lose.
    Replicated,
}

/// The session cookie's `SameSite`. (The login cookie is always `Lax`: it must come back on the
/// IdP's cross-site redirect to the callback.)
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SameSitePolicy {
    /// Sent on top-level navigations from other sites too (a link into the app).
    #[default]
    Lax,
    /// Sent only on requests the app's own origin started: what the browser-based-apps BCP
    /// recommends. A link from another site lands without it; the SPA's own calls carry it.
    Strict,
}

/// The prefix of both cookies' names when `public_url` is https.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
pub enum CookiePrefix {
    /// Secure, `Path=/`, no `Domain`: no subdomain can set or shadow it.
    #[default]
    #[serde(rename = "__Host-")]
    Host,
    /// All of `__Host-`, and browsers that know it also refuse it from `document.cookie`:
    /// a script on the origin can neither read nor plant it.
    #[serde(rename = "__Host-Http-")]
    HostHttp,
}

impl CookiePrefix {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Host => "__Host-",
            Self::HostHttp => "__Host-Http-",
        }
    }
}

/// `[session.redis]`: where Redis is and how to reach it. (`session.redis_url` alone is the
/// shorthand for a standalone `url`.)
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    #[serde(default)]
    pub mode: RedisMode,
    /// `standalone`: `redis://host:port[/db]`, `rediss://` for TLS, or a unix socket URL.
    pub url: Option<Url>,
    /// With `mode = "sentinel"`: the sentinels to ask for the current primary
    /// (`redis://host:26379`). List several, so that one sentinel down stops nothing.
    #[serde(default)]
    pub sentinels: Vec<Url>,
    /// With `mode = "sentinel"`: the name the sentinels watch the primary under (the one in their
    /// `sentinel monitor` line).
    pub master_name: Option<String>,
    /// `cluster`: some of its nodes (`redis://host:7000`, `rediss://` for TLS).
    #[serde(default)]
    pub nodes: Vec<Url>,
    /// The ACL user to authenticate as (Redis 6+); unset, the `default` user.
    pub username: Option<String>,
    /// Its password; better `VESTIBULE_SESSION__REDIS__PASSWORD`.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub password: Option<SecretString>,
    /// TLS: the CA that signed the servers' certificates (PEM), when not a public one.
    #[schemars(extend("x-kind" = "path"))]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub durability: Durability,
    /// With `durability = "replicated"`: how long a write waits for a replica.
    #[serde(default = "default_replication_timeout", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub replication_timeout: Duration,
}

fn default_replication_timeout() -> Duration {
    Duration::from_millis(500)
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    #[serde(default)]
    pub store: StoreKind,
    /// With `store = "redis"`: the URL of a standalone Redis (`redis://host:6379`, `rediss://`
    /// for TLS). Shorthand for `[session.redis]` with only `url`; use the table for sentinels,
    /// a cluster, credentials or durability.
    pub redis_url: Option<Url>,
    pub redis: Option<RedisConfig>,
    /// Sliding: a session unused this long ends.
    #[serde(default = "default_idle", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub idle_timeout: Duration,
    /// Fixed: a session ends this long after login, used or not.
    #[serde(default = "default_absolute", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub absolute_timeout: Duration,
    /// How long a started login may take before its callback.
    #[serde(default = "default_login_timeout", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub login_timeout: Duration,
    /// Base cookie name; `cookie_prefix` is prepended when `public_url` is https.
    #[serde(default = "default_cookie_name")]
    pub cookie_name: String,
    /// `"__Host-"`, or `"__Host-Http-"` (https only).
    #[serde(default)]
    pub cookie_prefix: CookiePrefix,
    /// The session cookie's `SameSite`: `"lax"` or `"strict"`.
    #[serde(default)]
    pub same_site: SameSitePolicy,
    /// How long a replica may reuse a session it loaded before asking the store again
    /// (at most half the idle timeout; `"0s"` turns the cache off).
    #[serde(default = "default_cache_ttl", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub cache_ttl: Duration,
    /// Refresh the access token when it expires within this long (before forwarding).
    #[serde(default = "default_refresh_skew", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub refresh_skew: Duration,
    /// How long before the session's idle or absolute end `/auth/events` sends
    /// `session_expiring`.
    #[serde(default = "default_expiry_notice", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub expiry_notice: Duration,
    /// Seals what the store keeps beside sessions (the session registry: devices, refresh
    /// tokens to revoke): 32 random bytes, base64 (`openssl rand -base64 32`). Required with the
    /// Redis store, the same on every replica; better `VESTIBULE_SESSION__ENCRYPTION_KEY`.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub encryption_key: Option<SecretString>,
    /// Keys that sealed entries before the current one (rotation): they still open them.
    #[serde(default)]
    #[schemars(with = "Vec<String>", extend("x-kind" = "secret"))]
    pub previous_encryption_keys: Vec<SecretString>,
    /// Sessions one user may hold at once; a login past it ends the oldest (reason
    /// `replaced`). 0: no limit.
    #[serde(default = "default_max_per_user")]
    pub max_per_user: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            store: StoreKind::Memory,
            redis_url: None,
            redis: None,
            idle_timeout: default_idle(),
            absolute_timeout: default_absolute(),
            login_timeout: default_login_timeout(),
            cookie_name: default_cookie_name(),
            cookie_prefix: CookiePrefix::default(),
            same_site: SameSitePolicy::default(),
            cache_ttl: default_cache_ttl(),
            refresh_skew: default_refresh_skew(),
            expiry_notice: default_expiry_notice(),
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            max_per_user: default_max_per_user(),
        }
    }
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
fn default_refresh_skew() -> Duration {
    Duration::from_secs(30)
}
fn default_expiry_notice() -> Duration {
    Duration::from_secs(120)
}
fn default_cache_ttl() -> Duration {
    Duration::from_secs(1)
}
fn default_max_per_user() -> usize {
    10
}
fn default_cookie_name() -> String {
    "vestibule".into()
}

impl SessionConfig {
    /// The Redis deployment of a validated config: `[session.redis]`, or `redis_url` as a
    /// standalone one. `None` with the memory store.
    pub fn redis_deployment(&self) -> Option<RedisConfig> {
        (self.store == StoreKind::Redis)
            .then(|| self.redis_config().ok())
            .flatten()
    }

    fn redis_config(&self) -> Result<RedisConfig, Broken> {
        match (&self.redis_url, &self.redis) {
            (Some(_), Some(_)) => Err(broken(
                "session.redis_url",
                "expected either redis_url or [session.redis], not both",
            )),
            (Some(url), None) => Ok(RedisConfig {
                url: Some(url.clone()),
                ..RedisConfig::default()
            }),
            (None, Some(r)) => Ok(r.clone()),
            (None, None) => Err(broken(
                "session.redis_url",
                "expected a redis:// or rediss:// URL (or a [session.redis] section) when \
                 store = \"redis\"",
            )),
        }
    }

    /// The registry's keys: the configured ones, or (the memory store without a key) a key of
    /// this process. Validation refused every key that does not decode, so a loaded config
    /// never falls back for that reason.
    pub fn keyring(&self) -> Keyring {
        self.configured_keyring()
            .ok()
            .flatten()
            .unwrap_or_else(Keyring::random)
    }

    fn configured_keyring(&self) -> Result<Option<Keyring>, Broken> {
        let Some(current) = &self.encryption_key else {
            if !self.previous_encryption_keys.is_empty() {
                return Err(broken(
                    "session.previous_encryption_keys",
                    "expected session.encryption_key too: old keys only open entries, the \
                     current one seals them",
                ));
            }
            return Ok(None);
        };
        let current = key_of("session.encryption_key", current)?;
        let previous = self
            .previous_encryption_keys
            .iter()
            .map(|k| key_of("session.previous_encryption_keys", k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Keyring::new(current, previous)))
    }

    pub(super) fn validate(&self) -> Result<(), Broken> {
        if self.store == StoreKind::Redis {
            self.redis_config()?.validate()?;
            if self.encryption_key.is_none() {
                return Err(broken(
                    "session.encryption_key",
                    format!(
                        "expected a key when store = \"redis\" (the same on every replica): \
                         {MAKE_KEY}"
                    ),
                ));
            }
        }
        self.configured_keyring()?;
        for (key, d) in [
            ("session.idle_timeout", self.idle_timeout),
            ("session.absolute_timeout", self.absolute_timeout),
            ("session.login_timeout", self.login_timeout),
        ] {
            if d.is_zero() {
                return Err(broken(key, "expected a positive duration such as \"30m\""));
            }
        }
        let name_ok = !self.cookie_name.is_empty()
            && self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(broken(
                "session.cookie_name",
                "expected letters, digits, '-' or '_'",
            ));
        }
        Ok(())
    }
}

/// How to make an encryption key, as error messages say it.
const MAKE_KEY: &str = "32 random bytes in base64, made with `openssl rand -base64 32`, \
                        better set with VESTIBULE_SESSION__ENCRYPTION_KEY";

/// A key's bytes; the error names the key and what is wrong, never the value.
fn key_of(key: &'static str, text: &SecretString) -> Result<[u8; KEY_LEN], Broken> {
    decode_key(text.expose_secret())
        .map_err(|wrong| broken(key, format!("expected {MAKE_KEY}; got {wrong}")))
}

impl RedisConfig {
    fn validate(&self) -> Result<(), Broken> {
        let redis_url = |u: &Url| matches!(u.scheme(), "redis" | "rediss" | "redis+unix" | "unix");
        match self.mode {
            RedisMode::Standalone => match &self.url {
                None => {
                    return Err(broken(
                        "session.redis.url",
                        "expected a redis:// or rediss:// URL with mode = \"standalone\"",
                    ));
                }
                Some(u) if !redis_url(u) => {
                    return Err(broken(
                        "session.redis_url",
                        "expected a redis://, rediss:// or unix socket URL",
                    ));
                }
                _ => {}
            },
            RedisMode::Sentinel => {
                if self.sentinels.is_empty() || !self.sentinels.iter().all(redis_url) {
                    return Err(broken(
                        "session.redis.sentinels",
                        "expected a list of redis:// URLs of sentinels with mode = \"sentinel\"",
                    ));
                }
                if self.master_name.as_deref().is_none_or(str::is_empty) {
                    return Err(broken(
                        "session.redis.master_name",
                        "expected the name of the primary the sentinels watch",
                    ));
                }
            }
            RedisMode::Cluster => {
                if self.nodes.is_empty() || !self.nodes.iter().all(redis_url) {
                    return Err(broken(
                        "session.redis.nodes",
                        "expected a list of redis:// URLs of cluster nodes with mode = \"cluster\"",
                    ));
                }
            }
        }
        if let Some(ca) = &self.ca_file
            && !ca.is_file()
        {
            return Err(broken(
                "session.redis.ca_file",
                format!("expected a PEM file, got {}", ca.display()),
            ));
        }
        if self.durability == Durability::Replicated && self.replication_timeout.is_zero() {
            return Err(broken(
                "session.redis.replication_timeout",
                "expected a positive duration such as \"500ms\"",
            ));
        }
        Ok(())
    }
}

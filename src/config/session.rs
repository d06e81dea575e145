//! `[session]`: the store, the timeouts, the cookie's name, and the per-replica cache.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::file::{Broken, broken};

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
fn default_cache_ttl() -> Duration {
    Duration::from_secs(1)
}
fn default_cookie_name() -> String {
    "vestibule".into()
}

impl SessionConfig {
    pub(super) fn validate(&self) -> Result<(), Broken> {
        if self.store == StoreKind::Redis {
            match &self.redis_url {
                None => {
                    return Err(broken(
                        "session.redis_url",
                        "expected a redis:// or rediss:// URL when store = \"redis\"",
                    ));
                }
                Some(u) if !matches!(u.scheme(), "redis" | "rediss" | "redis+unix" | "unix") => {
                    return Err(broken(
                        "session.redis_url",
                        "expected a redis://, rediss:// or unix socket URL",
                    ));
                }
                _ => {}
            }
        }
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

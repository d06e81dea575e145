//! Server-side sessions and pending logins.
//!
//! The browser holds two opaque cookies, both HttpOnly random 256-bit tokens:
//! - the session cookie (`vestibule`, or `__Host-vestibule` on https): the session's id;
//! - the login cookie (`vestibule-login`): binds logins started in this browser to it.
//!
//! The store holds only `sha256(token)` as keys and XChaCha20-Poly1305-sealed values whose key is
//! derived from the token (see [`crypto`]), so a dump of the store yields no usable cookie or token.

mod cache;
pub mod crypto;
pub mod memory;
pub mod redis;
mod refresh;
pub mod store;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use serde::{Deserialize, Serialize};

use crate::config::{Config, StoreKind};
pub use refresh::RefreshError;
pub use store::{SessionStore, StoreError};

/// A signed-in user's session. Never serialised anywhere but into a sealed store entry, and
/// deliberately without `Debug`, so it cannot end up in a log line.
#[derive(Serialize, Deserialize, Clone)]
pub struct Session {
    pub sub: String,
    pub sid: Option<String>,
    /// The validated ID token's claims, shown to the SPA by `/auth/session`.
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds at which the access token expires, when the IdP said.
    pub access_expires_at: Option<i64>,
    /// Unix seconds of login; the absolute timeout counts from here.
    pub created_at: i64,
    /// Secret that `logout_url` must carry (logout CSRF protection).
    pub logout_token: String,
}

/// A login in progress: what the callback needs to finish it.
#[derive(Serialize, Deserialize)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
}

/// Why a callback's state did not lead to a pending login.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error("no login is in progress in this browser")]
    NoLoginCookie,
    #[error("unknown, already used or expired state")]
    UnknownState,
    #[error("the login was started in another browser")]
    OtherBrowser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct SessionManager {
    store: Arc<dyn SessionStore>,
    cache: cache::SessionCache,
    gates: refresh::Gates,
    refresh_skew: Duration,
    /// Longest a refresh may hold the cross-replica lock (the IdP timeout plus a margin).
    refresh_lock_ttl: Duration,
    /// This deployment, as the IdP knows it (`issuer|client_id`), hashed into every store key.
    /// Replicas share it; another application sharing the store does not.
    namespace: String,
    idle: Duration,
    absolute: Duration,
    login_timeout: Duration,
    cookie_name: String,
    login_cookie_name: String,
    secure: bool,
}

const SESSION_KIND: &str = "s";
const LOGIN_KIND: &str = "l";

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl SessionManager {
    pub fn new(config: &Config, store: Arc<dyn SessionStore>) -> Self {
        let s = &config.session;
        let secure = config.is_https();
        let prefix = if secure { "__Host-" } else { "" };
        // Cached entries must expire well inside the idle timeout, so that sliding keeps working.
        let cache_ttl = s.cache_ttl.min(s.idle_timeout / 2);
        Self {
            store,
            cache: cache::SessionCache::new(cache_ttl, 100_000),
            gates: refresh::Gates::default(),
            refresh_skew: s.refresh_skew,
            refresh_lock_ttl: config.oidc.http_timeout + Duration::from_secs(5),
            namespace: format!("{}|{}", config.oidc.issuer, config.oidc.client_id),
            idle: s.idle_timeout,
            absolute: s.absolute_timeout,
            login_timeout: s.login_timeout,
            cookie_name: format!("{prefix}{}", s.cookie_name),
            login_cookie_name: format!("{prefix}{}-login", s.cookie_name),
            secure,
        }
    }

    /// Builds the configured store. Redis connects lazily, so this succeeds while Redis is down.
    pub fn store_from_config(config: &Config) -> Result<Arc<dyn SessionStore>, StoreError> {
        Ok(match (config.session.store, &config.session.redis_url) {
            (StoreKind::Redis, Some(url)) => Arc::new(redis::RedisStore::connect(url.as_str())?),
            _ => Arc::new(memory::MemoryStore::new()),
        })
    }

    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    pub fn login_cookie_name(&self) -> &str {
        &self.login_cookie_name
    }

    /// The store key of a secret (session id, state, `jti`, index value) in this deployment.
    fn key(&self, kind: &str, secret: &str) -> String {
        crypto::storage_key(kind, &self.namespace, secret)
    }

    /// The session id cookie of this request, when it has the shape of one we issue.
    pub fn session_id(&self, req: &HttpRequest) -> Option<String> {
        single_cookie(req, &self.cookie_name)
    }

    /// Loads the live session of this request, sliding its idle timeout. `Ok(None)` when there is
    /// no cookie, no such session, or it expired; `Err` only when the store cannot answer.
    pub async fn load(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<(String, Arc<Session>)>, StoreError> {
        let Some(id) = self.session_id(req) else {
            return Ok(None);
        };
        let key = self.key(SESSION_KIND, &id);
        let session = match self.cache.get(&key).filter(|s| self.within_deadline(s)) {
            Some(s) => Some(s),
            None => self.load_by_id(&id, &key).await?,
        };
        if let Some(s) = &session {
            actix_web::HttpMessage::extensions_mut(req)
                .insert(crate::telemetry::SessionSub(s.sub.clone()));
        }
        Ok(session.map(|s| (id, s)))
    }

    fn within_deadline(&self, s: &Session) -> bool {
        s.created_at.saturating_add(secs(self.absolute)) > now_unix()
    }

    /// Reads a session from the store (never the cache), sliding its idle timeout, and caches it.
    async fn load_by_id(&self, id: &str, key: &str) -> Result<Option<Arc<Session>>, StoreError> {
        let Some(sealed) = self.store.get(key, Some(self.idle)).await? else {
            self.cache.remove(key);
            return Ok(None);
        };
        let session = crypto::open(id.as_bytes(), SESSION_KIND, key, &sealed)
            .and_then(|plain| serde_json::from_slice::<Session>(&plain).ok());
        match session {
            Some(s) if self.within_deadline(&s) => {
                let s = Arc::new(s);
                self.cache.put(key.to_owned(), s.clone());
                Ok(Some(s))
            }
            _ => {
                // Past the absolute timeout, or unreadable: remove it for good.
                self.cache.remove(key);
                self.store.delete(key).await?;
                Ok(None)
            }
        }
    }

    /// Writes a session under its id (sealed), and refreshes this replica's cache.
    async fn save(&self, id: &str, key: &str, session: &Arc<Session>) -> Result<(), StoreError> {
        let plain = serde_json::to_vec(session.as_ref())
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sealed = crypto::seal(id.as_bytes(), SESSION_KIND, key, &plain);
        self.store.put(key, sealed, self.ttl_for(session)).await?;
        self.cache.put(key.to_owned(), session.clone());
        Ok(())
    }

    /// Ends every session of this IdP session (`sid`) and/or user (`sub`); returns how many.
    pub async fn end_matching(
        &self,
        sid: Option<&str>,
        sub: Option<&str>,
    ) -> Result<usize, StoreError> {
        let mut keys = Vec::new();
        if let Some(sid) = sid {
            keys.extend(self.store.set_take(&self.key("sid", sid)).await?);
        }
        if let Some(sub) = sub {
            keys.extend(self.store.set_take(&self.key("sub", sub)).await?);
        }
        keys.sort_unstable();
        keys.dedup();
        for key in &keys {
            self.cache.remove(key);
            self.store.delete(key).await?;
        }
        Ok(keys.len())
    }

    /// Remembers a back-channel logout token's `jti`; false when it was seen before (a replay).
    pub async fn first_use_of_jti(&self, jti: &str, window: Duration) -> Result<bool, StoreError> {
        self.store
            .put_if_absent(&self.key("jti", jti), "1", window)
            .await
    }

    /// Stores a new session under a freshly minted id, indexes it by `sid` and `sub` (for
    /// back-channel logout), and returns the id.
    pub async fn create(&self, session: Session) -> Result<String, StoreError> {
        let id = crypto::random_token();
        let key = self.key(SESSION_KIND, &id);
        let session = Arc::new(session);
        self.save(&id, &key, &session).await?;
        if let Some(sid) = &session.sid {
            self.store
                .set_add(&self.key("sid", sid), &key, self.absolute)
                .await?;
        }
        self.store
            .set_add(&self.key("sub", &session.sub), &key, self.absolute)
            .await?;
        Ok(id)
    }

    /// Ends a session by id.
    pub async fn end(&self, id: &str) -> Result<(), StoreError> {
        let key = self.key(SESSION_KIND, id);
        self.cache.remove(&key);
        self.store.delete(&key).await
    }

    /// Store TTL: the idle timeout, but never past the absolute deadline.
    fn ttl_for(&self, session: &Session) -> Duration {
        let left = session.created_at.saturating_add(secs(self.absolute)) - now_unix();
        let left = Duration::from_secs(u64::try_from(left.max(1)).unwrap_or(1));
        self.idle.min(left)
    }

    /// Unix seconds at which this session ends if it is not used again.
    pub fn expires_at(&self, session: &Session) -> i64 {
        (now_unix().saturating_add(secs(self.idle)))
            .min(session.created_at.saturating_add(secs(self.absolute)))
    }

    pub fn session_cookie(&self, id: &str) -> Cookie<'static> {
        self.cookie(self.cookie_name.clone(), id.to_owned(), None)
    }

    /// A cookie that makes the browser forget the session cookie.
    pub fn clear_session_cookie(&self) -> Cookie<'static> {
        self.cookie(
            self.cookie_name.clone(),
            String::new(),
            Some(time::Duration::ZERO),
        )
    }

    fn cookie(
        &self,
        name: String,
        value: String,
        max_age: Option<time::Duration>,
    ) -> Cookie<'static> {
        let mut c = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .finish();
        if let Some(age) = max_age {
            c.set_max_age(age);
        }
        c
    }

    /// The login cookie of this browser, reused so several tabs can log in at once; or a new one.
    pub fn login_binding(&self, req: &HttpRequest) -> String {
        single_cookie(req, &self.login_cookie_name).unwrap_or_else(crypto::random_token)
    }

    pub fn login_cookie(&self, binding: &str) -> Cookie<'static> {
        let age = time::Duration::seconds(secs(self.login_timeout));
        self.cookie(
            self.login_cookie_name.clone(),
            binding.to_owned(),
            Some(age),
        )
    }

    /// Remembers a login started with `state` in the browser holding `binding`.
    pub async fn save_pending(
        &self,
        binding: &str,
        state: &str,
        pending: &PendingLogin,
    ) -> Result<(), StoreError> {
        let key = self.key(LOGIN_KIND, state);
        let plain =
            serde_json::to_vec(pending).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sealed = crypto::seal(&pending_secret(binding, state), LOGIN_KIND, &key, &plain);
        self.store.put(&key, sealed, self.login_timeout).await
    }

    /// Consumes the pending login for `state` (single use, even under concurrent callbacks) and
    /// checks it was started by this browser.
    pub async fn take_pending(
        &self,
        req: &HttpRequest,
        state: &str,
    ) -> Result<PendingLogin, PendingError> {
        let binding =
            single_cookie(req, &self.login_cookie_name).ok_or(PendingError::NoLoginCookie)?;
        let key = self.key(LOGIN_KIND, state);
        let sealed = self
            .store
            .take(&key)
            .await?
            .ok_or(PendingError::UnknownState)?;
        let pending = crypto::open(&pending_secret(&binding, state), LOGIN_KIND, &key, &sealed)
            .and_then(|plain| serde_json::from_slice::<PendingLogin>(&plain).ok())
            .ok_or(PendingError::OtherBrowser)?;
        if pending.created_at.saturating_add(secs(self.login_timeout)) < now_unix() {
            return Err(PendingError::UnknownState);
        }
        Ok(pending)
    }
}

/// The value of cookie `name` when the request carries it exactly once, with the shape of a token
/// we issue. Twice (a cookie planted for a narrower path or a parent domain, "cookie tossing")
/// is ambiguous, and counts as none. Parsed leniently, byte-wise and without percent-decoding:
/// another application's malformed or non-UTF-8 cookie on the same host must not hide ours.
fn single_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    let mut found: Option<&[u8]> = None;
    for header in req.headers().get_all(actix_web::http::header::COOKIE) {
        for (n, v) in cookie_pairs(header.as_bytes()) {
            if n == name.as_bytes() {
                if found.is_some() {
                    tracing::warn!(cookie = name, "cookie sent more than once; ignored");
                    return None;
                }
                found = Some(v);
            }
        }
    }
    let value = std::str::from_utf8(found?).ok()?;
    crypto::is_token_shaped(value).then(|| value.to_owned())
}

/// The `name=value` pairs of one `Cookie` header, trimmed; pairs without `=` are skipped.
pub fn cookie_pairs(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    header.split(|b| *b == b';').filter_map(|pair| {
        let eq = pair.iter().position(|b| *b == b'=')?;
        Some((pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii()))
    })
}

/// The key of a pending login needs both the browser's login cookie and the state.
fn pending_secret(binding: &str, state: &str) -> Vec<u8> {
    let mut s = Vec::with_capacity(binding.len() + state.len() + 1);
    s.extend_from_slice(binding.as_bytes());
    s.push(b'|');
    s.extend_from_slice(state.as_bytes());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(public_url: &str) -> SessionManager {
        let toml = format!(
            "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"{public_url}\"\n\
             [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"s\"\n"
        );
        let config = Config::from_toml_str(&toml, "test").expect("valid config");
        SessionManager::new(&config, Arc::new(memory::MemoryStore::new()))
    }

    #[test]
    fn https_cookies_are_host_prefixed_secure_httponly_lax() {
        let m = manager("https://app.example.com");
        let id = crypto::random_token();
        for c in [
            m.session_cookie(&id),
            m.login_cookie(&id),
            m.clear_session_cookie(),
        ] {
            assert!(c.name().starts_with("__Host-vestibule"), "{c}");
            assert_eq!(c.secure(), Some(true), "{c}");
            assert_eq!(c.http_only(), Some(true), "{c}");
            assert_eq!(c.same_site(), Some(SameSite::Lax), "{c}");
            assert_eq!(c.path(), Some("/"), "{c}");
            assert_eq!(c.domain(), None, "{c}");
        }
        assert_eq!(
            m.session_cookie(&id).max_age(),
            None,
            "a browser-session cookie"
        );
        assert_eq!(
            m.clear_session_cookie().max_age(),
            Some(time::Duration::ZERO)
        );
    }

    #[test]
    fn loopback_http_cookies_have_no_prefix_and_no_secure() {
        let m = manager("http://127.0.0.1:8080");
        let c = m.session_cookie(&crypto::random_token());
        assert_eq!(c.name(), "vestibule");
        assert_ne!(c.secure(), Some(true));
        assert_eq!(c.http_only(), Some(true));
    }
}

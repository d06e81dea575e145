//! [`SessionManager`]: sessions in the store, keyed by a hash of the cookie's id and sealed under
//! a key only that id opens; the per-replica cache in front; the `sid`/`sub` indexes for
//! back-channel logout.
//!
//! Timeouts: the idle timeout slides with every store read (`GETEX`), capped by the absolute
//! deadline, which lives inside the sealed session and is checked on every load, cached or not.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;

use super::cache::SessionCache;
use super::device::Device;
use super::events::{EndReason, EventHub, SessionEvent, StreamLimits};
use super::single_flight::{Flights, Unsaved};
use super::{CookieCodec, PendingLogins, Session};
use crate::config::Config;
use crate::crypto;
use crate::crypto::Keyring;
use crate::store::Namespace;
use crate::store::{News, Store, StoreError};
use crate::store::{memory, redis};
use crate::support::{now_unix, secs};

pub(super) const SESSION_KIND: &str = "s";

/// Whether a load pushes the session's idle end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Slide {
    Yes,
    No,
}

/// Entries the per-replica cache may hold before it sweeps.
const CACHE_ENTRIES: usize = 100_000;

/// Sessions of this deployment: load (through the cache), create, end, and find by IdP session
/// or user; with [`PendingLogins`] and the [`CookieCodec`] beside it.
pub struct SessionManager {
    pub(super) store: Arc<dyn Store>,
    pub(super) cache: Arc<SessionCache>,
    /// Refreshes, one at a time per session (see `refresh`).
    pub(super) flights: Flights,
    /// Refreshed sessions the store has not taken yet (see `refresh`).
    pub(super) unsaved: Arc<Unsaved>,
    cookies: CookieCodec,
    pending: PendingLogins,
    pub(super) refresh_skew: Duration,
    namespace: Namespace,
    pub(super) idle: Duration,
    pub(super) absolute: Duration,
    /// The SPA's event streams open on this replica.
    pub(super) events: Arc<EventHub>,
    /// Seals what the session registry keeps (see `registry`): `session.encryption_key`.
    pub(super) keyring: Keyring,
    /// `session.max_per_user` (0: no limit).
    pub(super) max_per_user: usize,
}

/// A new session: its id, and the refresh tokens of the sessions it replaced (past
/// `session.max_per_user`), to revoke.
pub struct Created {
    pub id: String,
    pub replaced: Vec<String>,
}

impl SessionManager {
    /// `legacy_secret`: what sealed the registry before `session.encryption_key` (see
    /// `Provider::sealing_secret`); it only opens old entries.
    pub fn new(config: &Config, store: Arc<dyn Store>, legacy_secret: Vec<u8>) -> Self {
        let s = &config.session;
        let namespace = Namespace::new(&config.oidc.issuer, &config.oidc.client_id);
        // Cached entries must expire well inside the idle timeout, so that sliding keeps working.
        let cache_ttl = s.cache_ttl.min(s.idle_timeout / 2);
        Self {
            pending: PendingLogins::new(store.clone(), namespace.clone(), s.login_timeout),
            // A refresh holds the cross-replica lock at most the IdP timeout plus a margin.
            flights: Flights::new(
                store.clone(),
                config.oidc.http_timeout + Duration::from_secs(5),
            ),
            store,
            cache: Arc::new(SessionCache::new(cache_ttl, CACHE_ENTRIES)),
            unsaved: Arc::new(Unsaved::default()),
            cookies: CookieCodec::new(config),
            refresh_skew: s.refresh_skew,
            namespace,
            idle: s.idle_timeout,
            absolute: s.absolute_timeout,
            events: Arc::new(EventHub::new(StreamLimits::from_config(&config.server))),
            keyring: s.keyring().with_legacy(legacy_secret),
            max_per_user: s.max_per_user,
        }
    }

    /// Builds the configured store. Redis connects lazily, so this succeeds while Redis is down.
    pub fn store_from_config(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match config.session.redis_deployment() {
            Some(redis) => Arc::new(redis::RedisStore::new(&redis)?),
            None => Arc::new(memory::MemoryStore::new()),
        })
    }

    /// Listens for sessions ended on other replicas, to drop them from this one's cache. Until
    /// the store says it hears them, the cache is not trusted. Call once, inside the runtime.
    /// Their event streams here hear it too (news this replica sent, it told them itself).
    pub fn listen_for_ended_sessions(&self) {
        let (cache, events, unsaved) = (
            self.cache.clone(),
            self.events.clone(),
            self.unsaved.clone(),
        );
        cache.trust(false);
        let on = move |news: News| match news {
            News::Ended { keys, reason, ours } => {
                for k in &keys {
                    cache.ended(k);
                    unsaved.remove(k);
                    if let (false, Some(r)) = (ours, reason.as_deref().and_then(EndReason::parse)) {
                        events.send(k, SessionEvent::Ended(r));
                    }
                }
            }
            News::Changed { keys, ours } => {
                for k in &keys {
                    cache.remove(k);
                    if !ours {
                        events.send(k, SessionEvent::ClaimsChanged);
                    }
                }
            }
            News::Lost => cache.trust(false),
            News::Live => cache.trust(true),
        };
        if !self.store.listen(Arc::new(on)) {
            // No other replicas to hear from (the memory store).
            self.cache.trust(true);
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn cookies(&self) -> &CookieCodec {
        &self.cookies
    }

    pub fn pending(&self) -> &PendingLogins {
        &self.pending
    }

    pub fn events(&self) -> &Arc<EventHub> {
        &self.events
    }

    /// The store key of the session with this id (what event streams subscribe to).
    pub fn session_key(&self, id: &str) -> String {
        self.key(SESSION_KIND, id)
    }

    /// The store key of a secret (session id, `jti`, index value) in this deployment.
    pub(super) fn key(&self, kind: &str, secret: &str) -> String {
        self.namespace.key(kind, secret)
    }

    /// Loads the live session of this request, sliding its idle timeout. `Ok(None)` when there is
    /// no cookie, no such session, or it expired; `Err` only when the store cannot answer.
    pub async fn load(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<(String, Arc<Session>)>, StoreError> {
        self.load_with(req, Slide::Yes).await
    }

    /// [`SessionManager::load`], sliding the idle timeout or not (a poll that must not keep the
    /// session alive).
    #[tracing::instrument(level = "debug", name = "session.load", skip_all)]
    pub async fn load_with(
        &self,
        req: &HttpRequest,
        slide: Slide,
    ) -> Result<Option<(String, Arc<Session>)>, StoreError> {
        let Some(id) = self.cookies.session_id(req) else {
            return Ok(None);
        };
        let key = self.key(SESSION_KIND, &id);
        let held = self.unsaved_of(&key).or_else(|| self.cache.get(&key));
        let session = match held.filter(|s| self.within_deadline(s)) {
            Some(s) => Some(s),
            None => self.read(&id, &key, slide).await?,
        };
        if let Some(s) = &session {
            actix_web::HttpMessage::extensions_mut(req)
                .insert(crate::telemetry::SessionSub(s.sub.clone()));
        }
        Ok(session.map(|s| (id, s)))
    }

    fn within_deadline(&self, s: &Session) -> bool {
        self.absolute_end_of(s.created_at) > now_unix()
    }

    /// Reads a session from the store (never the cache), sliding its idle timeout, and caches it.
    pub(super) async fn load_by_id(
        &self,
        id: &str,
        key: &str,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        self.read(id, key, Slide::Yes).await
    }

    async fn read(
        &self,
        id: &str,
        key: &str,
        slide: Slide,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        // Newer than the store's copy: tokens a refresh got that still wait to be written.
        if let Some(s) = self.unsaved_of(key) {
            return Ok(Some(s));
        }
        let slide = (slide == Slide::Yes).then_some(self.idle);
        let Some(stored) = self.store.get(key, slide).await? else {
            self.cache.ended(key);
            return Ok(None);
        };
        match decode(id, key, &stored) {
            Some(s) if self.within_deadline(&s) => {
                let s = Arc::new(s);
                self.cache.put(key.to_owned(), s.clone());
                Ok(Some(s))
            }
            _ => {
                // Past the absolute timeout, or unreadable: remove it for good.
                self.cache.ended(key);
                self.store.delete(key).await?;
                Ok(None)
            }
        }
    }

    /// Tokens a refresh got for session `key` that still wait to be written, unless it ended
    /// meanwhile (an ended session is never served from them).
    fn unsaved_of(&self, key: &str) -> Option<Arc<Session>> {
        self.unsaved.get(key).filter(|_| !self.cache.was_ended(key))
    }

    /// Writes a new session under its id (sealed), and caches it.
    async fn save_new(
        &self,
        id: &str,
        key: &str,
        session: &Arc<Session>,
    ) -> Result<(), StoreError> {
        let value = encode(id, key, session)?;
        self.store.put(key, value, self.ttl_for(session)).await?;
        self.cache.put(key.to_owned(), session.clone());
        Ok(())
    }

    /// Writes `session` over the stored one only if that is still generation `over` (nobody
    /// wrote since it was read): the fence of refresh writes. False when someone did.
    pub(super) async fn save_over(
        &self,
        id: &str,
        key: &str,
        session: &Arc<Session>,
        over: u64,
    ) -> Result<bool, StoreError> {
        let value = encode(id, key, session)?;
        let written = self
            .store
            .replace_if(key, &over.to_be_bytes(), value, self.ttl_for(session))
            .await?;
        if written {
            self.cache.put(key.to_owned(), session.clone());
        }
        Ok(written)
    }

    /// Stores a new session under a freshly minted id, indexes it by `sid` and `sub` (for
    /// back-channel logout and the session lists), registers it (see `registry`), ends the
    /// user's oldest sessions past `session.max_per_user`, and returns the id.
    pub async fn create(&self, session: Session, device: Device) -> Result<Created, StoreError> {
        let id = crypto::random_token();
        let key = self.key(SESSION_KIND, &id);
        let session = Arc::new(session);
        self.save_new(&id, &key, &session).await?;
        self.register(&key, &session, Some(device)).await?;
        crate::telemetry::metrics::METRICS.sessions_created.inc();
        if let Some(sid) = &session.sid {
            self.store
                .set_add(&self.key("sid", sid), &key, self.absolute)
                .await?;
        }
        self.store
            .set_add(&self.key("sub", &session.sub), &key, self.absolute)
            .await?;
        let replaced = self
            .cap_sessions_of(&session.sub, &key, session.sid.as_deref())
            .await?;
        self.prune_all_index().await?;
        Ok(Created { id, replaced })
    }

    /// Ends a session by id, on every replica; its streams hear `reason`. Returns its refresh
    /// token (to revoke), when the registry has it.
    pub async fn end(&self, id: &str, reason: EndReason) -> Result<Vec<String>, StoreError> {
        let key = self.key(SESSION_KIND, id);
        self.end_keys(&[key], reason).await
    }

    /// Ends every session of this IdP session (`sid`) and/or user (`sub`); returns how many.
    pub async fn end_matching(
        &self,
        sid: Option<&str>,
        sub: Option<&str>,
        reason: EndReason,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let mut keys = Vec::new();
        if let Some(sid) = sid {
            keys.extend(self.store.set_take(&self.key("sid", sid)).await?);
        }
        if let Some(sub) = sub {
            keys.extend(self.store.set_take(&self.key("sub", sub)).await?);
        }
        keys.sort_unstable();
        keys.dedup();
        let live = self.live(&keys).await?;
        let refresh_tokens = self.end_keys(&live, reason).await?;
        Ok((live.len(), refresh_tokens))
    }

    /// Ends these sessions (by store key) on every replica: their cache entries, store entries
    /// and registry entries go, their streams hear `reason`. Returns the refresh tokens the
    /// registry held for them, to revoke.
    pub async fn end_keys(
        &self,
        keys: &[String],
        reason: EndReason,
    ) -> Result<Vec<String>, StoreError> {
        self.end_keys_sparing(keys, reason, None).await
    }

    /// Ends sessions (by store key) that a new login in IdP session `sid` replaces (this
    /// browser's older session, a step-up's, the oldest past `max_per_user`), reason
    /// `replaced`. Returns their refresh tokens to revoke, but for those of the same IdP
    /// session: an IdP may keep one grant per IdP session and client (oidc-provider does), and
    /// revoking the old token would revoke the new login's with it.
    pub async fn end_replaced(
        &self,
        keys: &[String],
        sid: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.end_keys_sparing(keys, EndReason::Replaced, sid).await
    }

    async fn end_keys_sparing(
        &self,
        keys: &[String],
        reason: EndReason,
        spare_sid: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let refresh_tokens = self.unregister(keys, spare_sid).await?;
        crate::telemetry::metrics::METRICS
            .sessions_ended
            .with_label_values(&[reason.as_str()])
            .inc_by(keys.len() as u64);
        for key in keys {
            // First, so that no request of this replica serves it again: not from the cache
            // (nor a cache entry a racing read puts back), not from unwritten refreshed tokens.
            self.cache.ended(key);
            self.unsaved.remove(key);
            self.store.delete(key).await?;
            self.events.send(key, SessionEvent::Ended(reason));
        }
        self.store.announce_ended(keys, reason.as_str()).await?;
        Ok(refresh_tokens)
    }

    /// Tells the session's streams, on every replica, that its claims changed.
    pub(super) async fn claims_changed(&self, key: &str) -> Result<(), StoreError> {
        self.events.send(key, SessionEvent::ClaimsChanged);
        self.store.announce_changed(&[key.to_owned()]).await
    }

    /// Remembers a back-channel logout token's `jti`; false when it was seen before (a replay).
    pub async fn first_use_of_jti(&self, jti: &str, window: Duration) -> Result<bool, StoreError> {
        // A value of our own: `put_if_absent` counts its own value as "written by us".
        self.store
            .put_if_absent(&self.key("jti", jti), &crypto::random_token(), window)
            .await
    }

    /// Store TTL: the idle timeout, but never past the absolute deadline.
    pub(super) fn ttl_for(&self, session: &Session) -> Duration {
        self.idle.min(self.until_absolute_end(session.created_at))
    }

    /// How long a session made at `created_at` has until its absolute end (at least a second:
    /// a store TTL).
    pub(super) fn until_absolute_end(&self, created_at: i64) -> Duration {
        let left = self.absolute_end_of(created_at) - now_unix();
        Duration::from_secs(u64::try_from(left.max(1)).unwrap_or(1))
    }

    /// Unix seconds of the absolute end of a session made at `created_at`.
    pub(super) fn absolute_end_of(&self, created_at: i64) -> i64 {
        created_at.saturating_add(secs(self.absolute))
    }

    /// Unix seconds at which this session ends if it is not used again.
    pub fn expires_at(&self, session: &Session) -> i64 {
        (now_unix().saturating_add(secs(self.idle))).min(self.absolute_end(session))
    }

    /// Unix seconds of the session's absolute end.
    pub fn absolute_end(&self, session: &Session) -> i64 {
        self.absolute_end_of(session.created_at)
    }

    /// Unix seconds of the session's idle end as the store has it now (no slide); `None` when it
    /// is gone.
    pub async fn idle_end(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let key = self.key(SESSION_KIND, id);
        let ttl = self.store.ttls(std::slice::from_ref(&key)).await?;
        Ok(ttl
            .first()
            .copied()
            .flatten()
            .map(|t| now_unix().saturating_add(secs(t))))
    }
}

/// The stored form of a session: its generation (8 bytes, big-endian, in plain: the fencing token
/// of refresh writes), then the sealed JSON.
pub(super) fn encode(id: &str, key: &str, session: &Session) -> Result<Vec<u8>, StoreError> {
    let plain = serde_json::to_vec(session).map_err(StoreError::Encode)?;
    let sealed = crypto::seal(id.as_bytes(), SESSION_KIND, key, &plain);
    let mut value = Vec::with_capacity(8 + sealed.len());
    value.extend_from_slice(&session.generation.to_be_bytes());
    value.extend_from_slice(&sealed);
    Ok(value)
}

/// The session stored as `value`, or `None` when it does not open with this id.
fn decode(id: &str, key: &str, value: &[u8]) -> Option<Session> {
    let (generation, sealed) = value.split_at_checked(8)?;
    let generation = u64::from_be_bytes(generation.try_into().ok()?);
    let plain = crypto::open(id.as_bytes(), SESSION_KIND, key, sealed)?;
    let mut session: Session = serde_json::from_slice(&plain).ok()?;
    session.generation = generation;
    Some(session)
}

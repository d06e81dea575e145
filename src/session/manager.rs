//! [`SessionManager`]: sessions in the store, keyed by a hash of the cookie's id and sealed under
//! a key only that id opens; the per-replica cache in front; the `sid`/`sub` indexes for
//! back-channel logout; the [`Registry`] beside them. What it does is split by what each part
//! decides:
//!
//! - `reading`: which copy a request is served (unwritten refreshed tokens, the cache, the
//!   store) and when a stored session is dead;
//! - `writing`: making a session, and the fenced write of a refresh;
//! - `ending`: ending sessions (by id, IdP session, user, handle, past `max_per_user`) on every
//!   replica, what their streams hear, and why they ended (kept in the store for a while).

mod ending;
mod reading;
mod writing;

use std::sync::Arc;
use std::time::Duration;

use super::cache::SessionCache;
use super::events::{EndReason, EventHub, SessionEvent, StreamLimits};
use super::record::{SESSION_KIND, Session};
use super::registry::{Listed, Registry};
use super::single_flight::{Flights, Unsaved};
use super::timeouts::Timeouts;
use super::{CookieCodec, PendingLogins};
use crate::config::Config;
use crate::crypto;
use crate::store::{Namespace, News, Store, StoreError, memory, redis};
use crate::support::{now_unix, secs};

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
    store: Arc<dyn Store>,
    cache: Arc<SessionCache>,
    /// Refreshes, one at a time per session (see `refresh`).
    pub(super) flights: Flights,
    /// Refreshed sessions the store has not taken yet (see `refresh`).
    unsaved: Arc<Unsaved>,
    cookies: CookieCodec,
    pending: PendingLogins,
    pub(super) refresh_skew: Duration,
    namespace: Namespace,
    pub(super) timeouts: Timeouts,
    /// The SPA's event streams open on this replica.
    events: Arc<EventHub>,
    /// What a user's session list and the admin API show (see `registry`).
    pub(super) registry: Registry,
    /// `session.max_per_user` (0: no limit).
    max_per_user: usize,
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
        let namespace = Namespace::of(config);
        // Cached entries must expire well inside the idle timeout, so that sliding keeps working.
        let cache_ttl = s.cache_ttl.min(s.idle_timeout / 2);
        let timeouts = Timeouts {
            idle: s.idle_timeout,
            absolute: s.absolute_timeout,
        };
        let keyring = s.keyring().with_legacy(legacy_secret);
        Self {
            pending: PendingLogins::new(store.clone(), namespace.clone(), s.login_timeout),
            // A refresh holds the cross-replica lock at most the IdP timeout plus a margin.
            flights: Flights::new(
                store.clone(),
                config.oidc.http_timeout + Duration::from_secs(5),
            ),
            registry: Registry::new(store.clone(), namespace.clone(), keyring, timeouts),
            store,
            cache: Arc::new(SessionCache::new(cache_ttl, CACHE_ENTRIES)),
            unsaved: Arc::new(Unsaved::default()),
            cookies: CookieCodec::new(config),
            refresh_skew: s.refresh_skew,
            namespace,
            timeouts,
            events: Arc::new(EventHub::new(StreamLimits::from_config(&config.server))),
            max_per_user: s.max_per_user,
        }
    }

    /// A manager for a reloaded `config` of the same namespace as `old`, sharing its cache,
    /// event streams and unwritten refreshes, and the subscription that keeps them (so one
    /// namespace has one subscription, however many reloads).
    pub fn reusing(
        config: &Config,
        store: Arc<dyn Store>,
        legacy_secret: Vec<u8>,
        old: &SessionManager,
    ) -> Self {
        Self {
            cache: old.cache.clone(),
            events: old.events.clone(),
            unsaved: old.unsaved.clone(),
            ..Self::new(config, store, legacy_secret)
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
                // The store carries the reason as its code; one this version does not know
                // (a newer replica's) ends the session all the same, without telling why.
                let reason = reason.as_deref().and_then(EndReason::parse);
                for k in &keys {
                    cache.ended(k);
                    unsaved.remove(k);
                    if let (false, Some(r)) = (ours, reason) {
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

    /// The live sessions of user `sub`, newest first (unknown devices last); `current_id` marks
    /// the caller's own (see `registry`).
    pub async fn sessions_of(
        &self,
        sub: &str,
        current_id: Option<&str>,
    ) -> Result<Vec<Listed>, StoreError> {
        let current = current_id.map(|id| self.key(SESSION_KIND, id));
        self.registry.sessions_of(sub, current.as_deref()).await
    }

    /// Live sessions of this deployment.
    pub async fn count_live(&self) -> Result<usize, StoreError> {
        self.registry.count_live().await
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
        self.timeouts.ttl_for(session)
    }

    /// Unix seconds at which this session ends if it is not used again.
    pub fn expires_at(&self, session: &Session) -> i64 {
        self.timeouts.expires_at(session)
    }

    /// Unix seconds of the session's absolute end.
    pub fn absolute_end(&self, session: &Session) -> i64 {
        self.timeouts.absolute_end_of(session.created_at)
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

#[cfg(test)]
mod tests;

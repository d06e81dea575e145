//! The session registry: what a user's list of sessions and the admin API show, and what ending
//! someone else's session needs. A session opens only with its cookie's id, which the server does
//! not keep; so beside each session the registry keeps a small entry sealed under the deployment's
//! `session.encryption_key` (see `crypto::keyring`): the session's opaque handle, its user, when
//! and from where it was made, its IdP session, and its refresh token (to revoke it when the
//! session is ended from elsewhere). A dump of the store alone opens none of them. Two indexes
//! find entries: the user's (`sub`, which back-channel logout also uses) and the deployment's
//! (`all`, for counting).
//!
//! Liveness is the session entry's, and only the session entry's: an index member whose session
//! expired is pruned when read; one whose session lives is never pruned, whether or not its
//! registry entry opens. An entry that does not open (sealed under a key this replica lacks,
//! overwritten, or missing: a session from before the registry) is listed as an unknown device
//! with a handle derived from its store key, and can be ended like any other: a session cannot
//! hide from revocation. "Last seen" comes from the session's remaining idle time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Session;
use super::device::Device;
use super::timeouts::Timeouts;
use crate::crypto::{self, Keyring};
use crate::store::{Namespace, Store, StoreError};
use crate::support::{now_unix, secs};

const ENTRY_KIND: &str = "m";
/// Characters of a handle: 22 base64url characters, 132 random bits.
const HANDLE_LEN: usize = 22;
/// Members of the deployment's index checked at each login, the dead ones removed: with one
/// member added per login, dead members stay a small fraction of it (about 1/16) without a
/// full scan.
const PRUNE_SAMPLE: usize = 16;

/// A session's registry entry.
#[derive(Serialize, Deserialize)]
struct Entry {
    handle: String,
    sub: String,
    created_at: i64,
    /// `None`: written for a session found without an entry (its device is not known).
    device: Option<Device>,
    refresh_token: Option<String>,
    /// The IdP session it was made in.
    #[serde(default)]
    sid: Option<String>,
    /// When it was registered, in Unix milliseconds: orders sessions made within one second
    /// (which is oldest, for `max_per_user`).
    #[serde(default)]
    registered_ms: i64,
}

/// A live session, as listed.
pub struct Listed {
    pub handle: String,
    /// `None` when its registry entry cannot be opened.
    pub created_at: Option<i64>,
    /// When it was last used (to within `cache_ttl`; its creation time when the idle timer is
    /// capped by the absolute timeout).
    pub last_seen: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: Option<i64>,
    /// `None`: an unknown device (an entry that does not open, or a session without one).
    pub device: Option<Device>,
    /// The session of the request that asked.
    pub current: bool,
    pub(super) key: String,
    /// Newest last: creation time, then registration time; `None` (an unknown device) first.
    age: Option<(i64, i64)>,
}

/// The registry of this deployment's sessions, in the store beside them.
pub(super) struct Registry {
    store: Arc<dyn Store>,
    namespace: Namespace,
    /// Seals the entries: `session.encryption_key`.
    keyring: Keyring,
    timeouts: Timeouts,
}

impl Registry {
    pub(super) fn new(
        store: Arc<dyn Store>,
        namespace: Namespace,
        keyring: Keyring,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            store,
            namespace,
            keyring,
            timeouts,
        }
    }

    /// The key of the index of `sub`'s sessions (which back-channel logout reads too).
    pub(super) fn sub_index(&self, sub: &str) -> String {
        self.namespace.key("sub", sub)
    }

    fn all_index(&self) -> String {
        self.namespace.key("all", "sessions")
    }

    fn entry_key(&self, session_key: &str) -> String {
        self.namespace.key(ENTRY_KIND, session_key)
    }

    /// The handle of a session whose entry does not open: a keyed hash of its store key, so
    /// every replica with the key names it alike and nobody without it can guess it.
    fn unknown_handle(&self, key: &str) -> String {
        self.keyring.name_of("vestibule/v1/handle", key, HANDLE_LEN)
    }

    /// Registers a new session.
    pub(super) async fn register(
        &self,
        key: &str,
        session: &Session,
        device: Option<Device>,
    ) -> Result<(), StoreError> {
        let entry = Entry {
            handle: crypto::random_token()[..HANDLE_LEN].to_owned(),
            sub: session.sub.clone(),
            created_at: session.created_at,
            device,
            refresh_token: session.refresh_token.clone(),
            sid: session.sid.clone(),
            registered_ms: now_millis(),
        };
        self.put_entry(key, &entry).await?;
        self.store
            .set_add(&self.all_index(), key, self.timeouts.absolute)
            .await
    }

    /// Seals `entry` under the current key.
    async fn put_entry(&self, key: &str, entry: &Entry) -> Result<(), StoreError> {
        let entry_key = self.entry_key(key);
        let plain = serde_json::to_vec(entry).map_err(StoreError::Encode)?;
        let sealed = self.keyring.seal(ENTRY_KIND, &entry_key, &plain);
        let ttl = self.timeouts.until_absolute_end(entry.created_at);
        self.store.put(&entry_key, sealed, ttl).await
    }

    /// The entry sealed as `sealed` for session `key`, and whether an older key opened it.
    fn open_entry(&self, key: &str, sealed: &[u8]) -> Option<(Entry, bool)> {
        let opened = self
            .keyring
            .open(ENTRY_KIND, &self.entry_key(key), sealed)?;
        let entry = serde_json::from_slice(&opened.plain).ok()?;
        Some((entry, opened.stale))
    }

    async fn entry(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let Some(sealed) = self.store.get(&self.entry_key(key), None).await? else {
            return Ok(None);
        };
        Ok(self.open_entry(key, &sealed).map(|(e, _)| e))
    }

    /// Removes the registry entries of ended sessions; returns their refresh tokens, but for
    /// those made in IdP session `spare_sid` (see `SessionManager::end_replaced`).
    pub(super) async fn unregister(
        &self,
        keys: &[String],
        spare_sid: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let entry_keys: Vec<String> = keys.iter().map(|k| self.entry_key(k)).collect();
        let sealed = self.store.get_many(&entry_keys).await?;
        let mut refresh_tokens = Vec::new();
        let mut by_sub: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ((key, entry_key), sealed) in keys.iter().zip(&entry_keys).zip(sealed) {
            if let Some((entry, _)) = sealed.and_then(|s| self.open_entry(key, &s)) {
                let spared = spare_sid.is_some() && entry.sid.as_deref() == spare_sid;
                if !spared {
                    refresh_tokens.extend(entry.refresh_token);
                }
                by_sub.entry(entry.sub).or_default().push(key.clone());
            }
            // Opened or not: an ended session's entry goes. (Index members of an entry that did
            // not open go when their session is next seen dead.)
            self.store.delete(entry_key).await?;
        }
        for (sub, members) in by_sub {
            self.store
                .set_remove(&self.sub_index(&sub), &members)
                .await?;
        }
        self.store.set_remove(&self.all_index(), keys).await?;
        Ok(refresh_tokens)
    }

    /// The session keys among `keys` whose sessions are alive.
    pub(super) async fn live(&self, keys: &[String]) -> Result<Vec<String>, StoreError> {
        let ttls = self.store.ttls(keys).await?;
        Ok(keys
            .iter()
            .zip(ttls)
            .filter(|(_, t)| t.is_some())
            .map(|(k, _)| k.clone())
            .collect())
    }

    /// The live sessions of user `sub`, newest first (unknown devices last); `current` (a
    /// session's store key) marks the caller's own. One batch of reads for all of them; entries
    /// an older key opened are sealed again under the current one.
    pub(super) async fn sessions_of(
        &self,
        sub: &str,
        current: Option<&str>,
    ) -> Result<Vec<Listed>, StoreError> {
        let index = self.sub_index(sub);
        let keys = self.store.set_members(&index).await?;
        let entry_keys: Vec<String> = keys.iter().map(|k| self.entry_key(k)).collect();
        let (ttls, sealed) =
            futures_util::try_join!(self.store.ttls(&keys), self.store.get_many(&entry_keys))?;
        let now = now_unix();
        let (mut listed, mut gone, mut stale) = (Vec::new(), Vec::new(), Vec::new());
        for ((key, ttl), sealed) in keys.into_iter().zip(ttls).zip(sealed) {
            // Only a session that is gone leaves the index.
            let Some(ttl) = ttl else {
                gone.push(key);
                continue;
            };
            let seen = Seen {
                now,
                ttl,
                current: current == Some(key.as_str()),
            };
            match sealed.and_then(|s| self.open_entry(&key, &s)) {
                // Sealed by us for another user: a member of the wrong index, not this user's.
                Some((entry, _)) if entry.sub != sub => gone.push(key),
                Some((entry, was_stale)) => {
                    listed.push(self.known(key.clone(), &entry, seen));
                    if was_stale {
                        stale.push((key, entry));
                    }
                }
                None => listed.push(self.unknown(key, seen)),
            }
        }
        self.store.set_remove(&index, &gone).await?;
        for (key, entry) in &stale {
            self.put_entry(key, entry).await?;
        }
        listed.sort_by_key(|l| std::cmp::Reverse(l.age));
        Ok(listed)
    }

    /// A session whose entry opened, as listed.
    fn known(&self, key: String, entry: &Entry, seen: Seen) -> Listed {
        Listed {
            handle: entry.handle.clone(),
            created_at: Some(entry.created_at),
            last_seen: self.last_seen(seen).max(entry.created_at),
            idle_expires_at: seen.now + secs(seen.ttl),
            absolute_expires_at: Some(self.timeouts.absolute_end_of(entry.created_at)),
            device: entry.device.clone(),
            current: seen.current,
            key,
            age: Some((entry.created_at, entry.registered_ms)),
        }
    }

    /// A session whose entry does not open (or is missing), as listed: an unknown device.
    fn unknown(&self, key: String, seen: Seen) -> Listed {
        Listed {
            handle: self.unknown_handle(&key),
            created_at: None,
            last_seen: self.last_seen(seen),
            idle_expires_at: seen.now + secs(seen.ttl),
            absolute_expires_at: None,
            device: None,
            current: seen.current,
            key,
            age: None,
        }
    }

    /// When a session was last used: its idle timer restarts at each use.
    fn last_seen(&self, seen: Seen) -> i64 {
        let idle_left = secs(self.timeouts.idle) - secs(seen.ttl);
        seen.now - idle_left.max(0)
    }

    /// Live sessions of this deployment (prunes the index of expired ones as it counts).
    pub(super) async fn count_live(&self) -> Result<usize, StoreError> {
        let index = self.all_index();
        let keys = self.store.set_members(&index).await?;
        self.prune_dead(&index, keys).await
    }

    /// Checks a few random members of the deployment's index and removes the dead ones, so the
    /// index does not grow with every session ever made between two admin counts.
    pub(super) async fn prune_all_index(&self) -> Result<(), StoreError> {
        let index = self.all_index();
        let sample = self.store.set_sample(&index, PRUNE_SAMPLE).await?;
        self.prune_dead(&index, sample).await.map(|_| ())
    }

    /// Removes the members of `keys` whose sessions are gone from `index`; how many live.
    async fn prune_dead(&self, index: &str, keys: Vec<String>) -> Result<usize, StoreError> {
        let live = self.live(&keys).await?;
        if live.len() < keys.len() {
            let dead: Vec<String> = keys.into_iter().filter(|k| !live.contains(k)).collect();
            self.store.set_remove(index, &dead).await?;
        }
        Ok(live.len())
    }

    /// After a refresh rotated the refresh token: the registry keeps the new one (to revoke),
    /// sealed under the current key. A session whose entry did not open gets a new one (its
    /// device unknown), so from now on it can be revoked at the IdP too.
    pub(super) async fn rotated(
        &self,
        key: &str,
        session: &Arc<Session>,
    ) -> Result<(), StoreError> {
        match self.entry(key).await? {
            Some(mut entry) => {
                entry.refresh_token = session.refresh_token.clone();
                self.put_entry(key, &entry).await
            }
            None => self.register(key, session, None).await,
        }
    }
}

/// What the store says of a listed session.
#[derive(Clone, Copy)]
struct Seen {
    /// Unix seconds of the listing.
    now: i64,
    /// How long the session has left before its idle end.
    ttl: Duration,
    /// The session of the request that asked.
    current: bool,
}

/// Unix milliseconds now.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;

//! The session registry: what a user's list of sessions and the admin API show, and what ending
//! someone else's session needs. A session opens only with its cookie's id, which the server does
//! not keep; so with each session the registry keeps a small entry sealed under the deployment's
//! `session.encryption_key` (see `crypto::keyring`): the session's opaque handle, its user, when
//! and from where it was made, its IdP session, and its refresh token (to revoke it when the
//! session is ended from elsewhere). A dump of the store alone opens none of them. The entry is
//! stored in the session's own value, beside the sealed session (see `record`), so it lives and
//! goes exactly as the session does; versions before kept it under a key of its own (`m`), where
//! the entries of their sessions are still read (and moved into the session's value at its next
//! refresh). Two indexes find sessions: the user's (which back-channel logout also uses) and the
//! deployment's (for counting); see `indexes`.
//!
//! Liveness is the session entry's, and only the session entry's: an index member whose session
//! expired is pruned when read; one whose session lives is never pruned, whether or not its
//! registry entry opens. An entry that does not open (sealed under a key this replica lacks,
//! overwritten, or missing: a session from before the registry) is listed as an unknown device
//! with a handle derived from its store key, and can be ended like any other: a session cannot
//! hide from revocation. "Last seen" comes from the session's remaining idle time.

mod entry;
mod listing;
mod refreshed;

use std::collections::BTreeMap;
use std::sync::Arc;

use self::entry::Entry;
pub use self::listing::Listed;
use super::Session;
use super::device::Device;
use super::indexes::{Index, Indexes};
use super::record::stored_entry;
use super::timeouts::Timeouts;
use crate::crypto::{self, Keyring};
use crate::store::{Namespace, Store, StoreError};

/// The kind of the sealed entries, and of the keys versions before stored them under.
const ENTRY_KIND: &str = "m";
/// Characters of a handle: 22 base64url characters, 132 random bits.
const HANDLE_LEN: usize = 22;
/// Members of the deployment's index checked at each login, the dead ones removed: with one
/// member added per login, dead members stay a small fraction of it (about 1/16) without a
/// full scan.
const PRUNE_SAMPLE: usize = 16;

/// The registry of this deployment's sessions, in the store with them.
pub(super) struct Registry {
    store: Arc<dyn Store>,
    namespace: Namespace,
    indexes: Indexes,
    /// Seals the entries: `session.encryption_key`.
    keyring: Keyring,
    timeouts: Timeouts,
}

/// A session's registry entry, as found.
struct Found {
    entry: Entry,
    /// An older key opened it: seal it again under the current one.
    stale: bool,
    /// Under a key of its own (a session stored by versions before), not in the session's value.
    own_key: bool,
}

impl Registry {
    pub(super) fn new(
        store: Arc<dyn Store>,
        namespace: Namespace,
        keyring: Keyring,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            indexes: Indexes::new(store.clone(), namespace.clone()),
            store,
            namespace,
            keyring,
            timeouts,
        }
    }

    /// The indexes of sessions: by IdP session, by user, the deployment's.
    pub(super) fn indexes(&self) -> &Indexes {
        &self.indexes
    }

    /// What an entry is sealed for (its associated data), and the key versions before stored it
    /// under.
    fn entry_key(&self, session_key: &str) -> String {
        self.namespace.key(ENTRY_KIND, session_key)
    }

    /// The handle of a session whose entry does not open: a keyed hash of its store key, so
    /// every replica with the key names it alike and nobody without it can guess it.
    fn unknown_handle(&self, key: &str) -> String {
        self.keyring.name_of("vestibule/v1/handle", key, HANDLE_LEN)
    }

    /// The sealed entry of a new session (stored with it, at store key `key`).
    pub(super) fn new_entry(
        &self,
        key: &str,
        session: &Session,
        device: Option<Device>,
    ) -> Arc<[u8]> {
        self.seal_entry(key, &fresh_entry(session, device)).into()
    }

    /// Registers a new session, stored with its entry: it joins the deployment's index.
    pub(super) async fn register(&self, key: &str) -> Result<(), StoreError> {
        self.indexes
            .add(Index::Deployment, key, self.timeouts.absolute)
            .await
    }

    /// Seals `entry` under the current key.
    fn seal_entry(&self, key: &str, entry: &Entry) -> Vec<u8> {
        self.keyring
            .seal(ENTRY_KIND, &self.entry_key(key), &entry.to_plain())
    }

    /// The entry sealed as `sealed` for session `key`, and whether an older key opened it.
    fn open_entry(&self, key: &str, sealed: &[u8]) -> Option<(Entry, bool)> {
        let opened = self
            .keyring
            .open(ENTRY_KIND, &self.entry_key(key), sealed)?;
        let entry = Entry::from_plain(&opened.plain)?;
        Some((entry, opened.stale))
    }

    /// The entries of the sessions at `keys`, whose stored values are `values`: the one in the
    /// value, else (a session stored by versions before) the one under a key of its own.
    async fn entries(
        &self,
        keys: &[String],
        values: &[Option<Vec<u8>>],
    ) -> Result<Vec<Option<Found>>, StoreError> {
        let mut found: Vec<Option<Found>> = keys
            .iter()
            .zip(values)
            .map(|(key, value)| {
                let (entry, stale) = self.open_entry(key, stored_entry(value.as_deref()?)?)?;
                Some(Found {
                    entry,
                    stale,
                    own_key: false,
                })
            })
            .collect();
        let elsewhere: Vec<usize> = (0..keys.len()).filter(|i| found[*i].is_none()).collect();
        if elsewhere.is_empty() {
            return Ok(found);
        }
        let entry_keys: Vec<String> = elsewhere
            .iter()
            .map(|i| self.entry_key(&keys[*i]))
            .collect();
        let sealed = self.store.get_many(&entry_keys).await?;
        for (i, sealed) in elsewhere.into_iter().zip(sealed) {
            found[i] = sealed
                .and_then(|s| self.open_entry(&keys[i], &s))
                .map(|(entry, stale)| Found {
                    entry,
                    stale,
                    own_key: true,
                });
        }
        Ok(found)
    }

    /// Removes ended sessions from the indexes (their entries go with their values); returns
    /// their refresh tokens, but for those made in IdP session `spare_sid` (see
    /// `SessionManager::end_replaced`). Call before the sessions are deleted.
    pub(super) async fn unregister(
        &self,
        keys: &[String],
        spare_sid: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let values = self.store.get_many(keys).await?;
        let found = self.entries(keys, &values).await?;
        let mut refresh_tokens = Vec::new();
        let mut by_sub: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut own_keys = Vec::new();
        for (key, found) in keys.iter().zip(found) {
            match found {
                Some(Found { entry, own_key, .. }) => {
                    let spared = spare_sid.is_some() && entry.sid.as_deref() == spare_sid;
                    if !spared {
                        refresh_tokens.extend(entry.refresh_token);
                    }
                    by_sub.entry(entry.sub).or_default().push(key.clone());
                    if own_key {
                        own_keys.push(self.entry_key(key));
                    }
                }
                // Opened or not, an entry under a key of its own goes. (Index members of an
                // entry that did not open go when their session is next seen dead.)
                None => own_keys.push(self.entry_key(key)),
            }
        }
        let deletes = own_keys.iter().map(|k| self.store.delete(k));
        for deleted in futures_util::future::join_all(deletes).await {
            deleted?;
        }
        for (sub, members) in by_sub {
            self.indexes.remove(Index::User(&sub), &members).await?;
        }
        self.indexes.remove(Index::Deployment, keys).await?;
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

    /// Live sessions of this deployment (prunes the index of expired ones as it counts).
    pub(super) async fn count_live(&self) -> Result<usize, StoreError> {
        let keys = self.indexes.members(Index::Deployment).await?;
        self.prune_dead(keys).await
    }

    /// Checks a few random members of the deployment's index and removes the dead ones, so the
    /// index does not grow with every session ever made between two admin counts.
    pub(super) async fn prune_all_index(&self) -> Result<(), StoreError> {
        let sample = self.indexes.sample(PRUNE_SAMPLE).await?;
        self.prune_dead(sample).await.map(|_| ())
    }

    /// Removes the members of `keys` whose sessions are gone from the deployment's index; how
    /// many live.
    async fn prune_dead(&self, keys: Vec<String>) -> Result<usize, StoreError> {
        let live = self.live(&keys).await?;
        if live.len() < keys.len() {
            let dead: Vec<String> = keys.into_iter().filter(|k| !live.contains(k)).collect();
            self.indexes.remove(Index::Deployment, &dead).await?;
        }
        Ok(live.len())
    }
}

/// A new entry for `session`, with a new handle; `device` `None`: made for a session found
/// without one.
fn fresh_entry(session: &Session, device: Option<Device>) -> Entry {
    Entry {
        handle: crypto::random_token()[..HANDLE_LEN].to_owned(),
        sub: session.sub.clone(),
        created_at: session.created_at,
        device,
        refresh_token: session.refresh_token.clone(),
        sid: session.sid.clone(),
        registered_ms: now_millis(),
    }
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

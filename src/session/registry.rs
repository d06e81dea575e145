//! The session registry: what a user's list of sessions and the admin API show, and what ending
//! someone else's session needs. A session opens only with its cookie's id, which the server
//! does not keep; so beside each session the registry keeps a small entry sealed under the
//! deployment's own key (derived from its client credentials, see `Provider::sealing_secret`):
//! the session's opaque handle, its user, when and from where it was made, and its refresh token
//! (to revoke it when the session is ended from elsewhere). A dump of the store alone opens none
//! of them. Two indexes find entries: the user's (`sub`, which back-channel logout also uses)
//! and the deployment's (`all`, for counting).
//!
//! Liveness is the session entry's: an index member whose session expired is skipped (and
//! pruned) when read. "Last seen" comes from the session's remaining idle time.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::device::Device;
use super::events::EndReason;
use super::manager::SESSION_KIND;
use super::store::StoreError;
use super::{Session, SessionManager, crypto};
use crate::support::{now_unix, secs};

const ENTRY_KIND: &str = "m";
/// Characters of a handle: 22 base64url characters, 132 random bits.
const HANDLE_LEN: usize = 22;

/// A session's registry entry.
#[derive(Serialize, Deserialize)]
struct Entry {
    handle: String,
    sub: String,
    created_at: i64,
    device: Device,
    refresh_token: Option<String>,
}

/// A live session, as listed.
pub struct Listed {
    pub handle: String,
    pub created_at: i64,
    /// When it was last used (to within `cache_ttl`; its creation time when the idle timer is
    /// capped by the absolute timeout).
    pub last_seen: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub device: Device,
    /// The session of the request that asked.
    pub current: bool,
    key: String,
}

impl SessionManager {
    fn all_index(&self) -> String {
        self.key("all", "sessions")
    }

    fn entry_key(&self, session_key: &str) -> String {
        self.key(ENTRY_KIND, session_key)
    }

    /// Registers a new session.
    pub(super) async fn register(
        &self,
        key: &str,
        session: &Session,
        device: Device,
    ) -> Result<(), StoreError> {
        let entry = Entry {
            handle: crypto::random_token()[..HANDLE_LEN].to_owned(),
            sub: session.sub.clone(),
            created_at: session.created_at,
            device,
            refresh_token: session.refresh_token.clone(),
        };
        self.put_entry(key, &entry).await?;
        self.store
            .set_add(&self.all_index(), key, self.absolute)
            .await
    }

    async fn put_entry(&self, key: &str, entry: &Entry) -> Result<(), StoreError> {
        let entry_key = self.entry_key(key);
        let plain = serde_json::to_vec(entry).map_err(StoreError::Encode)?;
        let sealed = crypto::seal(&self.registry_secret, ENTRY_KIND, &entry_key, &plain);
        let ttl = self.until_absolute_end(entry.created_at);
        self.store.put(&entry_key, sealed, ttl).await
    }

    async fn entry(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        let entry_key = self.entry_key(key);
        let Some(sealed) = self.store.get(&entry_key, None).await? else {
            return Ok(None);
        };
        Ok(
            crypto::open(&self.registry_secret, ENTRY_KIND, &entry_key, &sealed)
                .and_then(|plain| serde_json::from_slice(&plain).ok()),
        )
    }

    /// Removes the registry entries of ended sessions; returns their refresh tokens.
    pub(super) async fn unregister(&self, keys: &[String]) -> Result<Vec<String>, StoreError> {
        let mut refresh_tokens = Vec::new();
        for key in keys {
            if let Some(entry) = self.entry(key).await? {
                refresh_tokens.extend(entry.refresh_token);
                self.store
                    .set_remove(&self.key("sub", &entry.sub), std::slice::from_ref(key))
                    .await?;
                self.store.delete(&self.entry_key(key)).await?;
            }
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

    /// The live sessions of user `sub`, newest first; `current_id` marks the caller's own.
    pub async fn sessions_of(
        &self,
        sub: &str,
        current_id: Option<&str>,
    ) -> Result<Vec<Listed>, StoreError> {
        let index = self.key("sub", sub);
        let keys = self.store.set_members(&index).await?;
        let ttls = self.store.ttls(&keys).await?;
        let current = current_id.map(|id| self.key(SESSION_KIND, id));
        let now = now_unix();
        let (mut listed, mut dead) = (Vec::new(), Vec::new());
        for (key, ttl) in keys.into_iter().zip(ttls) {
            let entry = match ttl {
                Some(_) => self.entry(&key).await?,
                None => None,
            };
            let (Some(ttl), Some(entry)) = (ttl, entry.filter(|e| e.sub == sub)) else {
                dead.push(key);
                continue;
            };
            let idle_left = secs(self.idle) - secs(ttl);
            listed.push(Listed {
                handle: entry.handle,
                created_at: entry.created_at,
                last_seen: (now - idle_left.max(0)).max(entry.created_at),
                idle_expires_at: now + secs(ttl),
                absolute_expires_at: self.absolute_end_of(entry.created_at),
                device: entry.device,
                current: current.as_deref() == Some(key.as_str()),
                key,
            });
        }
        self.store.set_remove(&index, &dead).await?;
        listed.sort_by_key(|l| std::cmp::Reverse(l.created_at));
        Ok(listed)
    }

    /// Ends the session of `sub` with this handle; `None` when `sub` has none such (another
    /// user's handle, a guessed one, an ended one). Returns its refresh token, to revoke.
    pub async fn end_by_handle(
        &self,
        sub: &str,
        handle: &str,
        reason: EndReason,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let listed = self.sessions_of(sub, None).await?;
        let Some(found) = listed.iter().find(|l| crypto::ct_eq(&l.handle, handle)) else {
            return Ok(None);
        };
        self.end_keys(std::slice::from_ref(&found.key), reason)
            .await
            .map(Some)
    }

    /// Ends every session of `sub` but `current_id`'s; how many, and their refresh tokens.
    pub async fn end_others(
        &self,
        sub: &str,
        current_id: &str,
        reason: EndReason,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let others: Vec<String> = self
            .sessions_of(sub, Some(current_id))
            .await?
            .into_iter()
            .filter(|l| !l.current)
            .map(|l| l.key)
            .collect();
        let tokens = self.end_keys(&others, reason).await?;
        Ok((others.len(), tokens))
    }

    /// Live sessions of this deployment (prunes the index of expired ones as it counts).
    pub async fn count_live(&self) -> Result<usize, StoreError> {
        let index = self.all_index();
        let keys = self.store.set_members(&index).await?;
        let live = self.live(&keys).await?;
        if live.len() < keys.len() {
            let dead: Vec<String> = keys.into_iter().filter(|k| !live.contains(k)).collect();
            self.store.set_remove(&index, &dead).await?;
        }
        Ok(live.len())
    }

    /// After a refresh rotated the refresh token: the registry keeps the new one (to revoke).
    pub(super) async fn registry_rotated(
        &self,
        key: &str,
        session: &Arc<Session>,
    ) -> Result<(), StoreError> {
        if let Some(mut entry) = self.entry(key).await? {
            entry.refresh_token = session.refresh_token.clone();
            self.put_entry(key, &entry).await?;
        }
        Ok(())
    }
}

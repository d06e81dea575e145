//! The entry a refreshed session is stored with.

use std::sync::Arc;

use super::{Registry, fresh_entry};
use crate::session::Session;
use crate::support::Chain;

/// The entry to store with a refreshed session.
pub(in crate::session) struct Carried {
    pub(in crate::session) entry: Option<Arc<[u8]>>,
    /// It was under a key of its own (a session stored by versions before) and moves into the
    /// session's value: that key is to be deleted once the session is written (see
    /// [`Registry::forget_own_entry`]).
    pub(in crate::session) moved: bool,
}

impl Registry {
    /// The entry to store with `next`, what a refresh of `current` (at store key `key`) made:
    /// the same, unless the refresh token rotated (the entry keeps the new one, to revoke) or an
    /// older key sealed it (sealed again under the current one). A session whose entry does not
    /// open gets a new one when its refresh token rotates (its device unknown), so that from then
    /// on it can be revoked at the IdP too. Never fails the refresh: when the store cannot say
    /// what a session of versions before has under its entry's own key, the entry stays there.
    pub(in crate::session) async fn entry_after_refresh(
        &self,
        key: &str,
        current: &Session,
        next: &Session,
    ) -> Carried {
        let keep = Carried {
            entry: current.registry_entry.clone(),
            moved: false,
        };
        let rotated = next.refresh_token != current.refresh_token;
        let (found, moved) = match &current.registry_entry {
            Some(sealed) => (self.open_entry(key, sealed), false),
            None => match self.store.get(&self.entry_key(key), None).await {
                Ok(sealed) => (sealed.and_then(|s| self.open_entry(key, &s)), true),
                Err(e) => {
                    tracing::warn!(error = %Chain(&e), "session registry: the entry was not read; it stays where it is");
                    return keep;
                }
            },
        };
        let entry = match found {
            Some((mut entry, stale)) if rotated || stale || moved => {
                entry.refresh_token = next.refresh_token.clone();
                entry
            }
            Some(_) => return keep,
            None if rotated => fresh_entry(next, None),
            None => return keep,
        };
        Carried {
            entry: Some(self.seal_entry(key, &entry).into()),
            moved,
        }
    }

    /// Deletes the entry a session of versions before kept under a key of its own, once the
    /// session is stored with it.
    pub(in crate::session) async fn forget_own_entry(
        &self,
        key: &str,
    ) -> Result<(), crate::store::StoreError> {
        self.store.delete(&self.entry_key(key)).await
    }
}

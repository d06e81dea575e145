//! [`Indexes`]: the sessions of an IdP session (`sid`, for back- and front-channel logout), of a
//! user (`sub`, which back-channel logout reads too, and the session lists), and of the
//! deployment (for counting), in the store beside the sessions.
//!
//! A member is a session's key in its short form (`store::keys::short_form`: 43 characters,
//! not 78). The indexes of an IdP session and of a user are kept as the store's small indexes
//! (`Store::index_add`: a Redis hash, which Redis stores compactly while it is small, where a set
//! of even one member is a hash table of its own); the deployment's, one key for every session,
//! stays a set.
//!
//! Versions before kept the first two as sets under other keys (`sid`, `sub`), their members
//! whole keys. Those sets are read and pruned beside the new indexes, and never written again:
//! they expire by themselves, `session.absolute_timeout` after the last login that added to them.
//! The deployment's set keeps its name; its whole-key members are read alike.

use std::sync::Arc;
use std::time::Duration;

use super::record::SESSION_KIND;
use crate::store::keys::{from_short_form, short_form};
use crate::store::{Namespace, Store, StoreError};

/// Which index.
#[derive(Clone, Copy)]
pub(super) enum Index<'a> {
    /// The sessions of this IdP session (`sid`).
    IdpSession(&'a str),
    /// The sessions of this user (`sub`).
    User(&'a str),
    /// Every session of the deployment.
    Deployment,
}

#[derive(Clone)]
pub(super) struct Indexes {
    store: Arc<dyn Store>,
    namespace: Namespace,
}

/// Where an index lives: its key now, and the set versions before kept it in (for the
/// deployment's, the same key).
struct Keys {
    key: String,
    old: String,
    small: bool,
}

impl Indexes {
    pub(super) fn new(store: Arc<dyn Store>, namespace: Namespace) -> Self {
        Self { store, namespace }
    }

    fn keys(&self, index: Index<'_>) -> Keys {
        let ns = &self.namespace;
        match index {
            Index::IdpSession(sid) => Keys {
                key: ns.key("by-sid", sid),
                old: ns.key("sid", sid),
                small: true,
            },
            Index::User(sub) => Keys {
                key: ns.key("by-sub", sub),
                old: ns.key("sub", sub),
                small: true,
            },
            Index::Deployment => {
                let key = ns.key("all", "sessions");
                Keys {
                    old: key.clone(),
                    key,
                    small: false,
                }
            }
        }
    }

    /// Adds the session at store key `session_key`; the index expires after `ttl` unless a
    /// later add extends it (never shortened).
    pub(super) async fn add(
        &self,
        index: Index<'_>,
        session_key: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let keys = self.keys(index);
        let member = short_form(session_key);
        if keys.small {
            self.store.index_add(&keys.key, &member, ttl).await
        } else {
            self.store.set_add(&keys.key, &member, ttl).await
        }
    }

    /// The store keys of the sessions in the index.
    pub(super) async fn members(&self, index: Index<'_>) -> Result<Vec<String>, StoreError> {
        let keys = self.keys(index);
        if !keys.small {
            return Ok(expanded(self.store.set_members(&keys.key).await?));
        }
        let (now, before) = futures_util::try_join!(
            self.store.index_members(&keys.key),
            self.store.set_members(&keys.old)
        )?;
        Ok(expanded(now.into_iter().chain(before).collect()))
    }

    /// Reads and deletes the index (each of its keys atomically).
    pub(super) async fn take(&self, index: Index<'_>) -> Result<Vec<String>, StoreError> {
        let keys = self.keys(index);
        if !keys.small {
            return Ok(expanded(self.store.set_take(&keys.key).await?));
        }
        let (now, before) = futures_util::try_join!(
            self.store.index_take(&keys.key),
            self.store.set_take(&keys.old)
        )?;
        Ok(expanded(now.into_iter().chain(before).collect()))
    }

    /// Up to `count` sessions of the deployment's index, picked at random.
    pub(super) async fn sample(&self, count: usize) -> Result<Vec<String>, StoreError> {
        let keys = self.keys(Index::Deployment);
        Ok(expanded(self.store.set_sample(&keys.key, count).await?))
    }

    /// Removes these sessions (by store key), in whichever form the index holds them.
    pub(super) async fn remove(
        &self,
        index: Index<'_>,
        session_keys: &[String],
    ) -> Result<(), StoreError> {
        if session_keys.is_empty() {
            return Ok(());
        }
        let keys = self.keys(index);
        let short: Vec<String> = session_keys.iter().map(|k| short_form(k)).collect();
        if !keys.small {
            let both: Vec<String> = short
                .into_iter()
                .chain(session_keys.iter().cloned())
                .collect();
            return self.store.set_remove(&keys.key, &both).await;
        }
        futures_util::try_join!(
            self.store.index_remove(&keys.key, &short),
            self.store.set_remove(&keys.old, session_keys)
        )
        .map(|_| ())
    }
}

/// Session keys of index members, short or whole, without duplicates.
fn expanded(members: Vec<String>) -> Vec<String> {
    let mut keys: Vec<String> = members
        .iter()
        .map(|m| from_short_form(SESSION_KIND, m))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests;

//! Ending sessions, on every replica: by id, by IdP session or user (back-channel logout, the
//! admin API), by handle or all but the caller's (a user's session list), and the oldest past
//! `session.max_per_user`; their streams hear why, and the store remembers why for a while, for
//! a browser that was not listening (its stream was down, the replica restarted).

use std::time::Duration;

use super::SessionManager;
use crate::crypto;
use crate::session::indexes::Index;
use crate::session::record::SESSION_KIND;
use crate::session::{EndReason, SessionEvent};
use crate::store::StoreError;

/// How long, at most, the store remembers why a session ended (else `session.idle_timeout`:
/// a browser away longer would have found its session expired anyway).
const END_REASON_KEPT: Duration = Duration::from_secs(24 * 3600);

/// The store key of why the session at store key `key` ended: the session's own key with a
/// suffix, so in its Redis Cluster slot, and as unguessable as it is.
fn end_reason_key(key: &str) -> String {
    format!("{key}:ended")
}

impl SessionManager {
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
        let indexes = self.registry.indexes();
        if let Some(sid) = sid {
            keys.extend(indexes.take(Index::IdpSession(sid)).await?);
        }
        if let Some(sub) = sub {
            keys.extend(indexes.take(Index::User(sub)).await?);
        }
        keys.sort_unstable();
        keys.dedup();
        let live = self.registry.live(&keys).await?;
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
        let refresh_tokens = self.registry.unregister(keys, spare_sid).await?;
        crate::telemetry::metrics::METRICS
            .sessions_ended
            .with_label_values(&[reason.as_str()])
            .inc_by(keys.len() as u64);
        let remembered = self.timeouts.idle.min(END_REASON_KEPT);
        for key in keys {
            // First, so that no request of this replica serves it again: not from the cache
            // (nor a cache entry a racing read puts back), not from unwritten refreshed tokens.
            self.cache.ended(key);
            self.unsaved.remove(key);
            // Before the session goes: whoever finds it gone can find why.
            let code = reason.as_str().as_bytes().to_vec();
            self.store
                .put(&end_reason_key(key), code, remembered)
                .await?;
            self.store.delete(key).await?;
            self.events.send(key, SessionEvent::Ended(reason));
        }
        self.store.announce_ended(keys, reason.as_str()).await?;
        Ok(refresh_tokens)
    }

    /// Why the session with this id ended, while the store remembers: `None` when it never
    /// existed, expired, or ended longer ago than the store keeps reasons. One read, never a
    /// write, whatever the id (a forged cookie costs that read and nothing else).
    pub async fn end_reason(&self, id: &str) -> Result<Option<EndReason>, StoreError> {
        let key = end_reason_key(&self.key(SESSION_KIND, id));
        let stored = self.store.get(&key, None).await?;
        Ok(stored
            .as_deref()
            .and_then(|code| std::str::from_utf8(code).ok())
            .and_then(EndReason::parse))
    }

    /// Tells the session's streams, on every replica, that its claims changed.
    pub(in crate::session) async fn claims_changed(&self, key: &str) -> Result<(), StoreError> {
        self.events.send(key, SessionEvent::ClaimsChanged);
        self.store.announce_changed(&[key.to_owned()]).await
    }

    /// Ends the session of `sub` with this handle; `None` when `sub` has none such (another
    /// user's handle, a guessed one, an ended one). Returns its refresh token, to revoke.
    pub async fn end_by_handle(
        &self,
        sub: &str,
        handle: &str,
        reason: EndReason,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let listed = self.registry.sessions_of(sub, None).await?;
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

    /// With `session.max_per_user`: after user `sub` got session `key` (in IdP session `sid`),
    /// ends their oldest sessions past the limit (unknown devices count as the oldest), reason
    /// `replaced`; returns their refresh tokens, to revoke.
    pub(super) async fn cap_sessions_of(
        &self,
        sub: &str,
        key: &str,
        sid: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        if self.max_per_user == 0 {
            return Ok(Vec::new());
        }
        let listed = self.registry.sessions_of(sub, None).await?;
        let excess = listed.len().saturating_sub(self.max_per_user);
        let oldest: Vec<String> = listed
            .into_iter()
            .rev()
            .filter(|l| l.key != key)
            .take(excess)
            .map(|l| l.key)
            .collect();
        if oldest.is_empty() {
            return Ok(Vec::new());
        }
        self.end_replaced(&oldest, sid).await
    }
}

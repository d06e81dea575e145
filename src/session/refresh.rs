//! Access token refresh: exactly one refresh at the IdP per session, however many requests need
//! it at once, on one replica or many.
//!
//! 1. In the process, one async gate per session: concurrent requests queue behind the first.
//! 2. Across replicas, a short expiring lock in the store (`SET NX PX`, released by
//!    compare-and-delete). A replica that does not get it waits, re-reading the session until the
//!    lock holder has stored fresh tokens.
//! 3. Whoever holds both re-reads the session from the store (not the cache) first: if another
//!    request or replica already refreshed, there is nothing to do.
//!
//! The refresher is the only writer of an existing session and writes only under the lock, after
//! that re-read, so a request that loaded the session earlier can never write old tokens back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::manager::SESSION_KIND;
use super::{Session, SessionManager, StoreError, crypto};
use crate::oidc::{OidcError, Provider};
use crate::support::{Chain, lock, now_unix, secs, unix_after};
use crate::telemetry::metrics::METRICS;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The IdP refused the refresh token (`invalid_grant`): the session has been ended.
    #[error("the session's refresh token was refused; the session has ended")]
    Ended,
    /// The IdP could not be reached or failed: the session is kept for a later try.
    #[error("token refresh failed")]
    IdpUnavailable(#[source] OidcError),
    /// Another replica is refreshing and did not finish in time.
    #[error("a token refresh is still in progress")]
    Pending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// In-process gates, one per session being refreshed.
#[derive(Default)]
pub struct Gates(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Gates {
    fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = lock(&self.0);
        if map.len() > 10_000 {
            // Drop gates nobody holds or waits on.
            map.retain(|_, g| Arc::strong_count(g) > 1);
        }
        map.entry(key.to_owned()).or_default().clone()
    }
}

/// How often a replica waiting for another's refresh re-reads the session.
const WAIT_POLL: Duration = Duration::from_millis(50);

impl SessionManager {
    /// True when the access token can be refreshed and is expired or about to: within
    /// `refresh_skew` of expiry, but never more than half its lifetime ahead. Without that cap,
    /// a token that lives no longer than the skew (10 s tokens are common) would need a refresh
    /// the moment it arrives, and every call would refresh.
    pub fn needs_refresh(&self, session: &Session) -> bool {
        let skew = secs(self.refresh_skew);
        let ahead = session
            .access_lifetime
            .map_or(skew, |lifetime| skew.min(lifetime / 2));
        session.refresh_token.is_some()
            && session
                .access_expires_at
                .is_some_and(|t| t.saturating_sub(ahead) <= now_unix())
    }

    /// Returns the session with a usable access token, refreshing it first when needed.
    pub async fn ensure_fresh(
        &self,
        id: &str,
        session: Arc<Session>,
        oidc: &Provider,
    ) -> Result<Arc<Session>, RefreshError> {
        self.refresh_while(id, session, oidc, &|s| self.needs_refresh(s))
            .await
    }

    /// After an upstream refused the access token `rejected` (401 `invalid_token`; an IdP that
    /// gives no `expires_in` leaves no other way to know): refreshes, unless another request
    /// already replaced that token. Still exactly one refresh however many requests were refused.
    pub async fn refresh_rejected(
        &self,
        id: &str,
        session: Arc<Session>,
        rejected: &str,
        oidc: &Provider,
    ) -> Result<Arc<Session>, RefreshError> {
        let stale = |s: &Session| s.refresh_token.is_some() && s.access_token == rejected;
        self.refresh_while(id, session, oidc, &stale).await
    }

    /// Refreshes when `stale` says so, checking it again behind the gate and under the lock.
    async fn refresh_while(
        &self,
        id: &str,
        session: Arc<Session>,
        oidc: &Provider,
        stale: &dyn Fn(&Session) -> bool,
    ) -> Result<Arc<Session>, RefreshError> {
        if !stale(&session) {
            return Ok(session);
        }
        let key = self.key(SESSION_KIND, id);
        let gate = self.gates.gate(&key);
        let _in_process = gate.lock().await;

        let lock_key = format!("{key}:refresh-lock");
        let owner = crypto::random_token();
        let deadline = Instant::now() + self.refresh_lock_ttl;
        loop {
            // Whatever happened while we waited, the store has the truth.
            let current = self
                .load_by_id(id, &key)
                .await?
                .ok_or(RefreshError::Ended)?;
            if !stale(&current) {
                return Ok(current);
            }
            if self
                .store
                .put_if_absent(&lock_key, &owner, self.refresh_lock_ttl)
                .await?
            {
                let result = self.refresh_locked(id, &key, oidc, stale).await;
                self.store.delete_if(&lock_key, &owner).await?;
                return result;
            }
            if Instant::now() >= deadline {
                return Err(RefreshError::Pending);
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }

    /// Refreshes while holding the store lock.
    async fn refresh_locked(
        &self,
        id: &str,
        key: &str,
        oidc: &Provider,
        stale: &dyn Fn(&Session) -> bool,
    ) -> Result<Arc<Session>, RefreshError> {
        // Re-read under the lock: the previous holder may have finished just before we got it.
        let current = self.load_by_id(id, key).await?.ok_or(RefreshError::Ended)?;
        if !stale(&current) {
            return Ok(current);
        }
        let Some(refresh_token) = current.refresh_token.as_deref() else {
            return Ok(current);
        };
        match oidc.refresh(refresh_token, &current.sub).await {
            Ok(tokens) => {
                let mut next = (*current).clone();
                next.access_token = tokens.access_token;
                if tokens.refresh_token.is_some() {
                    next.refresh_token = tokens.refresh_token;
                }
                next.access_expires_at = tokens.access_expires_in.map(unix_after);
                next.access_lifetime = tokens.access_expires_in.map(secs);
                if let Some((id_token, claims)) = tokens.id_token {
                    // Kept for `id_token_hint` at logout; claims the IdP updated replace old ones.
                    next.id_token = id_token;
                    next.claims.extend(claims);
                }
                let next = Arc::new(next);
                self.save(id, key, &next).await?;
                tracing::info!(result = "success", "token refresh");
                METRICS.refreshes.with_label_values(&["success"]).inc();
                Ok(next)
            }
            // The grant is gone, or the IdP now answers for someone else (or with an ID token
            // that does not validate): this session cannot go on.
            Err(
                e @ (OidcError::InvalidGrant
                | OidcError::SubjectChanged
                | OidcError::InvalidIdToken(_)),
            ) => {
                let result = match e {
                    OidcError::InvalidGrant => "invalid_grant",
                    _ => "invalid_id_token",
                };
                tracing::info!(result, error = %Chain(&e), "token refresh; ending the session");
                METRICS.refreshes.with_label_values(&[result]).inc();
                self.end(id).await?;
                Err(RefreshError::Ended)
            }
            Err(e) => {
                tracing::warn!(result = "failure", error = %Chain(&e), "token refresh; keeping the session");
                METRICS.refreshes.with_label_values(&["failure"]).inc();
                Err(RefreshError::IdpUnavailable(e))
            }
        }
    }
}

#[cfg(test)]
mod tests;

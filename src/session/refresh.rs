//! Access token refresh: exactly one refresh at the IdP per session, however many requests need
//! it at once, on one replica or many.
//!
//! 1.-3. One refresh at a time per session, on this replica and across replicas, and none when
//!    the session read from the store (not the cache) behind the gate and under the store lock
//!    is fresh already: another request or replica refreshed (see `single_flight`).
//!
//! The refresher is the only writer of an existing session and writes only under the lock, after
//! that re-read, so a request that loaded the session earlier can never write old tokens back.
//!
//! 4. The write is fenced: it succeeds only if the stored session is still the generation read
//!    under the lock. A holder that stalled past its lock's TTL (CPU starvation, a slow Redis)
//!    cannot overwrite what another replica wrote meanwhile; if nobody did, its write still
//!    lands, so the rotated refresh token is not lost.
//! 5. When the IdP has answered but the store cannot take the write (Redis blinked), the new
//!    tokens stay in this process (`Unsaved`): this replica serves the session from them, keeps
//!    the lock, and retries the fenced write in the background until it lands or is refused.
//!    A user is never signed out because Redis blinked at the wrong moment.
//! 6. A route's own token (a narrowed refresh, a token exchange: see `oidc::route_grant`) is
//!    renewed by the same steps, under the same gate and lock: a narrowed refresh spends the
//!    session's refresh token just as the login's refresh does.

use std::sync::Arc;

use super::record::SESSION_KIND;
use super::renewal::Renewal;
use super::single_flight::{Busy, Held};
use super::{EndReason, Session, SessionManager};
use crate::oidc::{OidcError, Provider, RouteGrant};
use crate::store::StoreError;
use crate::support::{Chain, due, due_at, now_unix};
use crate::telemetry::metrics::METRICS;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The IdP refused the refresh token (`invalid_grant`): the session has been ended.
    #[error("the session's refresh token was refused; the session has ended")]
    Ended,
    /// The IdP could not be reached or failed: the session is kept for a later try.
    #[error("token refresh failed")]
    IdpUnavailable(#[source] OidcError),
    /// The IdP will not mint a route's own token (the session is kept).
    #[error("the identity provider did not grant a token for this route")]
    NotGranted(#[source] OidcError),
    /// Another replica is refreshing and did not finish in time.
    #[error("a token refresh is still in progress")]
    Pending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Busy> for RefreshError {
    fn from(_: Busy) -> Self {
        RefreshError::Pending
    }
}

impl SessionManager {
    /// True when the access token can be refreshed and is expired or about to (`support::due`:
    /// within `refresh_skew`, never more than half its lifetime ahead).
    pub fn needs_refresh(&self, session: &Session) -> bool {
        self.needs_refresh_at(session, now_unix())
    }

    /// [`SessionManager::needs_refresh`] as seen at `now` (unix seconds).
    pub(crate) fn needs_refresh_at(&self, session: &Session, now: i64) -> bool {
        session.refresh_token.is_some()
            && due_at(
                session.access_expires_at,
                session.access_lifetime,
                self.refresh_skew,
                now,
            )
    }

    /// Returns the session with a usable access token, refreshing it first when needed.
    pub async fn ensure_fresh(
        &self,
        id: &str,
        session: Arc<Session>,
        oidc: &Provider,
    ) -> Result<Arc<Session>, RefreshError> {
        self.refresh_while(id, session, oidc, Renewal::Login, &|s| {
            self.needs_refresh(s)
        })
        .await
    }

    /// Returns the session holding a usable token for `grant`'s route, obtaining or renewing it
    /// first when needed (same exactly-once rule as the login's token).
    pub async fn ensure_route_token(
        &self,
        id: &str,
        session: Arc<Session>,
        grant: &RouteGrant,
        oidc: &Provider,
    ) -> Result<Arc<Session>, RefreshError> {
        let stale = |s: &Session| {
            s.route_tokens
                .get(&grant.key)
                .is_none_or(|t| due(t.expires_at, t.lifetime, self.refresh_skew))
        };
        self.refresh_while(id, session, oidc, Renewal::Route(grant), &stale)
            .await
    }

    /// After an upstream refused the route token `rejected`: a new one, unless another request
    /// already replaced it.
    pub async fn route_token_rejected(
        &self,
        id: &str,
        session: Arc<Session>,
        grant: &RouteGrant,
        rejected: &str,
        oidc: &Provider,
    ) -> Result<Arc<Session>, RefreshError> {
        let stale = |s: &Session| {
            s.route_tokens
                .get(&grant.key)
                .is_none_or(|t| t.access_token == rejected)
        };
        self.refresh_while(id, session, oidc, Renewal::Route(grant), &stale)
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
        self.refresh_while(id, session, oidc, Renewal::Login, &stale)
            .await
    }

    /// Refreshes when `stale` says so, checking it again behind the gate and under the lock.
    async fn refresh_while(
        &self,
        id: &str,
        session: Arc<Session>,
        oidc: &Provider,
        renewal: Renewal<'_>,
        stale: &dyn Fn(&Session) -> bool,
    ) -> Result<Arc<Session>, RefreshError> {
        if !stale(&session) {
            return Ok(session);
        }
        // Boxed: the gate, the lock and the IdP call make a large future, and every call carries
        // this one's state inline (actix boxes the whole handler future per request).
        Box::pin(self.refresh_stale(id, oidc, renewal, stale)).await
    }

    /// [`Self::refresh_while`] once the session looked stale: the gate, the store lock, the IdP.
    #[tracing::instrument(level = "debug", name = "token.refresh", skip_all)]
    async fn refresh_stale(
        &self,
        id: &str,
        oidc: &Provider,
        renewal: Renewal<'_>,
        stale: &dyn Fn(&Session) -> bool,
    ) -> Result<Arc<Session>, RefreshError> {
        let key = self.key(SESSION_KIND, id);
        let key = key.as_str();
        let done = move || async move {
            let current = self.load_by_id(id, key).await?.ok_or(RefreshError::Ended)?;
            Ok((!stale(&current)).then_some(current))
        };
        let work = move |held: Held| async move {
            let (result, lock) = self.refresh_locked(id, key, oidc, renewal, stale).await;
            match (lock, &result) {
                (Lock::Release, _) => self.flights.release(&held).await?,
                (Lock::Keep, Ok(unsaved)) => self.write_later(id, key, unsaved.clone(), held),
                (Lock::Keep, Err(_)) => {}
            }
            result
        };
        self.flights
            .run(key, format!("{key}:refresh-lock"), done, work)
            .await
    }

    /// Refreshes while holding the store lock; says whether to release it (not while the new
    /// tokens wait to be written).
    async fn refresh_locked(
        &self,
        id: &str,
        key: &str,
        oidc: &Provider,
        renewal: Renewal<'_>,
        stale: &dyn Fn(&Session) -> bool,
    ) -> (Result<Arc<Session>, RefreshError>, Lock) {
        // Re-read under the lock: the previous holder may have finished just before we got it.
        let current = match self.load_by_id(id, key).await {
            Ok(Some(s)) => s,
            Ok(None) => return (Err(RefreshError::Ended), Lock::Release),
            Err(e) => return (Err(e.into()), Lock::Release),
        };
        if !stale(&current) {
            return (Ok(current), Lock::Release);
        }
        let mut next = match renewal.renew(&current, oidc).await {
            Ok(Some(next)) => next,
            Ok(None) => return (Ok(current), Lock::Release),
            Err(e) => return (self.renewal_failed(id, renewal, e).await, Lock::Release),
        };
        next.generation = current.generation + 1;
        let carried = self
            .registry
            .entry_after_refresh(key, &current, &next)
            .await;
        next.registry_entry = carried.entry;
        let next = Arc::new(next);
        let token = renewal.label();
        METRICS.refreshes.with_label_values(&["success"]).inc();
        match self.save_over(id, key, &next, current.generation).await {
            Ok(true) => {
                tracing::info!(result = "success", token, "token refresh");
                self.after_refresh(key, &current, &next, carried.moved)
                    .await;
                (Ok(next), Lock::Release)
            }
            Ok(false) => {
                // Another replica wrote while this one stalled past its lock: theirs stands,
                // ours is dropped.
                tracing::warn!(
                    token,
                    "token refresh: a newer session was stored meanwhile; keeping it"
                );
                let stored = self.load_by_id(id, key).await;
                (
                    stored
                        .map_err(RefreshError::from)
                        .and_then(|s| s.ok_or(RefreshError::Ended)),
                    Lock::Release,
                )
            }
            Err(e) => {
                tracing::warn!(token, error = %Chain(&e), "token refresh: the store did not take the new tokens; serving them from this replica and writing them again");
                (Ok(next), Lock::Keep)
            }
        }
    }

    /// What else a stored refresh changes: an entry that moved into the session's value (from
    /// under a key of its own, see `registry`) leaves that key, and the SPA's streams hear of new
    /// claims. Neither may fail the refresh itself. (Stored later, by `write_later`, the session
    /// leaves its entry's old key to expire with it.)
    async fn after_refresh(&self, key: &str, before: &Session, after: &Arc<Session>, moved: bool) {
        if moved && let Err(e) = self.registry.forget_own_entry(key).await {
            tracing::warn!(error = %Chain(&e), "session registry: the entry's old key was not deleted");
        }
        if after.claims != before.claims
            && let Err(e) = self.claims_changed(key).await
        {
            tracing::warn!(error = %Chain(&e), "claims change not announced");
        }
    }

    /// What a refused or failed renewal means for the session.
    async fn renewal_failed(
        &self,
        id: &str,
        renewal: Renewal<'_>,
        e: OidcError,
    ) -> Result<Arc<Session>, RefreshError> {
        let token = renewal.label();
        match e {
            // The grant is gone, or the IdP now answers for someone else (or with an ID token
            // that does not validate): this session cannot go on.
            OidcError::InvalidGrant | OidcError::SubjectChanged | OidcError::InvalidIdToken(_) => {
                let result = match e {
                    OidcError::InvalidGrant => "invalid_grant",
                    _ => "invalid_id_token",
                };
                tracing::info!(result, token, error = %Chain(&e), "token refresh; ending the session");
                METRICS.refreshes.with_label_values(&[result]).inc();
                self.end(id, EndReason::RefreshRefused).await?;
                Err(RefreshError::Ended)
            }
            // The IdP will not mint this route's token (`invalid_target`, `invalid_scope`, a
            // refused exchange): the session stays; this route cannot be called.
            OidcError::Refused(_) if matches!(renewal, Renewal::Route(_)) => {
                tracing::warn!(result = "refused", token, error = %Chain(&e), "token refresh; keeping the session");
                METRICS.refreshes.with_label_values(&["refused"]).inc();
                Err(RefreshError::NotGranted(e))
            }
            e => {
                tracing::warn!(result = "failure", token, error = %Chain(&e), "token refresh; keeping the session");
                METRICS.refreshes.with_label_values(&["failure"]).inc();
                Err(RefreshError::IdpUnavailable(e))
            }
        }
    }
}

/// What to do with the refresh lock after a refresh.
#[derive(PartialEq, Eq)]
enum Lock {
    Release,
    /// The new tokens still wait to be written: keep others off until they are.
    Keep,
}

#[cfg(test)]
mod tests;

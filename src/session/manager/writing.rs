//! Writing sessions: a new one (with its indexes and registry entry), and a refresh's write,
//! fenced by the generation it read, and written again later when the store did not take it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Created, SessionManager};
use crate::crypto;
use crate::session::Device;
use crate::session::Session;
use crate::session::indexes::Index;
use crate::session::record::{SESSION_KIND, encode};
use crate::session::single_flight::Held;
use crate::store::StoreError;

/// How often refreshed tokens the store did not take are written again.
const UNSAVED_RETRY: Duration = Duration::from_millis(250);

impl SessionManager {
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
    pub(in crate::session) async fn save_over(
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
        let mut session = session;
        session.registry_entry = Some(self.registry.new_entry(&key, &session, Some(device)));
        let session = Arc::new(session);
        self.save_new(&id, &key, &session).await?;
        self.registry.register(&key).await?;
        crate::telemetry::metrics::METRICS.sessions_created.inc();
        let (indexes, ttl) = (self.registry.indexes(), self.timeouts.absolute);
        if let Some(sid) = &session.sid {
            indexes.add(Index::IdpSession(sid), &key, ttl).await?;
        }
        indexes.add(Index::User(&session.sub), &key, ttl).await?;
        let replaced = self
            .cap_sessions_of(&session.sub, &key, session.sid.as_deref())
            .await?;
        self.registry.prune_all_index().await?;
        Ok(Created { id, replaced })
    }

    /// Keeps `session` in this process and writes it (fenced) until the store takes it or
    /// refuses it, then releases the lock (see `refresh`, 5).
    pub(in crate::session) fn write_later(
        &self,
        id: &str,
        key: &str,
        session: Arc<Session>,
        held: Held,
    ) {
        self.unsaved.put(key, session.clone());
        let (store, cache, unsaved) =
            (self.store.clone(), self.cache.clone(), self.unsaved.clone());
        let (id, key) = (id.to_owned(), key.to_owned());
        let ttl = self.ttl_for(&session);
        let give_up = Instant::now() + self.timeouts.idle;
        tokio::spawn(async move {
            let over = session.generation - 1;
            let Ok(value) = encode(&id, &key, &session) else {
                unsaved.remove(&key);
                return;
            };
            loop {
                tokio::time::sleep(UNSAVED_RETRY).await;
                match store
                    .replace_if(&key, &over.to_be_bytes(), value.clone(), ttl)
                    .await
                {
                    Ok(written) => {
                        if written {
                            cache.put(key.clone(), session.clone());
                            tracing::info!("token refresh: the new tokens are stored now");
                        } else {
                            tracing::warn!(
                                "token refresh: a newer session was stored meanwhile; ours dropped"
                            );
                        }
                        unsaved.remove(&key);
                        let _ = held.release(&*store).await;
                        return;
                    }
                    Err(_) if Instant::now() > give_up => {
                        unsaved.remove(&key);
                        return;
                    }
                    Err(_) => {}
                }
            }
        });
    }
}

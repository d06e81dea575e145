//! Work done exactly once however many requests need it at once, on one replica or many (a
//! session's token refresh, an application token): [`Flights::run`].
//!
//! 1. In the process, one async gate per key ([`Gates`]): concurrent requests queue behind the
//!    first.
//! 2. Across replicas, a short expiring lock in the store (`SET NX PX`, released by
//!    compare-and-delete). A replica that does not get it waits, asking again whether the work is
//!    done (re-reading the store) until the lock holder has stored its result.
//! 3. Whoever holds both asks once more first: if another request or replica already did the
//!    work, there is nothing to do.
//!
//! [`Unsaved`] keeps what a refresh got while the store would not take it (see `refresh`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Session;
use crate::crypto;
use crate::store::{Store, StoreError};
use crate::support::lock;

/// How often a request waiting for another replica's work asks again whether it is done.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// In-process gates, one per key being worked on.
#[derive(Default)]
pub struct Gates(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl Gates {
    pub(super) fn gate(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = lock(&self.0);
        if map.len() > 10_000 {
            // Drop gates nobody holds or waits on.
            map.retain(|_, g| Arc::strong_count(g) > 1);
        }
        map.entry(key.to_owned()).or_default().clone()
    }
}

/// The work was not done: another replica holds the lock and did not finish within its TTL.
#[derive(Debug)]
pub struct Busy;

/// A store lock this request holds: released by [`Held::release`], or left to expire.
pub(super) struct Held {
    pub(super) key: String,
    pub(super) owner: String,
}

impl Held {
    pub(super) async fn release(&self, store: &dyn Store) -> Result<(), StoreError> {
        store.delete_if(&self.key, &self.owner).await
    }
}

/// The gates of one kind of work, and the store that holds its locks.
pub(super) struct Flights {
    store: Arc<dyn Store>,
    gates: Gates,
    /// Longest the work may hold the cross-replica lock.
    lock_ttl: Duration,
}

impl Flights {
    pub(super) fn new(store: Arc<dyn Store>, lock_ttl: Duration) -> Self {
        Self {
            store,
            gates: Gates::default(),
            lock_ttl,
        }
    }

    /// Releases a lock `run` gave to its work.
    pub(super) async fn release(&self, held: &Held) -> Result<(), StoreError> {
        held.release(&*self.store).await
    }

    /// Runs `work` for `key` once at a time in the process and across replicas (under the store
    /// lock `lock_key`), unless `done` finds its result already there: `done` is asked behind
    /// the gate, and again after each wait. `work` gets the lock and releases it (or hands it
    /// on). [`Busy`] when another replica held the lock past its TTL.
    pub(super) async fn run<T, E, D, DFut, W, WFut>(
        &self,
        key: &str,
        lock_key: String,
        mut done: D,
        work: W,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<Busy>,
        D: FnMut() -> DFut,
        DFut: Future<Output = Result<Option<T>, E>>,
        W: FnOnce(Held) -> WFut,
        WFut: Future<Output = Result<T, E>>,
    {
        let gate = self.gates.gate(key);
        let _in_process = gate.lock().await;
        let held = Held {
            key: lock_key,
            owner: crypto::random_token(),
        };
        let deadline = Instant::now() + self.lock_ttl;
        loop {
            // Whatever happened while we waited, the store has the truth.
            if let Some(result) = done().await? {
                return Ok(result);
            }
            if self
                .store
                .put_if_absent(&held.key, &held.owner, self.lock_ttl)
                .await?
            {
                return work(held).await;
            }
            if Instant::now() >= deadline {
                return Err(Busy.into());
            }
            tokio::time::sleep(WAIT_POLL).await;
        }
    }
}

/// Refreshed sessions the store did not take yet, by store key (see `refresh`, 5).
#[derive(Default)]
pub struct Unsaved {
    /// How many: the hot path only looks when there are any.
    count: AtomicUsize,
    map: Mutex<HashMap<String, Arc<Session>>>,
}

impl Unsaved {
    pub fn get(&self, key: &str) -> Option<Arc<Session>> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        lock(&self.map).get(key).cloned()
    }

    pub(super) fn put(&self, key: &str, session: Arc<Session>) {
        let mut map = lock(&self.map);
        map.insert(key.to_owned(), session);
        self.count.store(map.len(), Ordering::Release);
    }

    pub(super) fn remove(&self, key: &str) {
        let mut map = lock(&self.map);
        map.remove(key);
        self.count.store(map.len(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests;

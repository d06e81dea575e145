//! A short-lived, in-process cache of decrypted sessions, keyed by store key.
//!
//! With Redis, every API call would otherwise pay a round trip, a decryption and a parse. Entries
//! live `ttl` (default 1 s, at most half the idle timeout). A session ended on this replica is
//! dropped from the cache at once; one ended on another replica too, when its news arrives over
//! Redis pub/sub (before the ending request returns, see `store::redis::invalidation`). While that
//! news cannot be heard (the subscription is down), the cache is not trusted at all.
//!
//! An ended session is remembered for a while (a tombstone): a request that read it from the
//! store just before it ended must not put it back into the cache after the invalidation, and
//! refreshed tokens still waiting to be written (`refresh::Unsaved`) must not serve it either.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Session;
use crate::support::lock;

pub struct SessionCache {
    ttl: Duration,
    max_entries: usize,
    /// Off while the news of sessions ended on other replicas cannot be heard.
    trusted: AtomicBool,
    map: Mutex<HashMap<String, (Instant, Arc<Session>)>>,
    /// Sessions ended lately, and when.
    ended: Mutex<HashMap<String, Instant>>,
}

/// How long an ended session's tombstone is kept: far longer than any read in flight when it
/// ended (a store call times out well before).
const TOMBSTONE: Duration = Duration::from_secs(60);

impl SessionCache {
    /// `ttl` zero disables the cache.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            trusted: AtomicBool::new(true),
            map: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Session>> {
        if self.ttl.is_zero() || !self.trusted.load(Ordering::Acquire) {
            return None;
        }
        let map = lock(&self.map);
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, s)| s.clone())
    }

    pub fn put(&self, key: String, session: Arc<Session>) {
        if self.ttl.is_zero() {
            return;
        }
        // Checked and inserted under the map's lock, which `ended` takes too: either the entry
        // goes in first and `ended` removes it, or the tombstone is there first and it stays out.
        let mut map = lock(&self.map);
        if self.was_ended(&key) {
            return;
        }
        if map.len() >= self.max_entries {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.max_entries {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), session));
    }

    /// Whether entries may be served. Either way the entries held now are forgotten: news may
    /// have been missed while the subscription was down.
    pub fn trust(&self, trusted: bool) {
        if !trusted {
            self.trusted.store(false, Ordering::Release);
        }
        lock(&self.map).clear();
        if trusted {
            self.trusted.store(true, Ordering::Release);
        }
    }

    /// Forgets an entry (it changed: the next load reads the store).
    pub fn remove(&self, key: &str) {
        lock(&self.map).remove(key);
    }

    /// Forgets an entry for good: its session ended, and no later `put` brings it back.
    pub fn ended(&self, key: &str) {
        let mut map = lock(&self.map);
        let mut ended = lock(&self.ended);
        let now = Instant::now();
        if ended.len() >= self.max_entries {
            ended.retain(|_, at| now.duration_since(*at) < TOMBSTONE);
        }
        ended.insert(key.to_owned(), now);
        map.remove(key);
    }

    /// True when the session `key` ended lately on this replica or was heard to.
    pub fn was_ended(&self, key: &str) -> bool {
        lock(&self.ended)
            .get(key)
            .is_some_and(|at| at.elapsed() < TOMBSTONE)
    }
}

#[cfg(test)]
mod tests;

//! A short-lived, in-process cache of decrypted sessions, keyed by store key.
//!
//! With Redis, every API call would otherwise pay a round trip, a decryption and a parse. Entries
//! live `ttl` (default 1 s, at most half the idle timeout). A session ended on this replica is
//! dropped from the cache at once; one ended on another replica too, when its news arrives over
//! Redis pub/sub (before the ending request returns, see `redis::invalidation`). While that news
//! cannot be heard (the subscription is down), the cache is not trusted at all.

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
}

impl SessionCache {
    /// `ttl` zero disables the cache.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            trusted: AtomicBool::new(true),
            map: Mutex::new(HashMap::new()),
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
        let mut map = lock(&self.map);
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

    pub fn remove(&self, key: &str) {
        lock(&self.map).remove(key);
    }
}

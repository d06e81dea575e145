//! A short-lived, in-process cache of decrypted sessions, keyed by store key.
//!
//! With Redis, every API call would otherwise pay a round trip, a decryption and a parse. Entries
//! live `ttl` (default 1 s, at most half the idle timeout): a session ended on this replica is
//! dropped from the cache at once; one ended on another replica is honoured here within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Session;
use crate::support::lock;

pub struct SessionCache {
    ttl: Duration,
    max_entries: usize,
    map: Mutex<HashMap<String, (Instant, Arc<Session>)>>,
}

impl SessionCache {
    /// `ttl` zero disables the cache.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Session>> {
        if self.ttl.is_zero() {
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

    pub fn remove(&self, key: &str) {
        lock(&self.map).remove(key);
    }
}

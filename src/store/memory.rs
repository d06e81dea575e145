//! The embedded store: one process, lost on restart.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Store, StoreError};
use crate::support::lock;

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
    sets: Mutex<HashMap<String, (HashSet<String>, Instant)>>,
    writes: AtomicU64,
}

/// Expired entries are swept on every this many writes, so memory stays bounded without a timer.
const SWEEP_EVERY: u64 = 1024;

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: &str, slide: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        let now = Instant::now();
        let mut map = lock(&self.entries);
        match map.get_mut(key) {
            Some((value, expires)) if *expires > now => {
                if let Some(d) = slide {
                    *expires = now + d;
                }
                Ok(Some(value.clone()))
            }
            Some(_) => {
                map.remove(key);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let now = Instant::now();
        let map = lock(&self.entries);
        Ok(keys
            .iter()
            .map(|k| {
                map.get(k)
                    .filter(|(_, exp)| *exp > now)
                    .map(|(v, _)| v.clone())
            })
            .collect())
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = lock(&self.entries);
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            map.retain(|_, (_, exp)| *exp > now);
        }
        map.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    async fn replace_if(
        &self,
        key: &str,
        expected: &[u8],
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut map = lock(&self.entries);
        match map.get_mut(key) {
            Some((held, exp)) if *exp > now && held.starts_with(expected) => {
                *held = value;
                *exp = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let now = Instant::now();
        Ok(lock(&self.entries)
            .remove(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.entries).remove(key);
        Ok(())
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut map = lock(&self.entries);
        if let Some((held, exp)) = map.get(key)
            && *exp > now
        {
            return Ok(held.as_slice() == value.as_bytes());
        }
        map.insert(key.to_owned(), (value.as_bytes().to_vec(), now + ttl));
        Ok(true)
    }

    async fn delete_if(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut map = lock(&self.entries);
        if map
            .get(key)
            .is_some_and(|(v, _)| v.as_slice() == value.as_bytes())
        {
            map.remove(key);
        }
        Ok(())
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut sets = lock(&self.sets);
        if sets.len() > 1024
            && self
                .writes
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(SWEEP_EVERY)
        {
            sets.retain(|_, (_, exp)| *exp > now);
        }
        let entry = sets
            .entry(key.to_owned())
            .or_insert_with(|| (HashSet::new(), now + ttl));
        if entry.1 <= now {
            entry.0.clear();
        }
        entry.0.insert(member.to_owned());
        entry.1 = entry.1.max(now + ttl);
        Ok(())
    }

    async fn set_take(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let now = Instant::now();
        let mut sets = lock(&self.sets);
        Ok(sets
            .remove(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(m, _)| m.into_iter().collect())
            .unwrap_or_default())
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let now = Instant::now();
        Ok(lock(&self.sets)
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(m, _)| m.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn set_sample(&self, key: &str, count: usize) -> Result<Vec<String>, StoreError> {
        // A HashSet's order is already arbitrary (randomly seeded per set).
        let now = Instant::now();
        Ok(lock(&self.sets)
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(m, _)| m.iter().take(count).cloned().collect())
            .unwrap_or_default())
    }

    async fn set_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        if let Some((set, _)) = lock(&self.sets).get_mut(key) {
            for m in members {
                set.remove(m);
            }
        }
        Ok(())
    }

    // A small index is a set here: only Redis keeps the two differently.
    async fn index_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError> {
        self.set_add(key, member, ttl).await
    }

    async fn index_take(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.set_take(key).await
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.set_members(key).await
    }

    async fn index_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        self.set_remove(key, members).await
    }

    async fn ttls(&self, keys: &[String]) -> Result<Vec<Option<Duration>>, StoreError> {
        let now = Instant::now();
        let map = lock(&self.entries);
        Ok(keys
            .iter()
            .map(|k| {
                map.get(k)
                    .and_then(|(_, exp)| exp.checked_duration_since(now))
                    .filter(|d| !d.is_zero())
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

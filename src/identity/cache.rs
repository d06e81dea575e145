//! [`TokenCache`]: one route's signed identities, by session, reused while more than half their
//! lifetime is left, so that a busy session costs one signature per half lifetime instead of one
//! per call (an ES256 signature costs tens of microseconds; a hit, a map lookup). An entry is
//! for one generation of its session: a refresh that may have changed the claims makes the next
//! call sign again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use http::HeaderValue;

use crate::support::lock;

/// Entries one route's cache holds before it sweeps (then, if all are still fresh, it starts
/// over: a miss only costs a signature).
const MAX_ENTRIES: usize = 100_000;

struct Cached {
    generation: u64,
    value: HeaderValue,
    fresh_until: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Cached>>,
}

impl TokenCache {
    /// The identity signed for this session's `generation`, while it is fresh.
    pub fn get(&self, session_key: &str, generation: u64) -> Option<HeaderValue> {
        let now = Instant::now();
        lock(&self.entries)
            .get(session_key)
            .filter(|c| c.generation == generation && c.fresh_until > now)
            .map(|c| c.value.clone())
    }

    pub fn put(
        &self,
        session_key: &str,
        generation: u64,
        value: HeaderValue,
        fresh_until: Instant,
    ) {
        let now = Instant::now();
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, c| c.fresh_until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            session_key.to_owned(),
            Cached {
                generation,
                value,
                fresh_until,
            },
        );
    }
}

//! Small helpers every module may use: the wall clock in Unix seconds, locks that survive a
//! panicking holder, an error's whole cause chain for a log line, and (`path`) the rules about
//! URL paths that the config and the request handlers share.

pub mod host;
pub mod path;

use std::error::Error;
use std::fmt;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(secs)
        .unwrap_or(0)
}

/// A duration in whole seconds, saturating (config durations can be absurdly large).
pub fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Unix seconds `d` from now.
pub fn unix_after(d: Duration) -> i64 {
    now_unix().saturating_add(secs(d))
}

// A poisoned lock only means that another request panicked while holding it. Every structure
// guarded this way (maps, caches, key sets) is consistent between statements, so keep serving
// rather than turn one panic into a panic per request.

/// True when a token expiring at `expires_at` (unix seconds), issued for `lifetime` seconds, is
/// within `skew` of expiry, but never more than half its lifetime ahead: without that cap, a
/// token that lives no longer than the skew (10 s tokens are common) would need renewing the
/// moment it arrives, and every call would renew it. No expiry known: never due.
pub fn due(expires_at: Option<i64>, lifetime: Option<i64>, skew: Duration) -> bool {
    due_at(expires_at, lifetime, skew, now_unix())
}

/// [`due`] as seen at `now` (unix seconds): the clock is a parameter so that a test's row cannot
/// land on the other side of a second tick between building it and checking it.
pub fn due_at(expires_at: Option<i64>, lifetime: Option<i64>, skew: Duration, now: i64) -> bool {
    let skew = secs(skew);
    let ahead = lifetime.map_or(skew, |l| skew.min(l / 2));
    expires_at.is_some_and(|t| t.saturating_sub(ahead) <= now)
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// Displays an error and every source under it on one line (`a: b: c`), for logs: error types
/// keep their cause as `#[source]`, and their own message does not repeat it.
pub struct Chain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(inner) = source {
            write!(f, ": {inner}")?;
            source = inner.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

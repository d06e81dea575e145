//! [`Timeouts`]: when a session ends if nothing ends it first. The idle timeout slides with
//! every store read (`GETEX`), capped by the absolute deadline, which lives inside the sealed
//! session (its `created_at`) and is checked on every load, cached or not.

use std::time::Duration;

use super::Session;
use crate::support::{now_unix, secs};

#[derive(Clone, Copy)]
pub(super) struct Timeouts {
    pub(super) idle: Duration,
    pub(super) absolute: Duration,
}

impl Timeouts {
    /// Unix seconds of the absolute end of a session made at `created_at`.
    pub(super) fn absolute_end_of(&self, created_at: i64) -> i64 {
        created_at.saturating_add(secs(self.absolute))
    }

    /// How long a session made at `created_at` has until its absolute end (at least a second:
    /// a store TTL).
    pub(super) fn until_absolute_end(&self, created_at: i64) -> Duration {
        let left = self.absolute_end_of(created_at) - now_unix();
        Duration::from_secs(u64::try_from(left.max(1)).unwrap_or(1))
    }

    /// Store TTL: the idle timeout, but never past the absolute deadline.
    pub(super) fn ttl_for(&self, session: &Session) -> Duration {
        self.idle.min(self.until_absolute_end(session.created_at))
    }

    /// True while `s` is before its absolute end.
    pub(super) fn within_deadline(&self, s: &Session) -> bool {
        self.absolute_end_of(s.created_at) > now_unix()
    }

    /// Unix seconds at which `session` ends if it is not used again.
    pub(super) fn expires_at(&self, session: &Session) -> i64 {
        (now_unix().saturating_add(secs(self.idle))).min(self.absolute_end_of(session.created_at))
    }
}

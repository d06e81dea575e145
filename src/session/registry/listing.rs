//! A user's sessions as listed (their session list, the admin API): [`Listed`], newest first,
//! unknown devices last, read in one batch for all of them.

use std::time::Duration;

use super::entry::Entry;
use super::{Found, Registry};
use crate::session::device::Device;
use crate::session::indexes::Index;
use crate::session::record::with_stored_entry;
use crate::store::StoreError;
use crate::support::{now_unix, secs};

/// A live session, as listed.
pub struct Listed {
    pub handle: String,
    /// `None` when its registry entry cannot be opened.
    pub created_at: Option<i64>,
    /// When it was last used (to within `cache_ttl`; its creation time when the idle timer is
    /// capped by the absolute timeout).
    pub last_seen: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: Option<i64>,
    /// `None`: an unknown device (an entry that does not open, or a session without one).
    pub device: Option<Device>,
    /// The session of the request that asked.
    pub current: bool,
    pub(in crate::session) key: String,
    /// Newest last: creation time, then registration time; `None` (an unknown device) first.
    age: Option<(i64, i64)>,
}

/// What the store says of a listed session.
#[derive(Clone, Copy)]
struct Seen {
    /// Unix seconds of the listing.
    now: i64,
    /// How long the session has left before its idle end.
    ttl: Duration,
    /// The session of the request that asked.
    current: bool,
}

impl Registry {
    /// The live sessions of user `sub`, newest first (unknown devices last); `current` (a
    /// session's store key) marks the caller's own. One batch of reads for all of them; entries
    /// an older key opened are sealed again under the current one.
    pub(in crate::session) async fn sessions_of(
        &self,
        sub: &str,
        current: Option<&str>,
    ) -> Result<Vec<Listed>, StoreError> {
        let keys = self.indexes.members(Index::User(sub)).await?;
        let (ttls, values) =
            futures_util::try_join!(self.store.ttls(&keys), self.store.get_many(&keys))?;
        let found = self.entries(&keys, &values).await?;
        let now = now_unix();
        let (mut listed, mut gone, mut stale) = (Vec::new(), Vec::new(), Vec::new());
        let sessions = keys.into_iter().zip(ttls).zip(values).zip(found);
        for (((key, ttl), value), found) in sessions {
            // Only a session that is gone leaves the index.
            let Some(ttl) = ttl else {
                gone.push(key);
                continue;
            };
            let seen = Seen {
                now,
                ttl,
                current: current == Some(key.as_str()),
            };
            match found {
                // Sealed by us for another user: a member of the wrong index, not this user's.
                Some(found) if found.entry.sub != sub => gone.push(key),
                Some(found) => {
                    listed.push(self.known(key.clone(), &found.entry, seen));
                    if found.stale {
                        stale.push((key, value, found, ttl));
                    }
                }
                None => listed.push(self.unknown(key, seen)),
            }
        }
        self.indexes.remove(Index::User(sub), &gone).await?;
        for (key, value, found, ttl) in &stale {
            self.seal_again(key, value.as_deref(), found, *ttl).await?;
        }
        listed.sort_by_key(|l| std::cmp::Reverse(l.age));
        Ok(listed)
    }

    /// Seals an entry an older key opened again, under the current key. In the session's value
    /// only while that value is still exactly what the listing read (a compare-and-set on all of
    /// it: the session part is left as it is, and a refresh written since has sealed the entry
    /// again itself), keeping the idle time it had left (a listing is no use of the session).
    async fn seal_again(
        &self,
        key: &str,
        value: Option<&[u8]>,
        found: &Found,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let sealed = self.seal_entry(key, &found.entry);
        if found.own_key {
            let entry_key = self.entry_key(key);
            let ttl = self.timeouts.until_absolute_end(found.entry.created_at);
            return self.store.put(&entry_key, sealed, ttl).await;
        }
        let Some((value, resealed)) = value.and_then(|v| Some((v, with_stored_entry(v, &sealed)?)))
        else {
            return Ok(());
        };
        self.store
            .replace_if(key, value, resealed, ttl)
            .await
            .map(|_| ())
    }

    /// A session whose entry opened, as listed.
    fn known(&self, key: String, entry: &Entry, seen: Seen) -> Listed {
        Listed {
            handle: entry.handle.clone(),
            created_at: Some(entry.created_at),
            last_seen: self.last_seen(seen).max(entry.created_at),
            idle_expires_at: seen.now + secs(seen.ttl),
            absolute_expires_at: Some(self.timeouts.absolute_end_of(entry.created_at)),
            device: entry.device.clone(),
            current: seen.current,
            key,
            age: Some((entry.created_at, entry.registered_ms)),
        }
    }

    /// A session whose entry does not open (or is missing), as listed: an unknown device.
    fn unknown(&self, key: String, seen: Seen) -> Listed {
        Listed {
            handle: self.unknown_handle(&key),
            created_at: None,
            last_seen: self.last_seen(seen),
            idle_expires_at: seen.now + secs(seen.ttl),
            absolute_expires_at: None,
            device: None,
            current: seen.current,
            key,
            age: None,
        }
    }

    /// When a session was last used: its idle timer restarts at each use.
    fn last_seen(&self, seen: Seen) -> i64 {
        let idle_left = secs(self.timeouts.idle) - secs(seen.ttl);
        seen.now - idle_left.max(0)
    }
}

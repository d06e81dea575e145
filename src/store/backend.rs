//! [`Store`]: what every store does (opaque bytes under opaque keys, with expiry), its error,
//! and the [`News`] replicas hear from each other. Callers hash keys (see `keys`) and seal
//! values (see `crate::crypto`) before they get here.

use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store did not answer (down, timed out, refused the command).
    #[error("session store unavailable")]
    Unavailable(#[source] redis::RedisError),
    /// A value could not be serialised before sealing (a bug, not an outage; answered the same).
    #[error("session entry could not be encoded")]
    Encode(#[source] serde_json::Error),
}

#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Reads an entry; when `slide` is set, its expiry is pushed to now + `slide` in the same step.
    async fn get(&self, key: &str, slide: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError>;
    /// Reads many entries at once (never sliding): one round trip however many, so that a list
    /// of N sessions costs what a list of one does.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Writes an entry that expires after `ttl`.
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError>;
    /// Writes `value` only if the entry exists and still begins with `expected` (a fencing
    /// token): a compare-and-set. True when written.
    async fn replace_if(
        &self,
        key: &str,
        expected: &[u8],
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Reads and deletes an entry atomically: of two concurrent takes, only one gets it.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Writes `value` only when `key` holds nothing: a lock, or a replay guard. True when written,
    /// or when `key` already holds this very `value` (a retry after a lost answer), so `value`
    /// must be the caller's own (a random token).
    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Deletes `key` only while it still holds `value` (releasing a lock we own, never another's).
    async fn delete_if(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Adds `member` to the set at `key` (an index such as "every session of the deployment"),
    /// which expires after `ttl` unless extended by a later add (never shortened).
    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError>;
    /// Reads and deletes the set at `key` atomically.
    async fn set_take(&self, key: &str) -> Result<Vec<String>, StoreError>;
    /// The members of the set at `key` (empty when there is none).
    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError>;
    /// Up to `count` members of the set at `key`, picked at random (pruning a large index a
    /// little at a time).
    async fn set_sample(&self, key: &str, count: usize) -> Result<Vec<String>, StoreError>;
    /// Removes `members` from the set at `key`.
    async fn set_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError>;
    /// Adds `member` (at most 64 bytes) to the small index at `key`, which expires after `ttl`
    /// unless extended by a later add (never shortened). A set that stays small: Redis keeps it
    /// as a hash whose fields are the members, stored compactly (a listpack) while it has at
    /// most 512 of them, where a set, however small, is a hash table (Redis 7.0).
    async fn index_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError>;
    /// Reads and deletes the small index at `key` atomically.
    async fn index_take(&self, key: &str) -> Result<Vec<String>, StoreError>;
    /// The members of the small index at `key` (empty when there is none).
    async fn index_members(&self, key: &str) -> Result<Vec<String>, StoreError>;
    /// Removes `members` from the small index at `key`.
    async fn index_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError>;
    /// How long each entry of `keys` has left, `None` for an entry that is gone. Never slides.
    async fn ttls(&self, keys: &[String]) -> Result<Vec<Option<Duration>>, StoreError>;
    /// Readiness probe.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Tells every replica that these entries ended, and why (`reason`: a code the caller
    /// defines, one word, which the other replicas hear as it was sent); returns once their
    /// caches have dropped them (bounded). A store without other replicas (memory) has no one to
    /// tell.
    async fn announce_ended(&self, keys: &[String], reason: &str) -> Result<(), StoreError> {
        let _ = (keys, reason);
        Ok(())
    }
    /// Tells every replica that these entries changed in a way their event streams report
    /// (new claims). Not waited for.
    async fn announce_changed(&self, keys: &[String]) -> Result<(), StoreError> {
        let _ = keys;
        Ok(())
    }
    /// Starts listening for what other replicas announce; `on` hears each [`News`]. False when
    /// there is nothing to listen to (then a cache never misses news).
    fn listen(&self, on: Arc<dyn Fn(News) + Send + Sync>) -> bool {
        let _ = on;
        false
    }
    /// "memory" or "redis", for logs and /readyz.
    fn kind(&self) -> &'static str;
}

/// What a replica hears on the store's channel.
#[derive(Debug)]
pub enum News {
    /// These entries ended (`ours`: announced by this replica itself), and why, when the
    /// message says (the code given to [`Store::announce_ended`]).
    Ended {
        keys: Vec<String>,
        reason: Option<String>,
        ours: bool,
    },
    /// These entries changed (new claims).
    Changed { keys: Vec<String>, ours: bool },
    /// The news may have been missed (the channel was lost): trust no cached entry.
    Lost,
    /// Hearing the news again.
    Live,
}

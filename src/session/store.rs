//! The storage behind sessions and pending logins: opaque bytes under opaque keys, with expiry.
//! Callers hash keys and encrypt values before they get here (see `crypto`).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait SessionStore: Send + Sync {
    /// Reads an entry; when `slide` is set, its expiry is pushed to now + `slide` in the same step.
    async fn get(&self, key: &str, slide: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes an entry that expires after `ttl`.
    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError>;
    /// Reads and deletes an entry atomically: of two concurrent takes, only one gets it.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Readiness probe.
    async fn ping(&self) -> Result<(), StoreError>;
    /// "memory" or "redis", for logs and /readyz.
    fn kind(&self) -> &'static str;
}

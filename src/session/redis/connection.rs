//! One Redis connection, shared by every request (it is multiplexed), replaced when it dies.
//!
//! A pooled connection can die while idle: a failover, a proxy restart, a network blip, or the
//! server's own `timeout` (managed Redis services close idle clients). The next command on it
//! fails at once. That must not cost a user a 503: the connection is replaced and the command sent
//! once more, for every command that is safe to send twice (reads, and writes under a known key,
//! which are idempotent). A command that is not (`GETDEL`, the index take) is sent again only when
//! the connection was already gone, so that it cannot have run the first time. Only then does the
//! caller see an error (and the user a 503).

use std::future::Future;
use std::sync::RwLock;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, RedisResult, ServerErrorKind};

use crate::support::{read, write};

/// Longest wait to connect, and for any answer.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Whether a command may be sent a second time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// It is idempotent.
    Always,
    /// It is not: only when the connection was gone before it could run.
    IfNotSent,
}

/// The connection in use, and where a new one comes from.
pub(super) struct Connections {
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// The live connection and its number (so that a stale failure never replaces a newer one).
    current: RwLock<Option<(u64, MultiplexedConnection)>>,
    /// Held while connecting, so that concurrent requests make one connection, not many.
    connecting: tokio::sync::Mutex<u64>,
}

impl Connections {
    pub(super) fn new(client: redis::Client) -> Self {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT));
        Self {
            client,
            config,
            current: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(0),
        }
    }

    /// Runs `op` on the live connection; on a connection failure, on a new one once more (see
    /// the module comment for when).
    pub(super) async fn run<T, F, Fut>(&self, retry: Retry, op: F) -> RedisResult<T>
    where
        F: Fn(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let (number, conn) = self.get().await?;
        match op(conn).await {
            Err(e) if needs_new_connection(&e) => {
                self.discard(number);
                if retry == Retry::IfNotSent && !e.is_connection_dropped() {
                    return Err(e);
                }
                let (_, conn) = self.get().await?;
                op(conn).await
            }
            other => other,
        }
    }

    async fn get(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(live) = read(&self.current).clone() {
            return Ok(live);
        }
        let mut made = self.connecting.lock().await;
        // Another request may have connected while this one waited.
        if let Some(live) = read(&self.current).clone() {
            return Ok(live);
        }
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await?;
        *made += 1;
        *write(&self.current) = Some((*made, conn.clone()));
        Ok((*made, conn))
    }

    /// Forgets connection `number` if it is still the live one.
    fn discard(&self, number: u64) {
        let mut current = write(&self.current);
        if current.as_ref().is_some_and(|(n, _)| *n == number) {
            *current = None;
        }
    }
}

/// Failures after which this connection is no good: it dropped, timed out, or now leads to a
/// replica or a primary that is going away (during a failover).
fn needs_new_connection(e: &RedisError) -> bool {
    e.is_unrecoverable_error()
        || e.is_timeout()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}

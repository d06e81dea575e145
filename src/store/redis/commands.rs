//! The [`Store`] commands on Redis. Sliding expiry is `GETEX … PX` in the same round trip
//! as the read; single use is `GETDEL`; a lock is `SET NX PX`, released by compare-and-delete;
//! sets and small indexes (hashes) are in `indexes`.
//!
//! With `durability = "replicated"`, every write that a failover must not lose (sessions, their
//! ends, the indexes, pending logins) is followed by `WAIT 1 <replication_timeout>`: it returns
//! once a replica has the write, and a write no replica confirms in time is an error (a 503 for
//! the user, not a session that the next failover forgets). Redis answers nothing else on a
//! connection while a `WAIT` on it waits, so these writes have a connection of their own: reads
//! (every API call) never queue behind a replica's round trip; durable writes queue behind each
//! other's, one replica round trip each.

mod indexes;

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use self::indexes::Collection;
use super::connection::{Conn, Connections, Retry};
use super::invalidation::{self, Announcer};
use crate::config::{Durability, RedisConfig};
use crate::store::{News, Store, StoreError};

pub struct RedisStore {
    conns: Arc<Connections>,
    announcer: Arc<Announcer>,
    /// With `durability = "replicated"`.
    durable: Option<Durable>,
}

/// The connection for writes that wait for a replica, and how long (ms) they wait.
struct Durable {
    conns: Connections,
    wait: u64,
}

impl RedisStore {
    /// A store on this deployment; connects lazily, so this succeeds while Redis is down.
    pub fn new(redis: &RedisConfig) -> Result<Self, StoreError> {
        Ok(Self {
            conns: Arc::new(Connections::new(redis).map_err(unavailable)?),
            announcer: Arc::new(Announcer::new()),
            durable: match redis.durability {
                Durability::Primary => None,
                Durability::Replicated => Some(Durable {
                    conns: Connections::new(redis).map_err(unavailable)?,
                    wait: millis(redis.replication_timeout),
                }),
            },
        })
    }

    /// A standalone store at `url`.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let url = url::Url::parse(url).map_err(|_| {
            unavailable(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "not a URL",
            )))
        })?;
        Self::new(&RedisConfig {
            url: Some(url),
            ..RedisConfig::default()
        })
    }

    /// Runs `op`, a write a failover must not lose: with `durability = "replicated"`, on the
    /// durable connection and only done once a replica has it.
    async fn write<T, F, Fut>(&self, retry: Retry, op: F) -> redis::RedisResult<T>
    where
        F: Fn(Conn) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let Some(durable) = &self.durable else {
            return self.conns.run(retry, op).await;
        };
        durable
            .conns
            .run(retry, |c| {
                let written = op(c.clone());
                async move {
                    let value = written.await?;
                    replicated(c, durable.wait).await?;
                    Ok(value)
                }
            })
            .await
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    crate::telemetry::metrics::METRICS.store_errors.inc();
    StoreError::Unavailable(e)
}

/// Waits (at most `ms`) until a replica has every write sent so far on `c`.
async fn replicated(mut c: Conn, ms: u64) -> redis::RedisResult<()> {
    let acks: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(ms)
        .query_async(&mut c)
        .await?;
    if acks >= 1 {
        Ok(())
    } else {
        Err(redis::RedisError::from((
            redis::ErrorKind::Client,
            "no replica confirmed the write within replication_timeout",
        )))
    }
}

// The scripts, hashed once (their SHA1 is what `EVALSHA` sends).

/// `replace_if`. Idempotent: sent twice, the second finds our own value, which no longer begins
/// with `expected` (the generation moved on), and answers 0; the caller then re-reads.
static REPLACE_IF: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local held = redis.call('GET', KEYS[1]) \
         if not held or string.sub(held, 1, string.len(ARGV[1])) ~= ARGV[1] then return 0 end \
         redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1",
    )
});

/// `put_if_absent`. Sent twice after a lost answer, the second `SET NX` finds our own value:
/// still ours.
static PUT_IF_ABSENT: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "local set = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) \
         if set then return 1 end \
         if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end \
         return 0",
    )
});

/// `delete_if`: compare-and-delete.
static DELETE_IF: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
    )
});

/// Commands sent at once by `ttls` and `get_many`.
const TTL_CHUNK: usize = 512;

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn get(&self, key: &str, slide: Option<Duration>) -> Result<Option<Vec<u8>>, StoreError> {
        let cmd = match slide {
            Some(d) => {
                let mut c = redis::cmd("GETEX");
                c.arg(key).arg("PX").arg(millis(d));
                c
            }
            None => {
                let mut c = redis::cmd("GET");
                c.arg(key);
                c
            }
        };
        self.conns
            .run(Retry::Always, |mut c| {
                let cmd = &cmd;
                async move { cmd.query_async(&mut c).await }
            })
            .await
            .map_err(unavailable)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        // As `ttls`: one GET per key (no MGET: in a Cluster the keys live in different slots),
        // sent together, so a chunk costs about one round trip.
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(TTL_CHUNK) {
            let gets = chunk.iter().map(|key| {
                self.conns.run(Retry::Always, move |mut c| async move {
                    redis::cmd("GET")
                        .arg(key)
                        .query_async::<Option<Vec<u8>>>(&mut c)
                        .await
                })
            });
            for value in futures_util::future::join_all(gets).await {
                out.push(value.map_err(unavailable)?);
            }
        }
        Ok(out)
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(millis(ttl));
        self.write(Retry::Always, |mut c| {
            let cmd = &cmd;
            async move { cmd.query_async::<()>(&mut c).await }
        })
        .await
        .map_err(unavailable)
    }

    async fn replace_if(
        &self,
        key: &str,
        expected: &[u8],
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl = millis(ttl);
        self.write(Retry::Always, |mut c| {
            let value = &value;
            async move {
                REPLACE_IF
                    .key(key)
                    .arg(expected)
                    .arg(value.as_slice())
                    .arg(ttl)
                    .invoke_async::<i64>(&mut c)
                    .await
            }
        })
        .await
        .map(|written| written == 1)
        .map_err(unavailable)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(key);
        self.write(Retry::IfNotSent, |mut c| {
            let cmd = &cmd;
            async move { cmd.query_async(&mut c).await }
        })
        .await
        .map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(key);
        self.write(Retry::Always, |mut c| {
            let cmd = &cmd;
            async move { cmd.query_async::<()>(&mut c).await }
        })
        .await
        .map_err(unavailable)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl = millis(ttl);
        self.conns
            .run(Retry::Always, |mut c| async move {
                PUT_IF_ABSENT
                    .key(key)
                    .arg(value)
                    .arg(ttl)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(|set| set == 1)
            .map_err(unavailable)
    }

    async fn delete_if(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conns
            .run(Retry::Always, |mut c| async move {
                DELETE_IF
                    .key(key)
                    .arg(value)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError> {
        self.collection_add(Collection::Set, key, member, ttl).await
    }

    async fn set_take(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.collection_take(Collection::Set, key).await
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.collection_members(Collection::Set, key).await
    }

    async fn set_sample(&self, key: &str, count: usize) -> Result<Vec<String>, StoreError> {
        self.set_sample_of(key, count).await
    }

    async fn set_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        self.collection_remove(Collection::Set, key, members).await
    }

    async fn index_add(&self, key: &str, member: &str, ttl: Duration) -> Result<(), StoreError> {
        self.collection_add(Collection::Hash, key, member, ttl)
            .await
    }

    async fn index_take(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.collection_take(Collection::Hash, key).await
    }

    async fn index_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        self.collection_members(Collection::Hash, key).await
    }

    async fn index_remove(&self, key: &str, members: &[String]) -> Result<(), StoreError> {
        self.collection_remove(Collection::Hash, key, members).await
    }

    async fn ttls(&self, keys: &[String]) -> Result<Vec<Option<Duration>>, StoreError> {
        // One PTTL per key (keys of a Cluster live in different slots), sent together: the
        // multiplexed connection pipelines them, a chunk costs about one round trip.
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(TTL_CHUNK) {
            let ttls = chunk.iter().map(|key| {
                self.conns.run(Retry::Always, move |mut c| async move {
                    redis::cmd("PTTL").arg(key).query_async::<i64>(&mut c).await
                })
            });
            for ttl in futures_util::future::join_all(ttls).await {
                let ms = ttl.map_err(unavailable)?;
                out.push(
                    u64::try_from(ms)
                        .ok()
                        .filter(|ms| *ms > 0)
                        .map(Duration::from_millis),
                );
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.conns
            .run(Retry::Always, |mut c| async move {
                redis::cmd("PING").query_async::<()>(&mut c).await
            })
            .await
            .map_err(unavailable)
    }

    async fn announce_ended(&self, keys: &[String], reason: &str) -> Result<(), StoreError> {
        self.announcer
            .announce(&self.conns, keys, reason)
            .await
            .map_err(unavailable)
    }

    async fn announce_changed(&self, keys: &[String]) -> Result<(), StoreError> {
        self.announcer
            .announce_changed(&self.conns, keys)
            .await
            .map_err(unavailable)
    }

    fn listen(&self, on: Arc<dyn Fn(News) + Send + Sync>) -> bool {
        invalidation::listen(self.conns.clone(), self.announcer.clone(), on);
        true
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

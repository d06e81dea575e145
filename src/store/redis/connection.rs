//! What the store talks to (one endpoint, a primary found through Sentinel, or a Cluster) and
//! the one connection it keeps there, shared by every request (it is multiplexed) and replaced
//! when it dies.
//!
//! A pooled connection can die while idle: a failover, a proxy restart, a network blip, or the
//! server's own `timeout` (managed Redis services close idle clients). The next command on it
//! fails at once. That must not cost a user a 503: the connection is replaced and the command sent
//! once more, for every command that is safe to send twice (reads, and writes under a known key,
//! which are idempotent). A command that is not (`GETDEL`, the index take) is sent again only when
//! the connection was already gone, so that it cannot have run the first time. Only then does the
//! caller see an error (and the user a 503). With Sentinel, a new connection asks the sentinels
//! for the primary again, which is how a failover is followed.

use std::future::Future;
use std::sync::RwLock;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, ErrorKind, IntoConnectionInfo, Pipeline, RedisConnectionInfo,
    RedisError, RedisFuture, RedisResult, ServerErrorKind, TlsCertificates, TlsMode, Value,
};
use secrecy::ExposeSecret;

use crate::config::{RedisConfig, RedisMode};
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

/// Where connections come from.
enum Target {
    Node(redis::Client),
    /// Asks the sentinels for the current primary at every (re)connection.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
    /// With a client per configured node, for pub/sub (a message published on one node of a
    /// cluster reaches subscribers on every node).
    Cluster(ClusterClient, Vec<redis::Client>),
}

/// A connection to a node or to a cluster; commands go through it alike.
#[derive(Clone)]
pub(super) enum Conn {
    Node(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Node(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Node(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The connection in use, and where a new one comes from.
pub(super) struct Connections {
    target: Target,
    config: AsyncConnectionConfig,
    /// The live connection and its number (so that a stale failure never replaces a newer one).
    current: RwLock<Option<(u64, Conn)>>,
    /// Held while connecting, so that concurrent requests make one connection, not many.
    connecting: tokio::sync::Mutex<u64>,
}

impl Connections {
    /// Nothing connects yet: the proxy starts while Redis is down.
    pub(super) fn new(redis: &RedisConfig) -> RedisResult<Self> {
        Ok(Self {
            target: target(redis)?,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT)),
            current: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(0),
        })
    }

    /// Runs `op` on the live connection; on a connection failure, on a new one once more (see
    /// the module comment for when).
    pub(super) async fn run<T, F, Fut>(&self, retry: Retry, op: F) -> RedisResult<T>
    where
        F: Fn(Conn) -> Fut,
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

    async fn get(&self) -> RedisResult<(u64, Conn)> {
        if let Some(live) = read(&self.current).clone() {
            return Ok(live);
        }
        let mut made = self.connecting.lock().await;
        // Another request may have connected while this one waited.
        if let Some(live) = read(&self.current).clone() {
            return Ok(live);
        }
        let conn = self.connect().await?;
        *made += 1;
        *write(&self.current) = Some((*made, conn.clone()));
        Ok((*made, conn))
    }

    async fn connect(&self) -> RedisResult<Conn> {
        match &self.target {
            Target::Node(client) => client
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
                .map(Conn::Node),
            Target::Sentinel(sentinel) => {
                let mut sentinel = sentinel.lock().await;
                tokio::time::timeout(
                    TIMEOUT * 2,
                    sentinel.get_async_connection_with_config(&self.config),
                )
                .await
                .map_err(|_| timed_out("asking the sentinels for the primary"))?
                .map(Conn::Node)
            }
            Target::Cluster(client, _) => {
                tokio::time::timeout(TIMEOUT * 2, client.get_async_connection())
                    .await
                    .map_err(|_| timed_out("connecting to the cluster"))?
                    .map(Conn::Cluster)
            }
        }
    }

    /// A pub/sub connection; `attempt` picks the cluster node to try (they take turns).
    pub(super) async fn pubsub(&self, attempt: usize) -> RedisResult<redis::aio::PubSub> {
        let client = match &self.target {
            Target::Node(client) => client.clone(),
            Target::Sentinel(sentinel) => {
                let mut sentinel = sentinel.lock().await;
                tokio::time::timeout(TIMEOUT * 2, sentinel.async_get_client())
                    .await
                    .map_err(|_| timed_out("asking the sentinels for the primary"))??
            }
            Target::Cluster(_, nodes) => nodes[attempt % nodes.len()].clone(),
        };
        tokio::time::timeout(TIMEOUT, client.get_async_pubsub())
            .await
            .map_err(|_| timed_out("connecting for pub/sub"))?
    }

    /// Forgets connection `number` if it is still the live one.
    fn discard(&self, number: u64) {
        let mut current = write(&self.current);
        if current.as_ref().is_some_and(|(n, _)| *n == number) {
            *current = None;
        }
    }
}

fn timed_out(what: &'static str) -> RedisError {
    RedisError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, what))
}

/// Failures after which this connection is no good: it dropped, timed out, or now leads to a
/// replica or a primary that is going away (during a failover).
fn needs_new_connection(e: &RedisError) -> bool {
    e.is_unrecoverable_error()
        || e.is_timeout()
        || e.is_cluster_error()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}

fn target(r: &RedisConfig) -> RedisResult<Target> {
    let certs = match &r.ca_file {
        Some(path) => Some(TlsCertificates {
            client_tls: None,
            root_cert: Some(std::fs::read(path)?),
        }),
        None => None,
    };
    let user = |info: RedisConnectionInfo| {
        let info = match &r.username {
            Some(u) => info.set_username(u),
            None => info,
        };
        match &r.password {
            Some(p) => info.set_password(p.expose_secret()),
            None => info,
        }
    };
    match r.mode {
        RedisMode::Standalone => {
            let url = r.url.as_ref().map(|u| u.as_str()).unwrap_or_default();
            Ok(Target::Node(node_client(url, &user, certs)?))
        }
        RedisMode::Sentinel => {
            let mut node = SentinelNodeConnectionInfo::default()
                .set_redis_connection_info(user(RedisConnectionInfo::default()));
            if r.sentinels.iter().any(|u| u.scheme() == "rediss") {
                node = node.set_tls_mode(TlsMode::Secure);
            }
            let sentinels: Vec<&str> = r.sentinels.iter().map(|u| u.as_str()).collect();
            let client = SentinelClient::build(
                sentinels,
                r.master_name.clone().unwrap_or_default(),
                Some(node),
                SentinelServerType::Master,
            )?;
            Ok(Target::Sentinel(tokio::sync::Mutex::new(client)))
        }
        RedisMode::Cluster => {
            let nodes: Vec<&str> = r.nodes.iter().map(|u| u.as_str()).collect();
            let mut builder = ClusterClientBuilder::new(nodes.clone())
                .connection_timeout(TIMEOUT)
                .response_timeout(TIMEOUT);
            if let Some(u) = &r.username {
                builder = builder.username(u);
            }
            if let Some(p) = &r.password {
                builder = builder.password(p.expose_secret());
            }
            if let Some(certs) = &certs {
                builder = builder.certs(certs.clone());
            }
            let clients = nodes
                .iter()
                .map(|url| node_client(url, &user, certs.clone()))
                .collect::<RedisResult<Vec<_>>>()?;
            Ok(Target::Cluster(builder.build()?, clients))
        }
    }
}

/// A client for one node, with the ACL user and the CA applied.
fn node_client(
    url: &str,
    user: &impl Fn(RedisConnectionInfo) -> RedisConnectionInfo,
    certs: Option<TlsCertificates>,
) -> RedisResult<redis::Client> {
    let info = url.into_connection_info()?;
    let settings = user(info.redis_settings().clone());
    let info = info.set_redis_settings(settings);
    match certs {
        Some(certs) => redis::Client::build_with_tls(info, certs),
        None => redis::Client::open(info),
    }
}

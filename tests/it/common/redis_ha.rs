//! Highly available Redis, from Debian's `redis-server`, on free loopback ports: a three-primary
//! Cluster, and a Sentinel set (a primary, a replica, three sentinels).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::binary::free_port;
use super::redis::{RedisServer, answers_as};
use super::relay::Relay;

/// Polls `check` until it holds (bounded): a readiness probe for servers that take a moment.
fn until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Three primaries (no replicas), every slot assigned, `cluster_state:ok` on each.
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "2000",
                    "--appendonly",
                    "no",
                ])
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli must be installed (it comes with redis-server)");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for n in &nodes {
            until("cluster_state:ok", Duration::from_secs(15), || {
                n.query(&["CLUSTER", "INFO"]).contains("cluster_state:ok")
            });
        }
        RedisCluster { nodes }
    }

    /// `[session.redis]` `nodes`, as TOML.
    pub fn nodes_toml(&self) -> String {
        let urls: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("\"{}\"", n.url()))
            .collect();
        format!("[{}]", urls.join(", "))
    }
}

pub const MASTER_NAME: &str = "vestibule-primary";

pub struct RedisSentinels {
    pub primary: RedisServer,
    pub replica: RedisServer,
    sentinels: Vec<(u16, Child, std::path::PathBuf)>,
}

impl RedisSentinels {
    /// A primary, its replica (in sync), and three sentinels that know both and each other.
    /// A primary is judged down after 1 s.
    pub fn start() -> Self {
        let primary = RedisServer::start_with(&[]);
        let port = primary.port;
        Self::around(primary, port)
    }

    /// The same, with the replication stream through a [`Relay`]: pausing it cuts the replica
    /// off (a partition, or a replica far behind).
    pub async fn start_with_relay() -> (Self, Relay) {
        let primary = RedisServer::start_with(&[]);
        let relay = Relay::start(primary.port).await;
        let port = relay.port;
        // Waiting for the replica blocks a thread: not this runtime's, which runs the relay.
        let set = tokio::task::spawn_blocking(move || Self::around(primary, port))
            .await
            .expect("sentinel set");
        (set, relay)
    }

    /// The replica (of `primary`, reached at `via`) and the sentinels.
    fn around(primary: RedisServer, via: u16) -> Self {
        let port = primary.port.to_string();
        let via = via.to_string();
        let replica = RedisServer::start_with(&["--replicaof", "127.0.0.1", &via]);
        until("replica in sync", Duration::from_secs(15), || {
            replica
                .query(&["INFO", "replication"])
                .contains("master_link_status:up")
        });
        let sentinels: Vec<(u16, Child, std::path::PathBuf)> = (0..3)
            .map(|_| {
                // A port free when picked can be taken before the sentinel binds it: then it
                // exits (or another test's sentinel answers there), and it starts on another.
                for _ in 0..5 {
                    let (sport, mut child, conf) = sentinel(&port);
                    let client = redis::Client::open(format!("redis://127.0.0.1:{sport}"))
                        .expect("sentinel URL");
                    if answers_as(&client, &mut child) == Some(true) {
                        return (sport, child, conf);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                }
                panic!("no sentinel started in 5 tries");
            })
            .collect();
        fn sentinel(port: &str) -> (u16, Child, std::path::PathBuf) {
            let sport = free_port();
            let conf = std::env::temp_dir().join(format!(
                "vestibule-sentinel-{}.conf",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::write(
                &conf,
                format!(
                    "port {sport}\nbind 127.0.0.1\n\
                         sentinel monitor {MASTER_NAME} 127.0.0.1 {port} 2\n\
                         sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                         sentinel failover-timeout {MASTER_NAME} 5000\n\
                         sentinel parallel-syncs {MASTER_NAME} 1\n"
                ),
            )
            .expect("sentinel config");
            let child = Command::new("redis-server")
                .arg(&conf)
                .arg("--sentinel")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server --sentinel");
            (sport, child, conf)
        }
        let set = RedisSentinels {
            primary,
            replica,
            sentinels,
        };
        // Each sentinel must know the replica and the two other sentinels before a failover can
        // be agreed on.
        for (sport, _, _) in &set.sentinels {
            until("sentinels know each other", Duration::from_secs(20), || {
                let info = sentinel_query(*sport, &["SENTINEL", "MASTER", MASTER_NAME]);
                info.windows(2)
                    .any(|w| w[0] == "num-other-sentinels" && w[1] == "2")
                    && info.windows(2).any(|w| w[0] == "num-slaves" && w[1] == "1")
            });
        }
        set
    }

    /// `[session.redis]` `sentinels`.
    pub fn sentinel_urls(&self) -> Vec<url::Url> {
        self.sentinels
            .iter()
            .map(|(p, _, _)| url::Url::parse(&format!("redis://127.0.0.1:{p}")).expect("url"))
            .collect()
    }

    /// The same, as TOML.
    pub fn sentinels_toml(&self) -> String {
        let urls: Vec<String> = self
            .sentinel_urls()
            .iter()
            .map(|u| format!("\"{u}\""))
            .collect();
        format!("[{}]", urls.join(", "))
    }

    /// The port the sentinels now name as the primary's.
    pub fn primary_port(&self) -> Option<u16> {
        let (sport, _, _) = &self.sentinels[0];
        let addr = sentinel_query(
            *sport,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME],
        );
        addr.get(1).and_then(|p| p.parse().ok())
    }
}

fn sentinel_query(port: u16, args: &[&str]) -> Vec<String> {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
        return Vec::new();
    };
    let Ok(mut c) = client.get_connection() else {
        return Vec::new();
    };
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut c).unwrap_or_default()
}

impl Drop for RedisSentinels {
    fn drop(&mut self) {
        for (_, child, conf) in &mut self.sentinels {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(conf);
        }
    }
}

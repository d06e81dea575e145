//! A real `redis-server` per test, on a free loopback port (another one if that was taken before
//! it could bind it), stopped when dropped: plain,
//! persistent, with extra arguments (a replica, a cluster node), or TLS-only with an ACL user.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::binary::free_port;
use super::tls::TestTls;

/// The ACL user of a TLS server.
pub const ACL_USER: &str = "vestibule";
pub const ACL_PASSWORD: &str = "acl-password-5e1f";

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    /// With persistence: the append-only file lives here and survives restarts.
    dir: Option<PathBuf>,
    /// More `redis-server` arguments.
    extra: Vec<String>,
    /// TLS only (no plain port), and the ACL user `vestibule` only.
    tls: Option<PathBuf>,
}

impl RedisServer {
    /// An in-memory server (no data on disk).
    pub fn start() -> Self {
        Self::launch(free_port(), None, true)
    }

    /// Starts on a given port (to bring a stopped server back where clients expect it).
    pub fn start_on(port: u16) -> Self {
        Self::launch(port, None, false)
    }

    /// A server whose data survives [`RedisServer::stop`] and [`RedisServer::restart`].
    pub fn start_persistent() -> Self {
        let dir =
            std::env::temp_dir().join(format!("vestibule-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        Self::launch(free_port(), Some(dir), true)
    }

    /// A server with these extra arguments, its files in a fresh directory.
    pub fn start_with(extra: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("vestibule-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut s = RedisServer {
            port: free_port(),
            child: None,
            dir: Some(dir),
            extra: extra.iter().map(|a| (*a).to_owned()).collect(),
            tls: None,
        };
        s.spawn(true);
        s
    }

    /// TLS only, certificates from `tls`, and one ACL user ([`ACL_USER`]; `default` is off).
    pub fn start_tls(tls: &TestTls) -> Self {
        let mut s = RedisServer {
            port: free_port(),
            child: None,
            dir: None,
            extra: Vec::new(),
            tls: Some(tls.dir.clone()),
        };
        s.spawn(true);
        s
    }

    fn launch(port: u16, dir: Option<PathBuf>, may_move: bool) -> Self {
        let mut s = RedisServer {
            port,
            child: None,
            dir,
            extra: Vec::new(),
            tls: None,
        };
        s.spawn(may_move);
        s
    }

    pub fn url(&self) -> String {
        match self.tls {
            Some(_) => format!("rediss://localhost:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A client for the test's own commands (TLS and ACL user included).
    pub fn client(&self) -> redis::Client {
        let Some(dir) = &self.tls else {
            return redis::Client::open(self.url()).expect("redis url");
        };
        let info = redis::IntoConnectionInfo::into_connection_info(self.url()).expect("url");
        let settings = info
            .redis_settings()
            .clone()
            .set_username(ACL_USER)
            .set_password(ACL_PASSWORD);
        let certs = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(std::fs::read(dir.join("ca.pem")).expect("ca")),
        };
        redis::Client::build_with_tls(info.set_redis_settings(settings), certs).expect("tls client")
    }

    /// Starts redis-server on `self.port`. The port was free when picked, but a parallel test
    /// can take it before redis-server binds it (which cannot be told to bind port 0 and say
    /// which: `--port 0` turns TCP off): then this one exits, and unless `may_move` is false (a
    /// restart where clients expect it) it is started again on a fresh port.
    fn spawn(&mut self, may_move: bool) {
        for _ in 0..5 {
            self.spawn_once();
            if self.wait_ready() {
                return;
            }
            assert!(
                may_move,
                "redis-server could not listen on port {}",
                self.port
            );
            self.port = free_port();
        }
        panic!("redis-server exited at start 5 times (each port taken, or bad arguments)");
    }

    fn spawn_once(&mut self) {
        let mut args: Vec<String> = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
        ];
        match &self.tls {
            None => args.extend(["--port".into(), self.port.to_string()]),
            Some(dir) => {
                let file = |f: &str| dir.join(f).display().to_string();
                args.extend([
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    self.port.to_string(),
                    "--tls-cert-file".into(),
                    file("server.pem"),
                    "--tls-key-file".into(),
                    file("server.key"),
                    "--tls-ca-cert-file".into(),
                    file("ca.pem"),
                    "--tls-auth-clients".into(),
                    "no".into(),
                    // (One argument per word: redis-server joins them into the config line.)
                    "--user".into(),
                    "default".into(),
                    "off".into(),
                    "--user".into(),
                    ACL_USER.into(),
                    "on".into(),
                    format!(">{ACL_PASSWORD}"),
                    "~*".into(),
                    "&*".into(),
                    "+@all".into(),
                ]);
            }
        }
        match &self.dir {
            Some(dir) => args.extend([
                "--appendonly".into(),
                "yes".into(),
                "--dir".into(),
                dir.display().to_string(),
            ]),
            None => args.extend(["--appendonly".into(), "no".into()]),
        }
        args.extend(self.extra.iter().cloned());
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (bash .ci/run installs it)");
        self.child = Some(child);
    }

    /// Readiness probe: true once the server on the port is this child, false when the child
    /// exited (its port was taken).
    fn wait_ready(&mut self) -> bool {
        let client = self.client();
        let child = self.child.as_mut().expect("spawned");
        match answers_as(&client, child) {
            Some(true) => true,
            Some(false) => {
                self.child = None;
                false
            }
            None => panic!("redis-server on port {} did not become ready", self.port),
        }
    }

    /// Stops the server cleanly (saving its data when persistent) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Ok(mut c) = self.client().get_connection() {
            let _: Result<(), _> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut c);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Kills the process at once (`kill -9`: no shutdown, no save).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port (and data directory).
    pub fn restart(&mut self) {
        self.spawn(false);
    }

    /// How many sessions the store holds.
    pub fn session_count(&self) -> usize {
        let mut c = self.client().get_connection().expect("redis connection");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("vestibule:s:*")
            .query(&mut c)
            .expect("KEYS");
        // `vestibule:s:{<64 hex>}`, refresh locks (`…:refresh-lock`) aside.
        keys.iter()
            .filter(|k| k.len() == "vestibule:s:{}".len() + 64)
            .count()
    }

    /// Runs one command and returns its answer as text (`INFO replication`, `CLUSTER INFO`…).
    pub fn query(&self, args: &[&str]) -> String {
        let mut c = self.client().get_connection().expect("redis connection");
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut c).unwrap_or_default()
    }

    /// Runs one command (`CLIENT KILL TYPE normal`, `CONFIG SET timeout 1`…), ignoring its answer.
    pub fn command(&self, args: &[&str]) {
        let mut c = self.client().get_connection().expect("redis connection");
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _: redis::Value = cmd.query(&mut c).expect("redis command");
    }

    /// `PTTL key`: milliseconds left, -1 without expiry, -2 when there is no such key.
    pub fn pttl(&self, key: &str) -> i64 {
        let mut c = self.client().get_connection().expect("redis connection");
        redis::cmd("PTTL").arg(key).query(&mut c).expect("PTTL")
    }

    /// `EXISTS key`.
    pub fn exists(&self, key: &str) -> bool {
        let mut c = self.client().get_connection().expect("redis connection");
        redis::cmd("EXISTS").arg(key).query(&mut c).expect("EXISTS")
    }

    /// `CLIENT LIST`, one line per connection, without the one asking.
    pub fn clients(&self) -> Vec<String> {
        self.query(&["CLIENT", "LIST"])
            .lines()
            .filter(|l| !l.contains("cmd=client|list"))
            .map(str::to_owned)
            .collect()
    }

    /// The raw value at `key` (empty when none).
    pub fn get_raw(&self, key: &str) -> Vec<u8> {
        let mut c = self.client().get_connection().expect("redis connection");
        redis::cmd("GET").arg(key).query(&mut c).unwrap_or_default()
    }

    /// Damages the registry entry stored in the session value at `key` (its last byte, the
    /// seal's tag: it no longer opens), leaving the session itself as it is. The value's layout
    /// (docs/scaling.md, "Key layout"): the generation (8 bytes), 1, the entry's length (a
    /// varint), the entry, then the sealed session.
    pub fn garble_registry_entry(&self, key: &str) {
        let mut value = self.get_raw(key);
        assert_eq!(
            value.get(8),
            Some(&1),
            "a value that holds its registry entry"
        );
        let (mut len, mut at) = (0usize, 9);
        loop {
            let b = value[at];
            len |= usize::from(b & 0x7f) << (7 * (at - 9));
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        assert!(len > 0, "an entry is there");
        value[at + len - 1] ^= 0x01;
        self.set_raw(key, &value);
    }

    /// Overwrites the value at `key`, keeping its expiry.
    pub fn set_raw(&self, key: &str, value: &[u8]) {
        let mut c = self.client().get_connection().expect("redis connection");
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("KEEPTTL")
            .query(&mut c)
            .expect("SET");
    }
}

/// Polls (10 s at most) until the Redis or sentinel `client` reaches is `child`: `INFO server`
/// names its pid, since another test's server that took the port answers too. `Some(true)`
/// then, `Some(false)` if `child` exited first, `None` if neither happened in time.
pub(super) fn answers_as(client: &redis::Client, child: &mut Child) -> Option<bool> {
    let pid = format!("process_id:{}", child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return Some(false);
        }
        if let Ok(mut c) = client.get_connection()
            && let Ok(info) = redis::cmd("INFO").arg("server").query::<String>(&mut c)
            && info.lines().any(|l| l.trim_end() == pid)
        {
            return Some(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// One key of a full dump: its name, its type, and every part of its value (a string's bytes;
/// a set's or list's members; a sorted set's members and scores; a hash's fields and values).
pub struct DumpedKey {
    pub key: String,
    pub kind: String,
    pub parts: Vec<Vec<u8>>,
}

impl RedisServer {
    /// Every key of every type (SCAN, then TYPE and the read that type needs): what an attacker
    /// with a copy of the store has (for "a dump yields nothing" checks).
    pub fn dump(&self) -> Vec<DumpedKey> {
        let mut c = self.client().get_connection().expect("redis connection");
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query(&mut c)
                .expect("SCAN");
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|key| {
                let kind: String = redis::cmd("TYPE").arg(&key).query(&mut c).expect("TYPE");
                let read = |cmd: &mut redis::Cmd, c: &mut redis::Connection| -> Vec<Vec<u8>> {
                    cmd.query(c).expect("read a key")
                };
                let parts = match kind.as_str() {
                    "string" => vec![
                        redis::cmd("GET")
                            .arg(&key)
                            .query::<Vec<u8>>(&mut c)
                            .expect("GET"),
                    ],
                    "set" => read(redis::cmd("SMEMBERS").arg(&key), &mut c),
                    "zset" => read(
                        redis::cmd("ZRANGE")
                            .arg(&key)
                            .arg(0)
                            .arg(-1)
                            .arg("WITHSCORES"),
                        &mut c,
                    ),
                    "hash" => read(redis::cmd("HGETALL").arg(&key), &mut c),
                    "list" => read(redis::cmd("LRANGE").arg(&key).arg(0).arg(-1), &mut c),
                    // Deleted between SCAN and TYPE.
                    "none" => Vec::new(),
                    other => panic!("{key}: a {other} key, which the dump does not read"),
                };
                DumpedKey { key, kind, parts }
            })
            .collect()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

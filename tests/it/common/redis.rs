//! A real `redis-server` per test, on a free loopback port, stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::binary::free_port;

pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    /// With persistence: the append-only file lives here and survives restarts.
    dir: Option<PathBuf>,
}

impl RedisServer {
    /// An in-memory server (no data on disk).
    pub fn start() -> Self {
        Self::launch(free_port(), None)
    }

    /// Starts on a given port (to bring a stopped server back where clients expect it).
    pub fn start_on(port: u16) -> Self {
        Self::launch(port, None)
    }

    /// A server whose data survives [`RedisServer::stop`] and [`RedisServer::restart`].
    pub fn start_persistent() -> Self {
        let dir =
            std::env::temp_dir().join(format!("vestibule-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        Self::launch(free_port(), Some(dir))
    }

    fn launch(port: u16, dir: Option<PathBuf>) -> Self {
        let mut s = RedisServer {
            port,
            child: None,
            dir,
        };
        s.spawn();
        s
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let mut args: Vec<String> = vec![
            "--port".into(),
            self.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
        ];
        match &self.dir {
            Some(dir) => args.extend([
                "--appendonly".into(),
                "yes".into(),
                "--dir".into(),
                dir.display().to_string(),
            ]),
            None => args.extend(["--appendonly".into(), "no".into()]),
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (bash .ci/run installs it)");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Readiness probe: PING until PONG (bounded).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = redis::Client::open(self.url()).expect("redis url");
        while Instant::now() < deadline {
            if let Ok(mut c) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not become ready", self.port);
    }

    /// Stops the server cleanly (saving its data when persistent) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Ok(mut c) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) {
            let _: Result<(), _> = redis::cmd("SHUTDOWN").arg("SAVE").query(&mut c);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// Starts again on the same port (and data directory).
    pub fn restart(&mut self) {
        self.spawn();
    }

    /// How many sessions the store holds (`vestibule:s:{sha256}` keys, refresh locks aside).
    pub fn session_count(&self) -> usize {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut c = client.get_connection().expect("redis connection");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("vestibule:s:*")
            .query(&mut c)
            .expect("KEYS");
        keys.iter()
            .filter(|k| k.len() == "vestibule:s:".len() + 64)
            .count()
    }

    /// Runs one command (`CLIENT KILL TYPE normal`, `CONFIG SET timeout 1`…), ignoring its answer.
    pub fn command(&self, args: &[&str]) {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut c = client.get_connection().expect("redis connection");
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _: redis::Value = cmd.query(&mut c).expect("redis command");
    }

    /// Every key in the server with its raw value (for "a dump yields nothing" checks).
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        let client = redis::Client::open(self.url()).expect("redis url");
        let mut c = client.get_connection().expect("redis connection");
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).expect("KEYS");
        keys.into_iter()
            .map(|k| {
                let v: Vec<u8> = redis::cmd("GET").arg(&k).query(&mut c).unwrap_or_default();
                (k, v)
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

//! The `vestibule` binary as a child process: for signals, exit codes, subcommands and logs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::config::TestConfig;
use super::proxy::Proxy;

pub const BIN: &str = env!("CARGO_BIN_EXE_vestibule");

pub struct Binary {
    child: Option<Child>,
    pub port: u16,
    config_path: PathBuf,
    log_path: PathBuf,
}

/// Writes `contents` to a fresh temp file and returns its path.
pub fn temp_file(ext: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "vestibule-test-{}.{ext}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut f = std::fs::File::create(&path).expect("temp file");
    f.write_all(contents.as_bytes()).expect("write temp file");
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Runs `vestibule <args> --config <a file holding toml>` to its end, with `env` added (and
/// `VESTIBULE_CONFIG` removed); returns the exit code and stdout + stderr.
pub fn command(args: &[&str], toml: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let path = temp_file("toml", toml);
    let out = run(args, &path, env);
    let _ = std::fs::remove_file(&path);
    out
}

fn run(args: &[&str], config: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("VESTIBULE_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run vestibule");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

impl Binary {
    /// Starts the binary with `config` on a free port and the given environment; stderr goes to
    /// a log file. The port was free when picked; if another test takes it before the binary
    /// binds it (whose port must be known up front: it is in `public_url`), the binary exits
    /// unable to listen and is started again on a fresh port. Returns once it listens, exits, or
    /// after 10 s.
    pub fn spawn(config: TestConfig, env: &[(&str, &str)]) -> Binary {
        for _ in 0..5 {
            let mut binary = Self::start(free_port(), config.clone(), env, false);
            if !binary.lost_its_port() {
                return binary;
            }
        }
        panic!("vestibule found no free port in 5 tries");
    }

    /// [`Binary::spawn`], but its stderr is a pipe nobody reads: once the pipe's buffer is full,
    /// every write to it blocks, as with a log collector that stalls.
    pub fn spawn_with_unread_log(config: TestConfig, env: &[(&str, &str)]) -> Binary {
        Self::start(free_port(), config, env, true)
    }

    /// True when the binary exited because its port was taken.
    fn lost_its_port(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let child = self.child.as_mut().expect("running");
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return self
                    .logs()
                    .contains(&format!("cannot listen on 127.0.0.1:{}", self.port));
            }
            if listens(child.id(), self.port) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn start(port: u16, config: TestConfig, env: &[(&str, &str)], unread_log: bool) -> Binary {
        let config_path = temp_file("toml", &config.port(port).toml());
        let log_path = std::env::temp_dir().join(format!(
            "vestibule-log-{}.txt",
            uuid::Uuid::new_v4().simple()
        ));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut cmd = Command::new(BIN);
        cmd.arg("--config")
            .arg(&config_path)
            .env_remove("VESTIBULE_CONFIG")
            .stdout(Stdio::null());
        if unread_log {
            cmd.stderr(Stdio::piped());
        } else {
            cmd.stderr(log);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn vestibule");
        Binary {
            child: Some(child),
            port,
            config_path,
            log_path,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The running binary, once `/readyz` says ready.
    pub async fn ready(&self) -> Proxy {
        let proxy = Proxy::external(self.base());
        proxy.wait_ready().await;
        proxy
    }

    /// Runs a subcommand (`healthcheck`, `check-config`) with this binary's config file.
    pub fn command(&self, args: &[&str]) -> (Option<i32>, String) {
        run(args, &self.config_path, &[])
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or_default()
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{sig}");
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        let child = self.child.as_mut().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "vestibule did not exit within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process (if still running) and waits for it, so its log is complete.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops it as an orchestrator would (`SIGTERM`) and waits for it to exit, so that every
    /// line it logged is written (log lines wait in a buffer for up to 20 ms; a `SIGKILL`
    /// would lose them). Give the config `server.shutdown_delay = "0s"` to make it quick.
    pub fn stop(&mut self) {
        if self.child.is_some() {
            self.signal("TERM");
            self.wait_exit(Duration::from_secs(30));
            self.child = None;
        }
    }

    /// Its logs, once `ready` holds for them (waiting at most 10 s): lines reach stderr up to
    /// 20 ms after they are logged.
    pub async fn logs_when(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs();
            if ready(&logs) {
                return logs;
            }
            assert!(Instant::now() < deadline, "{what} never logged:\n{logs}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Everything it wrote to stderr so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log_path);
        let _ = std::fs::remove_file(&self.config_path);
    }
}

/// Whether process `pid` holds a socket listening on port `port` of 127.0.0.1: the LISTEN
/// sockets on that port in /proc/net/tcp, by inode, among the process's open files.
fn listens(pid: u32, port: u16) -> bool {
    let Ok(tcp) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // `sl local_address rem_address st ... inode`: "0100007F:1F90", st "0A" is LISTEN.
    let sockets: Vec<String> = tcp
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local = u16::from_str_radix(f.get(1)?.rsplit_once(':')?.1, 16).ok()?;
            (local == port && *f.get(3)? == "0A")
                .then(|| format!("socket:[{}]", f.get(9).unwrap_or(&"")))
        })
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .is_ok_and(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
    })
}

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
    /// a log file.
    pub fn spawn(config: TestConfig, env: &[(&str, &str)]) -> Binary {
        let port = free_port();
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
            .stdout(Stdio::null())
            .stderr(log);
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

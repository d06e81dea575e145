//! [`TestApps`]: Vestibule in this process with a config of `[[apps]]` written to a file (so that
//! `server.watch_config` can reload it), each app at its own `*.localhost` name on one port.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use super::browser::Browser;
use super::idp::{CLIENT_ID, CLIENT_SECRET, TestIdp};
use super::proxy::Proxy;

pub struct TestApps {
    pub port: u16,
    pub file: PathBuf,
    /// `server.watch_config`: on for tests that reload by rewriting the file, off for those that
    /// count `SIGHUP` reloads (a poll between a rewrite and the signal would add one).
    watch: bool,
}

/// One `[[apps.providers]]` entry for this test IdP.
pub fn provider(name: &str, idp: &TestIdp) -> String {
    format!(
        "[[apps.providers]]\nname = \"{name}\"\nlabel = \"Sign in with {name}\"\n\
         issuer = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
        idp.state.issuer
    )
}

impl TestApps {
    /// Starts with the `[[apps]]` that `apps(port)` writes (after a `[server]` section that
    /// listens on `port` and watches the file), and waits until ready.
    pub async fn start(apps: impl Fn(u16) -> String) -> TestApps {
        Self::start_watching(true, apps).await
    }

    /// [`TestApps::start`], reloaded by `SIGHUP` only.
    pub async fn start_signalled(apps: impl Fn(u16) -> String) -> TestApps {
        Self::start_watching(false, apps).await
    }

    async fn start_watching(watch: bool, apps: impl Fn(u16) -> String) -> TestApps {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let file = super::binary::temp_file("toml", &Self::toml(port, watch, &apps(port)));
        let deployment =
            vestibule::config::Deployment::load(&file).expect("a valid config of apps");
        let admin = deployment
            .process()
            .server
            .admin_listen
            .map(|a| TcpListener::bind(a).expect("bind the admin listener"));
        let running = vestibule::server::start_on(deployment, Some(file.clone()), listener, admin)
            .expect("vestibule starts");
        actix_web::rt::spawn(running.server);
        if let Some(admin) = running.admin {
            actix_web::rt::spawn(admin);
        }
        let apps = TestApps { port, file, watch };
        apps.at("127.0.0.1").wait_ready().await;
        apps
    }

    fn toml(port: u16, watch: bool, apps: &str) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nwatch_config = {watch}\n\
             shutdown_delay = \"0s\"\n{apps}"
        )
    }

    /// Writes a new config (`server.watch_config`, when on, picks it up within 2 s).
    pub fn rewrite(&self, apps: &str) {
        std::fs::write(&self.file, Self::toml(self.port, self.watch, apps))
            .expect("rewrite the config");
    }

    /// Reloads by `SIGHUP` (to this test's own process: nextest runs each test in one, and
    /// every proxy of this test reloads its own file) and waits until the process's metrics count
    /// `n` applied reloads (of all its proxies).
    pub async fn reload(&self, n: u64) {
        let ok = std::process::Command::new("kill")
            .arg("-HUP")
            .arg(std::process::id().to_string())
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -HUP");
        self.until_applied(n).await;
    }

    /// Waits (bounded) until `vestibule_config_reloads_total{result="applied"}` is `n`.
    pub async fn until_applied(&self, n: u64) {
        let want = format!("vestibule_config_reloads_total{{result=\"applied\"}} {n}\n");
        let proxy = self.at("127.0.0.1");
        super::eventually(
            "the reload applied",
            std::time::Duration::from_secs(10),
            async || proxy.metrics().await.1.contains(&want),
        )
        .await;
    }

    /// The proxy as `host` (a `*.localhost` name) reaches it.
    pub fn at(&self, host: &str) -> Proxy {
        Proxy::external(format!("http://{host}:{}", self.port))
    }

    /// A browser that finds these hosts on this port (its cookie jar is not per host: a test
    /// that wants two users uses two browsers, and copying cookies is the forgery).
    pub fn browser(&self, hosts: &[&str]) -> Browser {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        Browser::resolving(hosts, addr)
    }
}

impl Drop for TestApps {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// A documented `[[apps]]` file made checkable here: each `client_secret_file` it names (a
/// Kubernetes Secret's path) replaced by a temporary file holding a secret. Files without
/// `[[apps]]` are returned as they are.
pub fn with_secret_files(toml: &str) -> String {
    toml.lines()
        .map(
            |line| match line.trim_start().strip_prefix("client_secret_file") {
                Some(_) => {
                    let file =
                        super::binary::temp_file("secret", "a-client-secret-for-tests-0123\n");
                    format!("client_secret_file = {:?}", file.display().to_string())
                }
                None => line.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// The environment a documented file is checked with: `[[apps]]` cannot take the top-level
/// `VESTIBULE_OIDC__*` or `VESTIBULE_SPA__*` (they would make an `[oidc]` or `[spa]` beside them).
pub fn env_for<'a>(toml: &str, env: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let apps = toml.lines().any(|l| l.trim() == "[[apps]]");
    env.iter()
        .filter(|(k, _)| {
            !(apps && (k.starts_with("VESTIBULE_OIDC__") || k.starts_with("VESTIBULE_SPA__")))
        })
        .copied()
        .collect()
}

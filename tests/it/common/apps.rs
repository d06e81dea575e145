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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let file = super::binary::temp_file("toml", &Self::toml(port, &apps(port)));
        let deployment =
            vestibule::config::Deployment::load(&file).expect("a valid config of apps");
        let running = vestibule::server::start_on(deployment, Some(file.clone()), listener, None)
            .expect("vestibule starts");
        actix_web::rt::spawn(running.server);
        let apps = TestApps { port, file };
        apps.at("127.0.0.1").wait_ready().await;
        apps
    }

    fn toml(port: u16, apps: &str) -> String {
        format!(
            "[server]\nlisten = \"127.0.0.1:{port}\"\nwatch_config = true\n\
             shutdown_delay = \"0s\"\n{apps}"
        )
    }

    /// Writes a new config (`server.watch_config` picks it up within 2 s).
    pub fn rewrite(&self, apps: &str) {
        std::fs::write(&self.file, Self::toml(self.port, apps)).expect("rewrite the config");
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

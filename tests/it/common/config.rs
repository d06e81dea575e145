//! [`TestConfig`]: the one way tests make a Vestibule config, key by key (no TOML splicing), and
//! start an in-process Vestibule from it.

use std::collections::BTreeMap;
use std::net::TcpListener;

use super::idp::{self, TestIdp};
use super::proxy::Proxy;
use super::redis::{ACL_PASSWORD, ACL_USER, RedisServer};
use super::redis_ha::{MASTER_NAME, RedisCluster, RedisSentinels};
use super::tls::TestTls;

/// `session.encryption_key` of the tests' Redis stores (32 bytes, base64).
pub const ENCRYPTION_KEY: &str = "dGVzdC1lbmNyeXB0aW9uLWtleS0wMTIzNDU2Nzg5YWI=";
/// Another one (a rotation's new key, a replica with the wrong key).
pub const OTHER_ENCRYPTION_KEY: &str = "b3RoZXItZW5jcnlwdGlvbi1rZXktMDEyMzQ1Njc4OWE=";

/// A TOML value: strings are quoted, numbers and booleans are not; [`Raw`] is written as given
/// (arrays, inline tables, or deliberately broken values).
pub trait IntoToml {
    fn into_toml(self) -> String;
}

/// TOML text written as is.
pub struct Raw<'a>(pub &'a str);

impl IntoToml for &str {
    fn into_toml(self) -> String {
        let escaped = self
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        format!("\"{escaped}\"")
    }
}
impl IntoToml for String {
    fn into_toml(self) -> String {
        self.as_str().into_toml()
    }
}
impl IntoToml for &String {
    fn into_toml(self) -> String {
        self.as_str().into_toml()
    }
}
impl IntoToml for u64 {
    fn into_toml(self) -> String {
        self.to_string()
    }
}
impl IntoToml for i32 {
    fn into_toml(self) -> String {
        self.to_string()
    }
}
impl IntoToml for bool {
    fn into_toml(self) -> String {
        self.to_string()
    }
}
impl IntoToml for Raw<'_> {
    fn into_toml(self) -> String {
        self.0.to_owned()
    }
}

/// Vestibule's config for one test: sections of keys, and `[[routes]]`.
#[derive(Clone)]
pub struct TestConfig {
    sections: BTreeMap<String, BTreeMap<String, String>>,
    routes: Vec<TestRoute>,
}

impl TestConfig {
    /// The test IdP's client, the memory store, listening on port 8080 until [`TestConfig::port`]
    /// (or [`TestConfig::start`]) says otherwise.
    pub fn new(issuer: &str) -> Self {
        TestConfig {
            sections: BTreeMap::new(),
            routes: Vec::new(),
        }
        .port(8080)
        .set("oidc.issuer", issuer)
        .set("oidc.client_id", idp::CLIENT_ID)
        .set("oidc.client_secret", idp::CLIENT_SECRET)
        .set("oidc.scopes", Raw(r#"["openid", "profile", "email"]"#))
        .set("session.store", "memory")
    }

    pub fn for_idp(idp: &TestIdp) -> Self {
        Self::new(&idp.state.issuer)
    }

    /// For a test IdP started with `Quirks { oauth2_only: true, .. }`: a plain OAuth 2.0 provider
    /// like GitHub (no discovery, no ID token, the user from userinfo's `id`).
    pub fn for_oauth2_idp(idp: &TestIdp) -> Self {
        Self::for_idp(idp)
            .set("oidc.protocol", "oauth2")
            .set("oidc.scopes", Raw(r#"["read:user"]"#))
            .set("oidc.subject_claim", "id")
            .set("oidc.endpoints.authorization", idp.endpoint("/authorize"))
            .set("oidc.endpoints.token", idp.endpoint("/token"))
            .set("oidc.endpoints.userinfo", idp.endpoint("/userinfo"))
    }

    /// Sets `section.key` (e.g. `"session.idle_timeout"`).
    pub fn set(mut self, key: &str, value: impl IntoToml) -> Self {
        let (section, key) = split(key);
        self.sections
            .entry(section.to_owned())
            .or_default()
            .insert(key.to_owned(), value.into_toml());
        self
    }

    /// Leaves `section.key` out (to test a missing key).
    pub fn unset(mut self, key: &str) -> Self {
        let (section, key) = split(key);
        if let Some(s) = self.sections.get_mut(section) {
            s.remove(key);
        }
        self
    }

    /// `listen` and `public_url` on this loopback port.
    pub fn port(self, port: u16) -> Self {
        self.set("server.listen", format!("127.0.0.1:{port}"))
            .set("server.public_url", format!("http://127.0.0.1:{port}"))
    }

    /// Sessions in this redis-server.
    pub fn redis(self, redis: &RedisServer) -> Self {
        self.redis_at(&redis.url())
    }

    /// Sessions in the Redis at `url` (a relay in front of one, say).
    pub fn redis_at(self, url: &str) -> Self {
        self.redis_store().set("session.redis_url", url)
    }

    /// The Redis store, with the encryption key it needs (the same for every proxy of a test,
    /// as for the replicas of a deployment; a test of other keys sets its own after this).
    fn redis_store(self) -> Self {
        self.set("session.store", "redis")
            .set("session.encryption_key", ENCRYPTION_KEY)
    }

    /// Sessions in this TLS-only server, as its ACL user, trusting the test CA.
    pub fn redis_tls(self, redis: &RedisServer, tls: &TestTls) -> Self {
        self.redis_store()
            .set("session.redis.url", redis.url())
            .set("session.redis.ca_file", tls.ca_file())
            .set("session.redis.username", ACL_USER)
            .set("session.redis.password", ACL_PASSWORD)
    }

    /// Sessions in this Redis Cluster.
    pub fn redis_cluster(self, cluster: &RedisCluster) -> Self {
        self.redis_store()
            .set("session.redis.mode", "cluster")
            .set("session.redis.nodes", Raw(&cluster.nodes_toml()))
    }

    /// Sessions in the primary these sentinels watch.
    pub fn redis_sentinels(self, set: &RedisSentinels) -> Self {
        self.redis_store()
            .set("session.redis.mode", "sentinel")
            .set("session.redis.sentinels", Raw(&set.sentinels_toml()))
            .set("session.redis.master_name", MASTER_NAME)
    }

    pub fn route(mut self, route: TestRoute) -> Self {
        self.routes.push(route);
        self
    }

    pub fn toml(&self) -> String {
        let mut out = String::new();
        for (name, keys) in &self.sections {
            out.push_str(&format!("[{name}]\n"));
            for (k, v) in keys {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        for route in &self.routes {
            out.push_str("[[routes]]\n");
            for (k, v) in &route.keys {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        out
    }

    /// Starts Vestibule in this process on a free port and waits until `/readyz` says ready.
    pub async fn start(self) -> Proxy {
        let proxy = self.start_unready().await;
        proxy.wait_ready().await;
        proxy
    }

    /// Two replicas of this config (separate caches, gates and upstream pools), sharing its store
    /// when that is Redis.
    pub async fn start_two(self) -> (Proxy, Proxy) {
        let a = self.clone().start().await;
        let b = self.start().await;
        (a, b)
    }

    /// Starts without waiting for readiness (for tests of the not-ready state).
    pub async fn start_unready(self) -> Proxy {
        self.launch(false)
    }

    /// Starts with an admin listener (`admin_listen`) and the admin API on, with `token`.
    pub async fn start_with_admin(self, token: &str) -> Proxy {
        let proxy = self.set("server.admin_token", token).launch(true);
        proxy.wait_ready().await;
        proxy
    }

    /// Starts with an admin listener but no admin token (the admin API off).
    pub async fn start_with_admin_off(self) -> Proxy {
        let proxy = self.launch(true);
        proxy.wait_ready().await;
        proxy
    }

    /// Starts as behind a TLS-terminating proxy: `public_url` is https, so the cookies are
    /// `Secure` and `__Host-` prefixed, while the test speaks plain HTTP to the listener.
    pub async fn start_behind_tls(self) -> Proxy {
        let proxy = self.launch_as(false, "https");
        proxy.wait_ready().await;
        proxy
    }

    fn launch(self, with_admin: bool) -> Proxy {
        self.launch_as(with_admin, "http")
    }

    fn launch_as(self, with_admin: bool, scheme: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let admin = with_admin.then(|| TcpListener::bind("127.0.0.1:0").expect("bind admin"));
        let mut config = self
            .port(port)
            .set("server.public_url", format!("{scheme}://127.0.0.1:{port}"));
        let admin_base = admin.as_ref().map(|l| {
            let addr = l.local_addr().expect("admin addr");
            config = config.clone().set("server.admin_listen", addr.to_string());
            format!("http://{addr}")
        });
        let toml = config.toml();
        let parsed = vestibule::config::Deployment::from_toml_str(&toml, "test.toml")
            .expect("valid test config");
        let running =
            vestibule::server::start_on(parsed, None, listener, admin).expect("vestibule starts");
        let handle = running.server.handle();
        actix_web::rt::spawn(running.server);
        if let Some(admin) = running.admin {
            actix_web::rt::spawn(admin);
        }
        Proxy::in_process(format!("http://127.0.0.1:{port}"), admin_base, toml, handle)
    }
}

fn split(key: &str) -> (&str, &str) {
    key.split_once('.').expect("keys are written section.key")
}

/// One `[[routes]]` entry.
#[derive(Clone)]
pub struct TestRoute {
    keys: BTreeMap<String, String>,
}

impl TestRoute {
    pub fn new(prefix: &str, upstream: &str, token: &str) -> Self {
        TestRoute {
            keys: BTreeMap::new(),
        }
        .set("prefix", prefix)
        .set("upstream", upstream)
        .set("token", token)
    }

    pub fn set(mut self, key: &str, value: impl IntoToml) -> Self {
        self.keys.insert(key.to_owned(), value.into_toml());
        self
    }
}

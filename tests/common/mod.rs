//! Shared test harness: a Vestibule instance in-process, a test IdP, a real redis-server, and a
//! minimal cookie-keeping HTTP client that follows no redirects.
#![allow(dead_code)]

pub mod binary;
pub mod idp;
pub mod redis;
pub mod upstream;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use url::Url;

pub use idp::{TestIdp, Tweak};
pub use redis::RedisServer;
#[allow(unused_imports)]
pub use upstream::Upstream;
use vestibule::config::Config;

pub enum Store<'a> {
    Memory,
    Redis(&'a RedisServer),
}

pub struct Proxy {
    pub base: String,
    /// `None` for a proxy running as a separate process.
    handle: Option<ServerHandle>,
}

/// Writes `contents` to a fresh temp file and returns its path.
pub fn temp_file(ext: &str, contents: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "vestibule-test-{}.{ext}",
        uuid::Uuid::new_v4().simple()
    ));
    let mut f = std::fs::File::create(&path).expect("temp file");
    f.write_all(contents.as_bytes()).expect("write temp file");
    path
}

pub fn config_toml(port: u16, idp_issuer: &str, store: &Store<'_>, extra: &str) -> String {
    let session = match store {
        Store::Memory => "[session]\nstore = \"memory\"\n".to_owned(),
        Store::Redis(r) => format!(
            "[session]\nstore = \"redis\"\nredis_url = \"{}\"\n",
            r.url()
        ),
    };
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\
         [oidc]\nissuer = \"{idp_issuer}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         scopes = [\"openid\", \"profile\", \"email\"]\n{session}{extra}",
        idp::CLIENT_ID,
        idp::CLIENT_SECRET
    )
}

impl Proxy {
    pub async fn start(idp: &TestIdp, store: Store<'_>) -> Proxy {
        Self::start_with(&idp.state.issuer, store, "").await
    }

    pub async fn start_with(issuer: &str, store: Store<'_>, extra: &str) -> Proxy {
        let p = Self::start_unready(issuer, store, extra).await;
        p.wait_ready().await;
        p
    }

    /// Starts with extra `[server]` keys (memory store).
    pub async fn start_with_server_keys(issuer: &str, server_keys: &str, extra: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let toml = config_toml(port, issuer, &Store::Memory, extra)
            .replace("[oidc]", &format!("{server_keys}[oidc]"));
        let p = Self::start_from(toml, listener);
        p.wait_ready().await;
        p
    }

    /// Starts without waiting for `/readyz` (for tests of the not-ready state).
    pub async fn start_unready(issuer: &str, store: Store<'_>, extra: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        Self::start_from(config_toml(port, issuer, &store, extra), listener)
    }

    fn start_from(toml: String, listener: TcpListener) -> Proxy {
        let port = listener.local_addr().expect("addr").port();
        let path = temp_file("toml", &toml);
        let config = Config::load(&path).expect("valid test config");
        let _ = std::fs::remove_file(&path);
        let running = vestibule::server::start_on(config, listener, None).expect("proxy starts");
        let handle = running.server.handle();
        actix_web::rt::spawn(running.server);
        Proxy {
            base: format!("http://127.0.0.1:{port}"),
            handle: Some(handle),
        }
    }

    /// A proxy running elsewhere (e.g. the binary in a child process).
    pub fn external(base: String) -> Proxy {
        Proxy { base, handle: None }
    }

    /// Readiness probe: `/readyz` 200, bounded.
    pub async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
                last = r.text().await.unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("proxy at {} never became ready: {last}", self.base);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(&self) {
        if let Some(h) = &self.handle {
            h.stop(true).await;
        }
    }
}

/// A cookie jar and a client that never follows redirects: enough of a browser for the flow.
pub struct Browser {
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub set_cookie_headers: Vec<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Well under the server's 5 s keep-alive: never reuse a connection it is closing.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        Browser {
            client,
            cookies: BTreeMap::new(),
            set_cookie_headers: Vec::new(),
        }
    }

    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        self.get_with(url, &[]).await
    }

    pub async fn get_with(&mut self, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.request(reqwest::Method::GET, url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// A request carrying this browser's cookies; finish it and pass it to [`Browser::send`].
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, url);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", cookie);
        }
        req
    }

    /// Sends and keeps the cookies the response sets.
    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let res = req.send().await.expect("request");
        for h in res.headers().get_all("set-cookie") {
            let raw = h.to_str().expect("ascii set-cookie").to_owned();
            let c = cookie::Cookie::parse(raw.clone()).expect("valid set-cookie");
            if c.max_age().is_some_and(|a| a.is_zero()) || c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
            self.set_cookie_headers.push(raw);
        }
        res
    }

    /// `GET /auth/session` with the anti-CSRF header.
    pub async fn session(&mut self, proxy: &Proxy) -> reqwest::Response {
        self.get_with(&proxy.url("/auth/session"), &[("x-csrf", "1")])
            .await
    }
}

/// What the proxy put into the authorization request.
pub struct LoginStart {
    pub state: String,
    pub nonce: String,
    pub challenge: String,
    pub redirect_uri: String,
    pub location: Url,
}

impl LoginStart {
    /// The IdP issues a code for this login, as if the user had signed in there.
    pub fn code(&self, idp: &TestIdp, tweak: Tweak) -> String {
        idp.issue_code(&self.nonce, &self.challenge, &self.redirect_uri, tweak)
    }
}

/// The IdP's redirect back: `GET /auth/callback?code=…&state=…`.
pub async fn call_back(
    b: &mut Browser,
    proxy: &Proxy,
    code: &str,
    state: &str,
) -> reqwest::Response {
    b.get(&callback_url(proxy, &[("code", code), ("state", state)]))
        .await
}

pub async fn start_login(b: &mut Browser, proxy: &Proxy, return_to: &str) -> LoginStart {
    let url = format!(
        "{}?return_to={}",
        proxy.url("/auth/login"),
        urlencode(return_to)
    );
    let res = b.get(&url).await;
    assert_eq!(res.status(), 302, "login must redirect to the IdP");
    let location =
        Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("absolute URL");
    let q: BTreeMap<String, String> = location.query_pairs().into_owned().collect();
    LoginStart {
        state: q["state"].clone(),
        nonce: q["nonce"].clone(),
        challenge: q["code_challenge"].clone(),
        redirect_uri: q["redirect_uri"].clone(),
        location,
    }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn callback_url(proxy: &Proxy, params: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{}?{q}", proxy.url("/auth/callback"))
}

/// Starts a login, lets the IdP issue a code (optionally with a tweak), and calls back.
pub async fn login(
    b: &mut Browser,
    proxy: &Proxy,
    idp: &TestIdp,
    tweak: Tweak,
    return_to: &str,
) -> reqwest::Response {
    let start = start_login(b, proxy, return_to).await;
    let code = start.code(idp, tweak);
    call_back(b, proxy, &code, &start.state).await
}

/// A new browser, signed in through the whole flow.
pub async fn signed_in(proxy: &Proxy, idp: &TestIdp) -> Browser {
    let mut b = Browser::new();
    let res = login(&mut b, proxy, idp, Tweak::None, "/").await;
    assert_eq!(res.status(), 302, "login completes");
    b
}

/// The proxy still answers `/healthz` (after a fault or a hostile request).
pub async fn assert_still_serving(proxy: &Proxy) {
    let res = reqwest::get(proxy.url("/healthz"))
        .await
        .expect("healthz answers");
    assert_eq!(res.status(), 200, "the proxy is still serving");
}

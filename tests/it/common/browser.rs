//! [`Browser`]: enough of a browser for the flow (a cookie jar and a client that follows no
//! redirects), with a method per endpoint it calls.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::idp::{TestIdp, Tweak};
use super::proxy::Proxy;

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
    /// Another browser holding this one's cookies as they are now: a stale copy (kept after a
    /// logout cleared them here) or a second client of the same session.
    pub fn copy(&self) -> Browser {
        let mut other = Browser::new();
        other.cookies = self.cookies.clone();
        other
    }
}

/// What the proxy put into the authorization request.
pub struct LoginStart {
    pub state: String,
    /// Empty with plain OAuth 2.0.
    pub nonce: String,
    pub challenge: String,
    pub redirect_uri: String,
    /// Where the browser was sent.
    pub location: Url,
    /// The authorization request's parameters: the URL's, or those pushed (PAR) for its
    /// `request_uri`.
    pub params: BTreeMap<String, String>,
}

impl LoginStart {
    /// The IdP issues a code for this login, as if the user had signed in there.
    pub fn code(&self, idp: &TestIdp, tweak: Tweak) -> String {
        idp.issue_code(&self.nonce, &self.challenge, &self.redirect_uri, tweak)
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::resolving(&[], std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// A browser that finds each of `hosts` at `addr` (names such as `a.localhost`).
    pub fn resolving(hosts: &[&str], addr: std::net::SocketAddr) -> Self {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Well under the server's 5 s keep-alive: never reuse a connection it is closing.
            .pool_idle_timeout(Duration::from_secs(2));
        for host in hosts {
            builder = builder.resolve(host, addr);
        }
        let client = builder.build().expect("client");
        Browser {
            client,
            cookies: BTreeMap::new(),
            set_cookie_headers: Vec::new(),
        }
    }

    /// A new browser, signed in through the whole flow.
    pub async fn signed_in(proxy: &Proxy, idp: &TestIdp) -> Browser {
        let mut b = Browser::new();
        let res = b.log_in(proxy, idp, Tweak::None, "/").await;
        assert_eq!(res.status(), 302, "login completes");
        b
    }

    /// A new browser signed in through the whole flow, sending a real browser's user agent (so
    /// the session list names its device).
    pub async fn signed_in_as_device(proxy: &Proxy, idp: &TestIdp) -> Browser {
        let mut b = Browser::new();
        let start = b.start_login(proxy, "/").await;
        let code = start.code(idp, Tweak::None);
        let req = b
            .request(
                reqwest::Method::GET,
                &proxy.callback_url(&[("code", &code), ("state", &start.state)]),
            )
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            );
        assert_eq!(b.send(req).await.status(), 302, "login completes");
        b
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

    /// The session cookie as a `Cookie` header value (`vestibule=<id>`), for other clients.
    pub fn session_cookie(&self) -> String {
        format!("vestibule={}", self.cookies["vestibule"])
    }

    /// `GET /auth/session` with the anti-CSRF header.
    pub async fn session(&mut self, proxy: &Proxy) -> reqwest::Response {
        self.get_with(&proxy.url("/auth/session"), &[("x-csrf", "1")])
            .await
    }

    /// `GET /auth/session` of a signed-in browser, as JSON.
    pub async fn session_info(&mut self, proxy: &Proxy) -> Value {
        let res = self.session(proxy).await;
        assert_eq!(res.status(), 200, "signed in");
        res.json().await.expect("json")
    }

    /// `GET /auth/sessions`: this user's live sessions.
    pub async fn sessions(&mut self, proxy: &Proxy) -> Vec<Value> {
        let res = self
            .get_with(&proxy.url("/auth/sessions"), &[("x-csrf", "1")])
            .await;
        assert_eq!(res.status(), 200, "the session list");
        let body: Value = res.json().await.expect("json");
        body["sessions"].as_array().expect("sessions").clone()
    }

    /// The handle of this browser's own session, from the list.
    pub async fn own_handle(&mut self, proxy: &Proxy) -> String {
        let list = self.sessions(proxy).await;
        let own = list.iter().find(|s| s["current"] == true).expect("current");
        own["handle"].as_str().expect("handle").to_owned()
    }

    /// `DELETE /auth/sessions/{handle}` with `headers`.
    pub async fn end_session(
        &mut self,
        proxy: &Proxy,
        handle: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let path = format!("/auth/sessions/{}", super::urlencode(handle));
        let mut req = self.request(reqwest::Method::DELETE, &proxy.url(&path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// `POST /auth/sessions/end-others` with the anti-CSRF header.
    pub async fn end_other_sessions(&mut self, proxy: &Proxy) -> reqwest::Response {
        let req = self
            .request(
                reqwest::Method::POST,
                &proxy.url("/auth/sessions/end-others"),
            )
            .header("x-csrf", "1");
        self.send(req).await
    }

    /// `GET /auth/events`, open.
    pub async fn events(&mut self, proxy: &Proxy) -> super::EventStream {
        let res = self
            .get_with(&proxy.url("/auth/events"), &[("x-csrf", "1")])
            .await;
        super::EventStream::new(res)
    }

    /// The session's `logout_url` (a path with the per-session token).
    pub async fn logout_url(&mut self, proxy: &Proxy) -> String {
        let info = self.session_info(proxy).await;
        info["logout_url"].as_str().expect("logout_url").to_owned()
    }

    /// An API call from the SPA: the anti-CSRF header, plus `extra` headers.
    pub async fn api_get(
        &mut self,
        proxy: &Proxy,
        path: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut headers = vec![("x-csrf", "1")];
        headers.extend_from_slice(extra);
        self.get_with(&proxy.url(path), &headers).await
    }

    /// An API call to the echo upstream: what reached it (method, path, headers…).
    pub async fn api_seen(&mut self, proxy: &Proxy, path: &str, extra: &[(&str, &str)]) -> Value {
        let res = self.api_get(proxy, path, extra).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json().await.expect("the echo's JSON")
    }

    /// `n` API calls at once with this browser's session (if any), spread over `proxies` (replicas):
    /// each call's status and the `Authorization` the upstream (an echo) saw.
    pub async fn concurrent_api_calls(
        &self,
        proxies: &[&Proxy],
        path: &str,
        n: usize,
    ) -> Vec<(u16, String)> {
        // Signed in or not.
        let cookie = self
            .cookies
            .get("vestibule")
            .map(|v| format!("vestibule={v}"));
        let mut tasks = Vec::new();
        for i in 0..n {
            let mut req = self
                .client
                .get(proxies[i % proxies.len()].url(path))
                .header("x-csrf", "1");
            if let Some(c) = &cookie {
                req = req.header("cookie", c.clone());
            }
            tasks.push(tokio::spawn(async move {
                let res = req.send().await.expect("request");
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                let bearer = body["headers"]["authorization"]
                    .as_str()
                    .unwrap_or_default();
                (status, bearer.to_owned())
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("join"));
        }
        out
    }

    /// `GET /auth/login?return_to=…`: must redirect to the IdP; returns what it asked there.
    pub async fn start_login(&mut self, proxy: &Proxy, return_to: &str) -> LoginStart {
        let path = format!("/auth/login?return_to={}", super::urlencode(return_to));
        self.start_login_at(proxy, &path).await
    }

    /// `GET` of a login URL Vestibule handed out (a step-up's `login_url`): must redirect to the
    /// IdP; returns what it asked there.
    pub async fn start_login_at(&mut self, proxy: &Proxy, path_and_query: &str) -> LoginStart {
        let res = self.get(&proxy.url(path_and_query)).await;
        assert_eq!(res.status(), 302, "login must redirect to the IdP");
        let location =
            Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("absolute URL");
        let mut q: BTreeMap<String, String> = location.query_pairs().into_owned().collect();
        if let Some(request_uri) = q.get("request_uri") {
            // Pushed (RFC 9126): ask the test IdP what `/authorize` would find.
            let base = location
                .as_str()
                .split("/authorize?")
                .next()
                .expect("authorize URL");
            let pushed = format!(
                "{base}/par-requests?request_uri={}",
                super::urlencode(request_uri)
            );
            q = reqwest::get(pushed)
                .await
                .expect("pushed request")
                .json()
                .await
                .expect("pushed parameters");
        }
        LoginStart {
            state: q["state"].clone(),
            nonce: q.get("nonce").cloned().unwrap_or_default(),
            challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
            location,
            params: q,
        }
    }

    /// The IdP's redirect back: `GET /auth/callback?code=…&state=…`.
    pub async fn call_back(&mut self, proxy: &Proxy, code: &str, state: &str) -> reqwest::Response {
        self.get(&proxy.callback_url(&[("code", code), ("state", state)]))
            .await
    }

    /// Starts a login, lets the IdP issue a code (optionally with a tweak), and calls back.
    pub async fn log_in(
        &mut self,
        proxy: &Proxy,
        idp: &TestIdp,
        tweak: Tweak,
        return_to: &str,
    ) -> reqwest::Response {
        let start = self.start_login(proxy, return_to).await;
        let code = start.code(idp, tweak);
        self.call_back(proxy, &code, &start.state).await
    }

    /// Signs in at `proxy` with its provider `provider` (of an app of several), whose IdP is
    /// `idp`, through the whole flow.
    pub async fn log_in_with(&mut self, proxy: &Proxy, provider: &str, idp: &TestIdp) {
        let start = self
            .start_login_at(proxy, &format!("/auth/login?provider={provider}"))
            .await;
        let code = start.code(idp, Tweak::None);
        let res = self.call_back(proxy, &code, &start.state).await;
        assert_eq!(res.status(), 302, "login with {provider} completes");
    }

    /// Polls `url` (with this browser's cookies and `headers`) until it answers `status`, for
    /// at most `within`; false when it never did. A readiness probe, not a sleep.
    pub async fn wait_for(
        &mut self,
        url: &str,
        headers: &[(&str, &str)],
        status: u16,
        within: Duration,
    ) -> bool {
        self.wait_for_answer(url, headers, status, "", within).await
    }

    /// [`Browser::wait_for`] an answer whose body also contains `text`.
    pub async fn wait_for_answer(
        &mut self,
        url: &str,
        headers: &[(&str, &str)],
        status: u16,
        text: &str,
        within: Duration,
    ) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let mut req = self.request(reqwest::Method::GET, url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Ok(res) = req.send().await
                && res.status().as_u16() == status
                && (text.is_empty() || res.text().await.is_ok_and(|body| body.contains(text)))
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }
}

//! [`Proxy`]: a running Vestibule (in this process, or the binary in a child), with a method per
//! endpoint that needs no browser.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use serde_json::Value;

use super::http;

pub struct Proxy {
    pub base: String,
    /// The admin listener's base URL, when started with one.
    pub admin_base: Option<String>,
    /// The config it runs with (in process only).
    pub toml: String,
    /// `None` for a proxy running as a separate process.
    handle: Option<ServerHandle>,
}

/// The content type of a back-channel logout request.
pub const FORM: &str = "application/x-www-form-urlencoded";

impl Proxy {
    pub(super) fn in_process(
        base: String,
        admin_base: Option<String>,
        toml: String,
        handle: ServerHandle,
    ) -> Proxy {
        Proxy {
            base,
            admin_base,
            toml,
            handle: Some(handle),
        }
    }

    /// A proxy running elsewhere (the binary in a child process).
    pub fn external(base: String) -> Proxy {
        Proxy {
            base,
            admin_base: None,
            toml: String::new(),
            handle: None,
        }
    }

    /// An admin API call with this bearer token (`None`: without one).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        token: Option<&str>,
    ) -> reqwest::Response {
        let base = self
            .admin_base
            .as_deref()
            .expect("started with an admin listener");
        let mut req = reqwest::Client::new().request(method, format!("{base}{path_and_query}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("admin request")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `/auth/callback` with these query parameters, as an IdP would redirect back.
    pub fn callback_url(&self, params: &[(&str, &str)]) -> String {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{}?{q}", self.url("/auth/callback"))
    }

    /// Waits (bounded) until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let ready = http::wait_for(&self.url("/readyz"), 200, Duration::from_secs(15)).await;
        assert!(ready, "proxy at {} never became ready", self.base);
    }

    pub async fn healthz(&self) -> u16 {
        http::json(&self.url("/healthz")).await.0
    }

    pub async fn readyz(&self) -> (u16, Value) {
        http::json(&self.url("/readyz")).await
    }

    pub async fn metrics(&self) -> (u16, String) {
        http::text(&self.url("/metrics")).await
    }

    /// `POST /auth/backchannel-logout` with this body, as the IdP would (see [`logout_form`]).
    pub async fn backchannel_logout(&self, body: String, content_type: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url("/auth/backchannel-logout"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// `GET /auth/frontchannel-logout?{query}` with no cookie, as the IdP's iframe loads it in
    /// a browser that has none for this site (third-party cookies blocked, or another site).
    pub async fn frontchannel_logout(&self, query: &str) -> reqwest::Response {
        http::get(&self.frontchannel_logout_url(query), &[]).await
    }

    /// The front-channel logout URL with this query string (as given: tests send raw ones).
    pub fn frontchannel_logout_url(&self, query: &str) -> String {
        self.url(&format!("/auth/frontchannel-logout?{query}"))
    }

    /// The proxy still answers `/healthz` (after a fault or a hostile request).
    pub async fn assert_still_serving(&self) {
        assert_eq!(self.healthz().await, 200, "the proxy is still serving");
    }

    pub async fn stop(&self) {
        if let Some(h) = &self.handle {
            h.stop(true).await;
        }
    }
}

/// The form body of a back-channel logout carrying `token`.
pub fn logout_form(token: &str) -> String {
    format!("logout_token={}", super::urlencode(token))
}

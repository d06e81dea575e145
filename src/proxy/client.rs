//! The HTTP client for upstreams: hyper's, without reqwest's layers.
//!
//! A proxied call needs none of what reqwest adds (redirects, default headers, decompression,
//! URL parsing, a copy of the header map): with it, reqwest's own machinery was ~5 % of a call's
//! CPU. hyper-util's pooled client is what reqwest drives underneath; the IdP calls keep reqwest.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// A request body on its way upstream (streamed from the browser, or empty).
pub type UpstreamBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// One per actix worker: pooled keep-alive connections (HTTP/1.1, TLS with the webpki roots), no
/// redirects followed, bodies untouched. Each worker is a single-threaded runtime and a pooled
/// connection is driven by the runtime that opened it, so a shared pool would bounce every call
/// between threads.
pub struct UpstreamClient(Client<HttpsConnector<HttpConnector>, UpstreamBody>);

impl UpstreamClient {
    pub fn new() -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_timer(TokioTimer::new())
            .build(https);
        UpstreamClient(client)
    }

    pub async fn send(
        &self,
        request: http::Request<UpstreamBody>,
    ) -> Result<http::Response<Incoming>, hyper_util::client::legacy::Error> {
        self.0.request(request).await
    }
}

impl Default for UpstreamClient {
    fn default() -> Self {
        Self::new()
    }
}

/// No body.
pub fn empty() -> UpstreamBody {
    use http_body_util::BodyExt;
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}

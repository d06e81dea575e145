//! The HTTP client for upstreams.

use std::time::Duration;

/// One per actix worker: pooled keep-alive connections, no redirects followed, no decompression
/// (bodies pass through untouched). Each worker is a single-threaded runtime and a pooled
/// connection is driven by the runtime that opened it, so a shared pool would bounce every call
/// between threads.
pub struct UpstreamClient(pub reqwest::Client);

impl UpstreamClient {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        UpstreamClient(client)
    }
}

impl Default for UpstreamClient {
    fn default() -> Self {
        Self::new()
    }
}

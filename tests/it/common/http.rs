//! Plain HTTP helpers for tests that need no cookies: one request, its status and body, and one
//! poller (a readiness probe, never a sleep).

use std::time::Duration;

use serde_json::Value;

use super::browser::Browser;

/// A GET with these headers, from a fresh browser (no cookies, no redirects followed).
pub async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    Browser::new().get_with(url, headers).await
}

/// Status and body text.
pub async fn text(url: &str) -> (u16, String) {
    let res = get(url, &[]).await;
    (res.status().as_u16(), res.text().await.expect("body"))
}

/// Status and JSON body (`Null` when the body is not JSON).
pub async fn json(url: &str) -> (u16, Value) {
    let res = get(url, &[]).await;
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// Polls `url` until it answers `status`, for at most `within`; false when it never did.
pub async fn wait_for(url: &str, status: u16, within: Duration) -> bool {
    Browser::new().wait_for(url, &[], status, within).await
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

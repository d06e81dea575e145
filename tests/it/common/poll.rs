//! Waiting for a condition instead of sleeping for a guessed time: what is awaited is named, the
//! wait is bounded, and a loaded machine only makes it slower, never wrong.

use std::time::{Duration, Instant};

/// Checks `done` every 20 ms until it holds; panics naming `what` when it still does not after
/// `within` (a deadline, so that a broken feature fails the test instead of hanging it).
pub async fn eventually(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "never happened within {within:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

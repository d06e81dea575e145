//! The news that a session ended, to every replica: a `PUBLISH` on `vestibule:ended`, heard by
//! each replica's subscription, which drops the entries from its session cache.
//!
//! The replica that ends a session waits (at most [`ECHO_WAIT`]) until its own subscription has
//! heard the announcement: Redis writes a message to every subscriber at the same moment, so by
//! then the other replicas have it on their sockets too, and a user who signs out and reloads
//! on another replica is signed out there. When a subscription is lost, its replica trusts no
//! cached session until it is back (`Ended::Lost`, then `Ended::Live`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::connection::{Connections, Retry};
use crate::session::crypto;
use crate::session::store::Ended;
use crate::support::lock;

const CHANNEL: &str = "vestibule:ended";
/// Longest an ending request waits to hear its own announcement.
const ECHO_WAIT: Duration = Duration::from_millis(200);
/// Longest wait between attempts to subscribe again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

type Listener = Arc<dyn Fn(Ended) + Send + Sync>;

/// This replica's side of the channel.
pub(super) struct Announcer {
    /// Who we are on the channel (to know our own messages).
    replica: String,
    next: AtomicU64,
    /// Ending requests waiting to hear their announcement, by sequence number.
    waiting: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

impl Announcer {
    pub(super) fn new() -> Self {
        Self {
            replica: crypto::random_token(),
            next: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes `keys`, then waits (bounded) to hear it back.
    pub(super) async fn announce(
        &self,
        conns: &Connections,
        keys: &[String],
    ) -> redis::RedisResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let (heard, echo) = oneshot::channel();
        lock(&self.waiting).insert(seq, heard);
        // "<replica> <seq> <key> <key>…": keys are hex hashes in braces, never spaces.
        let message = format!("{} {seq} {}", self.replica, keys.join(" "));
        let sent = conns
            .run(Retry::Always, |mut c| {
                let message = &message;
                async move {
                    redis::cmd("PUBLISH")
                        .arg(CHANNEL)
                        .arg(message)
                        .query_async::<i64>(&mut c)
                        .await
                }
            })
            .await;
        if sent.is_ok() {
            let _ = tokio::time::timeout(ECHO_WAIT, echo).await;
        }
        lock(&self.waiting).remove(&seq);
        sent.map(|_| ())
    }

    /// A message heard on the channel: wakes our own waiting request, and returns the keys.
    fn heard(&self, message: &str) -> Vec<String> {
        let mut parts = message.split(' ');
        let (Some(replica), Some(seq)) = (parts.next(), parts.next()) else {
            return Vec::new();
        };
        if replica == self.replica
            && let Some(waiter) = seq
                .parse()
                .ok()
                .and_then(|s| lock(&self.waiting).remove(&s))
        {
            let _ = waiter.send(());
        }
        parts.map(str::to_owned).collect()
    }
}

/// Keeps a subscription for as long as the process lives, telling `on` what it hears.
pub(super) fn listen(conns: Arc<Connections>, announcer: Arc<Announcer>, on: Listener) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(50);
        let mut attempt = 0usize;
        loop {
            if let Ok(mut pubsub) = conns.pubsub(attempt).await
                && pubsub.subscribe(CHANNEL).await.is_ok()
            {
                backoff = Duration::from_millis(50);
                on(Ended::Live);
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Ok(text) = msg.get_payload::<String>() else {
                        continue;
                    };
                    let keys = announcer.heard(&text);
                    if !keys.is_empty() {
                        on(Ended::Keys(keys));
                    }
                }
                tracing::warn!(
                    "session-end subscription lost; the session cache is off until it is back"
                );
            }
            on(Ended::Lost);
            attempt += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

//! The news that a session ended (or changed), to every replica: a `PUBLISH` on
//! `vestibule:ended`, heard by each replica's subscription, which drops the entries from its
//! session cache and tells the SPA's event streams open there.
//!
//! Messages: `end <replica> <seq> reason=<why> <key>…`, `ack <replica> <seq>`, and
//! `claims <replica> <seq> <key>…` (not acked). Keys are hex hashes in braces, never spaces. A
//! replica of an older version reads `reason=…` as a key it does not hold, and skips `claims`.
//!
//! The replica that ends a session waits (at most [`ACK_WAIT`], for a replica that hangs) until every replica that
//! received the news has dropped the entries: each answers on the same channel once it has (an
//! "ack"), and `PUBLISH` says how many received it. Hearing the message is not enough: a replica
//! can have the news unread on its socket while it serves the user's next request from its
//! cache. So a user who signs out and reloads on another replica is signed out there. (In a
//! Cluster, `PUBLISH` counts only the subscribers of the node it was sent to; subscribers of
//! other nodes get the news as fast, but are not waited for.) When a subscription is lost, its
//! replica trusts no cached session until it is back (`Ended::Lost`, then `Ended::Live`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::watch;

use super::connection::{Connections, Retry};
use crate::crypto;
use crate::store::News;
use crate::support::lock;

const CHANNEL: &str = "vestibule:ended";
/// Longest an ending request waits for the other replicas to drop the session.
const ACK_WAIT: Duration = Duration::from_millis(500);
/// Longest wait between attempts to subscribe again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

type Listener = Arc<dyn Fn(News) + Send + Sync>;

/// This replica's side of the channel.
pub(super) struct Announcer {
    /// Who we are on the channel (to know our own messages and the acks meant for us).
    replica: String,
    next: AtomicU64,
    /// Ending requests waiting for acks, by sequence number: how many replicas have dropped the
    /// entries (ourselves included).
    waiting: Mutex<HashMap<u64, watch::Sender<i64>>>,
}

/// What a message on the channel asks of this replica.
#[derive(Default)]
struct Heard {
    /// Session keys to drop from the cache.
    ended: Vec<String>,
    /// Why they ended, when the message says.
    reason: Option<String>,
    /// Session keys whose claims changed.
    changed: Vec<String>,
    /// Sent by this replica.
    ours: bool,
    /// Once dropped, the ack owed to the replica that ended them: "ack <replica> <seq>".
    ack: Option<String>,
}

impl Announcer {
    pub(super) fn new() -> Self {
        Self {
            replica: crypto::random_token(),
            next: AtomicU64::new(0),
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes `keys`, then waits (bounded) until every replica that received them has acked.
    pub(super) async fn announce(
        &self,
        conns: &Connections,
        keys: &[String],
        reason: &str,
    ) -> redis::RedisResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let (dropped, mut acks) = watch::channel(0);
        lock(&self.waiting).insert(seq, dropped);
        let message = format!(
            "end {} {seq} reason={} {}",
            self.replica,
            reason,
            keys.join(" ")
        );
        let sent = publish(conns, &message).await;
        if let Ok(receivers) = sent {
            let _ = tokio::time::timeout(ACK_WAIT, acks.wait_for(|n| *n >= receivers)).await;
        }
        lock(&self.waiting).remove(&seq);
        sent.map(|_| ())
    }

    /// Publishes that `keys` changed; not waited for.
    pub(super) async fn announce_changed(
        &self,
        conns: &Connections,
        keys: &[String],
    ) -> redis::RedisResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let message = format!("claims {} {seq} {}", self.replica, keys.join(" "));
        publish(conns, &message).await.map(|_| ())
    }

    /// A message heard on the channel (see [`Heard`]).
    fn heard(&self, message: &str) -> Heard {
        let mut parts = message.split(' ');
        let (Some(kind), Some(replica), Some(seq)) = (parts.next(), parts.next(), parts.next())
        else {
            return Heard::default();
        };
        let ours = replica == self.replica;
        let mut reason = None;
        let ended = match kind {
            "end" => parts
                .filter(|p| match p.strip_prefix("reason=") {
                    Some(r) => {
                        reason = Some(r.to_owned());
                        false
                    }
                    None => true,
                })
                .map(str::to_owned)
                .collect(),
            "claims" => {
                return Heard {
                    changed: parts.map(str::to_owned).collect(),
                    ours,
                    ..Heard::default()
                };
            }
            "ack" if ours => Vec::new(),
            _ => return Heard::default(),
        };
        // Our own news (our cache dropped the entries before publishing) and acks for it count
        // towards the waiting request; others' news is acked once its entries are dropped.
        if ours {
            if let Some(waiter) = seq
                .parse()
                .ok()
                .and_then(|s| lock(&self.waiting).get(&s).cloned())
            {
                waiter.send_modify(|n| *n += 1);
            }
            return Heard {
                ended,
                reason,
                ours,
                ..Heard::default()
            };
        }
        Heard {
            ended,
            reason,
            ack: Some(format!("ack {replica} {seq}")),
            ..Heard::default()
        }
    }
}

/// `PUBLISH` on the channel; how many subscribers received the message.
async fn publish(conns: &Connections, message: &str) -> redis::RedisResult<i64> {
    conns
        .run(Retry::Always, |mut c| async move {
            redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(message)
                .query_async::<i64>(&mut c)
                .await
        })
        .await
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
                on(News::Live);
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Ok(text) = msg.get_payload::<String>() else {
                        continue;
                    };
                    let heard = announcer.heard(&text);
                    if !heard.ended.is_empty() {
                        on(News::Ended {
                            keys: heard.ended,
                            reason: heard.reason,
                            ours: heard.ours,
                        });
                    }
                    if !heard.changed.is_empty() {
                        on(News::Changed {
                            keys: heard.changed,
                            ours: heard.ours,
                        });
                    }
                    if let Some(ack) = heard.ack {
                        // Not awaited here: the subscription keeps reading meanwhile.
                        let conns = conns.clone();
                        tokio::spawn(async move { publish(&conns, &ack).await });
                    }
                }
                tracing::warn!(
                    "session-end subscription lost; the session cache is off until it is back"
                );
            }
            on(News::Lost);
            attempt += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

#[cfg(test)]
mod tests;

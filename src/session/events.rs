//! What the SPA hears about its session (`GET /auth/events`): ended (and why), claims changed.
//! Events are raised where sessions end or change; the [`EventHub`] hands them to the streams
//! open on this replica, and the store's channel carries them to the other replicas (see
//! `redis::invalidation`). A stream costs a map entry and a channel receiver here, and nothing in
//! the store: no stream polls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::support::lock;
use crate::telemetry::metrics::METRICS;

/// Why a session ended, as the SPA is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The user signed out here.
    Logout,
    /// The IdP ended the user's IdP session (OIDC Back-Channel Logout).
    BackchannelLogout,
    /// The user (from another device) or an operator ended it.
    Revoked,
    /// The IdP refused the session's refresh token.
    RefreshRefused,
    /// Idle or absolute timeout.
    Expired,
    /// A new login replaced it: in this browser (a step-up, a second sign-in), or the user's
    /// login past `session.max_per_user`.
    Replaced,
}

impl EndReason {
    pub const ALL: [EndReason; 6] = [
        EndReason::Logout,
        EndReason::BackchannelLogout,
        EndReason::Revoked,
        EndReason::RefreshRefused,
        EndReason::Expired,
        EndReason::Replaced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::BackchannelLogout => "backchannel_logout",
            EndReason::Revoked => "revoked",
            EndReason::RefreshRefused => "refresh_refused",
            EndReason::Expired => "expired",
            EndReason::Replaced => "replaced",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One event for the streams of one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    Ended(EndReason),
    ClaimsChanged,
}

/// Events a stream may have unread before it misses some (it then reads the latest).
const BACKLOG: usize = 8;

/// The open event streams of this replica, by session store key.
pub struct EventHub {
    streams: Mutex<HashMap<String, broadcast::Sender<SessionEvent>>>,
    /// Set at shutdown: every stream ends, so that none holds the drain up (clients reconnect,
    /// to another replica).
    closing: watch::Sender<bool>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            streams: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
        }
    }
}

impl EventHub {
    /// Hears the events of the session stored under `key` until the subscription is dropped.
    pub fn subscribe(self: &Arc<Self>, key: &str) -> Subscription {
        let mut streams = lock(&self.streams);
        let rx = match streams.get(key) {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = broadcast::channel(BACKLOG);
                streams.insert(key.to_owned(), tx);
                rx
            }
        };
        METRICS.event_streams.inc();
        Subscription {
            hub: self.clone(),
            key: key.to_owned(),
            rx,
            closing: self.closing.subscribe(),
        }
    }

    /// Ends every stream (at shutdown).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Tells the streams of `key` on this replica (if any).
    pub fn send(&self, key: &str, event: SessionEvent) {
        if let Some(tx) = lock(&self.streams).get(key) {
            let _ = tx.send(event);
        }
    }

    /// Open streams on this replica.
    pub fn open_streams(&self) -> usize {
        lock(&self.streams)
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }
}

/// One stream's hold on its session's events.
pub struct Subscription {
    hub: Arc<EventHub>,
    key: String,
    rx: broadcast::Receiver<SessionEvent>,
    closing: watch::Receiver<bool>,
}

impl Subscription {
    /// The next event; `None` at shutdown.
    pub async fn next(&mut self) -> Option<SessionEvent> {
        loop {
            tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(e) => return Some(e),
                    // Fell behind: the newer events are what matter.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.closing.wait_for(|closing| *closing) => return None,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        METRICS.event_streams.dec();
        let mut streams = lock(&self.hub.streams);
        // The last stream of this session (our receiver still counts): forget the session.
        if streams
            .get(&self.key)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            streams.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests;

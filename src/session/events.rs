//! What the SPA hears about its session (`GET /auth/events`): ended (and why), claims changed.
//! Events are raised where sessions end or change; the [`EventHub`] hands them to the streams open
//! on this replica, and the store's channel carries them to the other replicas (see
//! `store::redis::invalidation`). A stream costs a map entry and a channel receiver here, and
//! nothing in the store: no stream polls.
//!
//! The hub also keeps the budgets of every long-lived response (event streams and proxied
//! WebSockets, which hear their session's end here too): per session (a new stream closes the
//! oldest), per user and per process ([`StreamLimits`]). They never take `max_in_flight` slots,
//! so no number of open streams can refuse other requests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, oneshot, watch};

use crate::support::lock;
use crate::telemetry::metrics::METRICS;

/// Why a session ended, as the SPA is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// The user signed out here.
    Logout,
    /// The IdP ended the user's IdP session (OIDC Back-Channel Logout).
    BackchannelLogout,
    /// The IdP ended the user's IdP session, through the browser (OIDC Front-Channel Logout).
    FrontchannelLogout,
    /// The user (from another device) or an operator ended it.
    Revoked,
    /// The IdP refused the session's refresh token.
    RefreshRefused,
    /// Idle or absolute timeout.
    Expired,
    /// A new login replaced it: in this browser (a step-up, a second sign-in), or the user's
    /// login past `session.max_per_user`.
    Replaced,
    /// A reload removed the provider that signed it in.
    ConfigRemoved,
}

impl EndReason {
    pub const ALL: [EndReason; 8] = [
        EndReason::Logout,
        EndReason::BackchannelLogout,
        EndReason::FrontchannelLogout,
        EndReason::Revoked,
        EndReason::RefreshRefused,
        EndReason::Expired,
        EndReason::Replaced,
        EndReason::ConfigRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::BackchannelLogout => "backchannel_logout",
            EndReason::FrontchannelLogout => "frontchannel_logout",
            EndReason::Revoked => "revoked",
            EndReason::RefreshRefused => "refresh_refused",
            EndReason::Expired => "expired",
            EndReason::Replaced => "replaced",
            EndReason::ConfigRemoved => "config_removed",
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

/// How many long-lived responses (`/auth/events` streams, proxied WebSockets) may be open on
/// this replica: in all, per user, per session.
#[derive(Clone, Copy, Debug)]
pub struct StreamLimits {
    pub process: usize,
    pub per_user: usize,
    pub per_session: usize,
}

impl StreamLimits {
    pub fn from_config(server: &crate::config::ServerConfig) -> Self {
        StreamLimits {
            process: server.max_streams,
            per_user: server.max_streams_per_user,
            per_session: server.max_streams_per_session,
        }
    }
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamRefused {
    #[error("this user has {0} streams open here, the most allowed")]
    User(usize),
    #[error("this replica has {0} streams open, the most allowed")]
    Process(usize),
    /// A newer stream of the same session took this one's place before it was under way.
    #[error("a newer stream of this session took this one's place")]
    Superseded,
}

/// Whose a stream is: its session's store key and its user. Streams without a session (a
/// WebSocket on a route without the user's token) count only against the process.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub session_key: &'a str,
    pub sub: &'a str,
}

/// The open streams of one session.
struct Open {
    tx: broadcast::Sender<SessionEvent>,
    /// Oldest first: each stream's id and the sender that closes it.
    streams: VecDeque<(u64, oneshot::Sender<()>)>,
}

#[derive(Default)]
struct Streams {
    sessions: HashMap<String, Open>,
    users: HashMap<String, usize>,
    total: usize,
    next_id: u64,
}

impl Streams {
    /// Adds stream `id` to the streams of session `key` (closing the oldest first when it
    /// `replaces` it); the receiver of the session's events.
    fn join(
        &mut self,
        key: &str,
        id: u64,
        evict: oneshot::Sender<()>,
        replaces: bool,
    ) -> broadcast::Receiver<SessionEvent> {
        let open = self.sessions.entry(key.to_owned()).or_insert_with(|| Open {
            tx: broadcast::channel(BACKLOG).0,
            streams: VecDeque::new(),
        });
        if replaces && let Some((_, oldest)) = open.streams.pop_front() {
            // Its counts pass to the new stream; its drop finds itself gone.
            let _ = oldest.send(());
            METRICS.streams_superseded.inc();
        }
        open.streams.push_back((id, evict));
        open.tx.subscribe()
    }
}

/// The open streams of this replica, by session store key, and their budgets.
pub struct EventHub {
    limits: StreamLimits,
    streams: Mutex<Streams>,
    /// Set at shutdown: every stream ends, so that none holds the drain up (clients reconnect,
    /// to another replica).
    closing: watch::Sender<bool>,
}

impl EventHub {
    pub fn new(limits: StreamLimits) -> Self {
        Self {
            limits,
            streams: Mutex::new(Streams::default()),
            closing: watch::channel(false).0,
        }
    }

    /// Opens a stream: it hears the events of its owner's session until it is dropped, or until
    /// a newer stream of the same session closes it (past `per_session`). Refused past
    /// `per_user` or `process`.
    pub fn subscribe(
        self: &Arc<Self>,
        owner: Option<Owner<'_>>,
    ) -> Result<Subscription, StreamRefused> {
        let mut guard = lock(&self.streams);
        let s = &mut *guard;
        let replaces = self.admit(s, owner)?;
        let id = s.next_id;
        s.next_id += 1;
        let (evict_tx, evicted) = oneshot::channel();
        let evicted = owner.is_some().then_some(evicted);
        let rx = owner.map(|o| s.join(o.session_key, id, evict_tx, replaces));
        Ok(Subscription {
            hub: self.clone(),
            id,
            owner: owner.map(|o| (o.session_key.to_owned(), o.sub.to_owned())),
            rx,
            evicted,
            closing: self.closing.subscribe(),
        })
    }

    /// Whether a new stream of `owner` may open, counted against the user and the process when
    /// it may. True when it takes the place of its session's oldest stream (past its session's
    /// budget): that never counts against the user or the process.
    fn admit(&self, s: &mut Streams, owner: Option<Owner<'_>>) -> Result<bool, StreamRefused> {
        let of_session = owner
            .and_then(|o| s.sessions.get(o.session_key))
            .map_or(0, |open| open.streams.len());
        if owner.is_some() && of_session >= self.limits.per_session {
            return Ok(true);
        }
        if let Some(o) = owner {
            let user = s.users.get(o.sub).copied().unwrap_or(0);
            if user >= self.limits.per_user {
                METRICS.streams_refused.with_label_values(&["user"]).inc();
                return Err(StreamRefused::User(user));
            }
        }
        if s.total >= self.limits.process {
            METRICS
                .streams_refused
                .with_label_values(&["process"])
                .inc();
            return Err(StreamRefused::Process(s.total));
        }
        s.total += 1;
        if let Some(o) = owner {
            *s.users.entry(o.sub.to_owned()).or_insert(0) += 1;
        }
        METRICS.event_streams.inc();
        Ok(false)
    }

    /// Ends every stream (at shutdown).
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Tells the streams of `key` on this replica (if any).
    pub fn send(&self, key: &str, event: SessionEvent) {
        if let Some(open) = lock(&self.streams).sessions.get(key) {
            let _ = open.tx.send(event);
        }
    }

    /// Open streams on this replica.
    pub fn open_streams(&self) -> usize {
        lock(&self.streams).total
    }
}

/// One stream's hold on its session's events and on its budgets.
pub struct Subscription {
    hub: Arc<EventHub>,
    id: u64,
    /// Session store key and user.
    owner: Option<(String, String)>,
    rx: Option<broadcast::Receiver<SessionEvent>>,
    /// Told when a newer stream of the session takes this one's place (none without a session).
    evicted: Option<oneshot::Receiver<()>>,
    closing: watch::Receiver<bool>,
}

impl Subscription {
    /// The next event; `None` when the stream must end: at shutdown, or when a newer stream of
    /// its session took its place.
    pub async fn next(&mut self) -> Option<SessionEvent> {
        let Subscription {
            rx,
            evicted,
            closing,
            ..
        } = self;
        loop {
            let event = async {
                match rx {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            let superseded = async {
                match evicted {
                    Some(e) => match e.await {
                        Ok(()) => {}
                        // No sender (an ownerless stream has none): nothing can close it.
                        Err(_) => {
                            *evicted = None;
                            std::future::pending::<()>().await;
                        }
                    },
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = event => match r {
                    Ok(e) => return Some(e),
                    // Fell behind: the newer events are what matter.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                () = superseded => return None,
                _ = closing.wait_for(|closing| *closing) => return None,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut guard = lock(&self.hub.streams);
        let s = &mut *guard;
        let counted = match &self.owner {
            None => true,
            Some((key, sub)) => {
                let mut found = false;
                if let Some(open) = s.sessions.get_mut(key) {
                    let before = open.streams.len();
                    open.streams.retain(|(id, _)| *id != self.id);
                    found = open.streams.len() < before;
                    // The last stream of this session: forget the session.
                    if open.streams.is_empty() {
                        s.sessions.remove(key);
                    }
                }
                if found && let Some(n) = s.users.get_mut(sub) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        s.users.remove(sub);
                    }
                }
                found
            }
        };
        // A superseded stream's counts went to the stream that replaced it.
        if counted {
            s.total = s.total.saturating_sub(1);
            METRICS.event_streams.dec();
        }
    }
}

#[cfg(test)]
mod tests;

//! `GET /auth/events`: a Server-Sent Events stream telling the SPA about its own session:
//! `session_expiring` (`session.expiry_notice` before its idle or absolute end, with the seconds
//! left), `session_ended` (with why: `logout`, `backchannel_logout`, `frontchannel_logout`,
//! `revoked`, `refresh_refused`, `expired`, `replaced`) and `claims_changed`. The CSRF rules are `/auth/session`'s, so the SPA
//! reads it with `fetch` (an `EventSource` cannot send the header).
//!
//! A stream costs almost nothing while it waits: it hears ended and changed sessions from the
//! replica's [`EventHub`](crate::session::EventHub) (which the store's channel feeds from the
//! other replicas), sends a comment every [`KEEP_ALIVE`] so that proxies keep the connection,
//! and reads the store only when the session is due to expire (one `PTTL`, never a slide).
//! Opening the stream, its keep-alives and those reads are not activity: they never extend the
//! idle timeout.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::Stream;
use serde_json::json;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

use super::AuthError;
use super::session_info::signed_in;
use crate::CurrentApp;
use crate::session::{EndReason, Owner, SessionEvent, SessionManager, Slide, events::Subscription};
use crate::support::now_unix;

/// How often an idle stream sends a comment line.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// When the store cannot answer a due expiry check, the next try.
const RETRY_CHECK: Duration = Duration::from_secs(5);

/// `GET /auth/events`.
pub async fn events(state: CurrentApp, req: HttpRequest) -> Result<HttpResponse, AuthError> {
    // Opening a stream is not activity either: the client reopens it by itself (after a
    // restart, a dropped connection), and a tab left open must not keep a session alive for
    // ever. The page's own calls are what slide it.
    let (id, session) = signed_in(&state, &req, Slide::No).await?;
    let sessions = state.sessions.clone();
    let key = sessions.session_key(&id);
    let subscription = sessions.events().subscribe(Some(Owner {
        session_key: &key,
        sub: &session.sub,
    }))?;
    let absolute_end = sessions.absolute_end(&session);
    // Not slid: the idle end is the store's, not "now + idle timeout".
    let end = sessions
        .idle_end(&id)
        .await?
        .ok_or(AuthError::Unauthenticated)?
        .min(absolute_end);
    let watch = Watch {
        sessions,
        id,
        absolute_end,
        notice: state.config.session.expiry_notice.as_secs() as i64,
        subscription,
        check: Box::pin(sleep_until(check_at(
            end,
            state.config.session.expiry_notice,
        ))),
        keep_alive: Box::pin(sleep(KEEP_ALIVE)),
        warned: false,
        done: false,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // nginx and others buffer responses unless told not to.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream(watch)))
}

/// One stream's state.
struct Watch {
    sessions: Arc<SessionManager>,
    id: String,
    absolute_end: i64,
    notice: i64,
    subscription: Subscription,
    /// When to look at the session's expiry next.
    check: Pin<Box<Sleep>>,
    keep_alive: Pin<Box<Sleep>>,
    /// `session_expiring` was sent for the current end.
    warned: bool,
    done: bool,
}

/// The instant `notice` before `end` (unix seconds).
fn check_at(end: i64, notice: Duration) -> Instant {
    let secs = end
        .saturating_sub(now_unix())
        .saturating_sub(notice.as_secs() as i64);
    Instant::now() + Duration::from_secs(u64::try_from(secs.max(0)).unwrap_or(0))
}

fn event(name: &str, data: serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

fn ended(reason: EndReason) -> Bytes {
    event("session_ended", json!({ "reason": reason.as_str() }))
}

fn stream(watch: Watch) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    // The first chunk (a retry hint) sends the headers at once.
    let opening = futures_util::stream::once(async { Ok(Bytes::from_static(b"retry: 3000\n\n")) });
    let rest = futures_util::stream::unfold(watch, |mut w| async move {
        if w.done {
            return None;
        }
        let chunk = next_chunk(&mut w).await;
        Some((Ok(chunk), w))
    });
    futures_util::StreamExt::chain(opening, rest)
}

/// Waits for the next thing to tell the SPA.
async fn next_chunk(w: &mut Watch) -> Bytes {
    loop {
        tokio::select! {
            e = w.subscription.next() => match e {
                Some(SessionEvent::Ended(reason)) => {
                    w.done = true;
                    return ended(reason);
                }
                Some(SessionEvent::ClaimsChanged) => return event("claims_changed", json!({})),
                None => {
                    w.done = true;
                    return Bytes::new();
                }
            },
            () = &mut w.keep_alive => {
                w.keep_alive.as_mut().reset(Instant::now() + KEEP_ALIVE);
                return Bytes::from_static(b": keep-alive\n\n");
            }
            () = &mut w.check => {
                if let Some(chunk) = check_expiry(w).await {
                    return chunk;
                }
            }
        }
    }
}

/// The session's end is near: warn once, or tell that it ended, or (used meanwhile) wait for its
/// new end.
async fn check_expiry(w: &mut Watch) -> Option<Bytes> {
    let idle_end = match w.sessions.idle_end(&w.id).await {
        Ok(end) => end,
        Err(_) => {
            w.check.as_mut().reset(Instant::now() + RETRY_CHECK);
            return None;
        }
    };
    let now = now_unix();
    let Some(idle_end) = idle_end.filter(|_| w.absolute_end > now) else {
        w.done = true;
        return Some(ended(EndReason::Expired));
    };
    let (end, kind) = if idle_end < w.absolute_end {
        (idle_end, "idle")
    } else {
        (w.absolute_end, "absolute")
    };
    if end - now > w.notice {
        // Used since: the end moved away.
        w.warned = false;
        w.check
            .as_mut()
            .reset(check_at(end, Duration::from_secs(w.notice as u64)));
        return None;
    }
    // Look again just after the end (or when it moved).
    w.check.as_mut().reset(check_at(end + 1, Duration::ZERO));
    if w.warned {
        return None;
    }
    w.warned = true;
    // The seconds left as well as the instant: a browser's clock may be off.
    Some(event(
        "session_expiring",
        json!({ "expires_at": end, "expires_in": (end - now).max(0), "reason": kind }),
    ))
}

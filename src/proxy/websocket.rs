//! WebSocket upgrades on API routes: the browser side is accepted with `actix-ws`, the upstream
//! side is opened with `tokio-tungstenite` carrying the bearer token, and messages are pumped both
//! ways until either side closes.
//!
//! Browsers cannot add custom headers to a WebSocket handshake, so instead of the anti-CSRF header
//! an upgrade on an API route must come from a page of our own origin (`csrf::check_websocket`).

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::AggregatedMessage;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request as UpstreamRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use std::time::Duration;

use super::token::{Bearer, bearer_for};
use super::{ProxyError, Route, headers, identity};
use crate::CurrentApp;
use crate::session::events::Subscription;
use crate::session::{EndReason, Owner, SessionEvent, StreamRefused};
use crate::support::now_unix;
use crate::{AppState, csrf};

/// Largest message relayed (continuation frames are aggregated up to this size).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// A WebSocket upgrade request (RFC 6455 4.1: `Upgrade: websocket` and `Connection: upgrade`).
pub fn is_upgrade(h: &actix_web::http::header::HeaderMap) -> bool {
    let has = |name: actix_web::http::header::HeaderName, token: &str| {
        h.get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has(actix_web::http::header::UPGRADE, "websocket")
        && has(actix_web::http::header::CONNECTION, "upgrade")
}

/// A WebSocket upgrade on a route: the browser side is accepted only once the upstream side is up.
pub async fn proxy(
    req: HttpRequest,
    payload: web::Payload,
    state: CurrentApp,
    route: &Route,
    prefix_end: usize,
) -> Result<HttpResponse, ProxyError> {
    if route.csrf {
        csrf::check_websocket(&state.config, &req)?;
    }
    let token = bearer_for(&state, &req, route).await?;
    let signed = identity::for_call(&state, &req, route, token.as_ref()).await?;
    let (mut subscription, deadline) = subscribe(&state, token.as_ref())?;
    let upstream_req = upstream_request(&state, &req, route, prefix_end, (token.as_ref(), signed))?;
    let connect = tokio::time::timeout(
        route.timeout,
        tokio_tungstenite::connect_async(upstream_req),
    );
    // While the upstream is slow to answer, the upgrade already holds its stream's place: a
    // newer stream of the session, or the session's end, stops it too.
    let (upstream, upstream_resp) = tokio::select! {
        r = connect => match r {
            Err(_) => return Err(ProxyError::Timeout(route.timeout)),
            Ok(Err(e)) => return Err(ProxyError::unreachable(e)),
            Ok(Ok(pair)) => pair,
        },
        ended = closed(&mut subscription) => return Err(match ended {
            Some(_) => ProxyError::Unauthenticated,
            None => ProxyError::Streams(StreamRefused::Superseded),
        }),
    };
    let protocol = upstream_resp
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let protocols: Vec<&str> = protocol.iter().map(String::as_str).collect();
    let (response, session, browser) = actix_ws::handle_with_protocols(&req, payload, &protocols)
        .map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    actix_web::rt::spawn(pump(session, browser, upstream, subscription, deadline));
    Ok(response)
}

/// The relay holds a stream budget, and hears its session end (logout, revocation, a
/// back-channel logout, on any replica) or reach its absolute timeout (the deadline returned).
fn subscribe(
    state: &AppState,
    token: Option<&Bearer>,
) -> Result<(Subscription, Option<tokio::time::Instant>), ProxyError> {
    match token {
        Some(Bearer::User {
            session_id,
            session,
            ..
        }) => {
            let key = state.sessions.session_key(session_id);
            let owner = Owner {
                session_key: &key,
                sub: &session.sub,
            };
            let end = state.sessions.absolute_end(session);
            let left = u64::try_from(end.saturating_sub(now_unix())).unwrap_or(0);
            Ok((
                state.sessions.events().subscribe(Some(owner))?,
                Some(tokio::time::Instant::now() + Duration::from_secs(left)),
            ))
        }
        _ => Ok((state.sessions.events().subscribe(None)?, None)),
    }
}

/// The upstream handshake request: the route's `ws(s)://` URL, the browser's headers cleaned
/// and forwarded as for any API call, the bearer token added.
fn upstream_request(
    state: &AppState,
    req: &HttpRequest,
    route: &Route,
    prefix_end: usize,
    (token, signed): (Option<&Bearer>, Option<http::HeaderValue>),
) -> Result<UpstreamRequest, ProxyError> {
    let http_url = route.upstream_url(req.uri().path(), prefix_end, req.uri().query())?;
    let ws_url = match http_url.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some((_, rest)) => format!("ws://{rest}"),
        None => return Err(ProxyError::BadRequest("upstream URL".into())),
    };
    let mut upstream_req = ws_url
        .into_client_request()
        .map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    let mut hdrs = headers::upstream_request(req.headers());
    // tungstenite makes its own handshake; pass on only the subprotocol choice.
    for h in [
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    ] {
        hdrs.remove(h);
    }
    headers::add_forwarding(
        &mut hdrs,
        &state.config,
        req,
        token.and_then(Bearer::value),
        &route.extra_headers,
    );
    identity::apply(&mut hdrs, route, signed);
    upstream_req.headers_mut().extend(hdrs);
    Ok(upstream_req)
}

/// Waits until the stream must end: its session's end (`Some`), or shutdown or a newer stream
/// of the session (`None`).
async fn closed(subscription: &mut Subscription) -> Option<EndReason> {
    loop {
        match subscription.next().await {
            Some(SessionEvent::ClaimsChanged) => continue,
            Some(SessionEvent::Ended(reason)) => return Some(reason),
            None => return None,
        }
    }
}

type Upstream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type UpstreamSink = futures_util::stream::SplitSink<Upstream, Message>;

/// Why the relay ends, and so how each side is closed.
enum Ending {
    /// The browser closed (with its frame, if any) or went away: the upstream is closed alike.
    Browser(Option<CloseFrame>),
    /// The upstream closed (with its reason, if any) or went away: the browser is closed alike.
    Upstream(Option<actix_ws::CloseReason>),
    /// The upstream no longer takes messages: only the browser is left to close.
    UpstreamGone,
    /// The browser no longer takes messages: only the upstream is left to close.
    BrowserGone,
    /// The session ended or expired, or a newer stream took its place: both sides get 1008.
    Policy(&'static str),
}

/// Relays messages both ways until one side closes or fails, then closes the other; or until
/// the session ends or reaches `deadline` (its absolute end), or a newer stream of the session
/// takes its place: then both sides are closed with 1008 (policy).
async fn pump(
    mut session: actix_ws::Session,
    browser: actix_ws::MessageStream,
    upstream: Upstream,
    mut subscription: Subscription,
    deadline: Option<tokio::time::Instant>,
) {
    let expired = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    let mut browser = browser
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    let (mut up_tx, mut up_rx) = upstream.split();
    let ending = loop {
        let ending = tokio::select! {
            ended = closed(&mut subscription) => {
                Some(Ending::Policy(ended.map_or("stream closed", EndReason::as_str)))
            }
            () = &mut expired => Some(Ending::Policy(EndReason::Expired.as_str())),
            msg = browser.next() => to_upstream(msg, &mut up_tx).await,
            msg = up_rx.next() => to_browser(msg, &mut session).await,
        };
        if let Some(ending) = ending {
            break ending;
        }
    };
    close(ending, session, up_tx).await;
}

/// Passes one browser message on to the upstream; `Some` when the relay ends.
async fn to_upstream(
    msg: Option<Result<AggregatedMessage, actix_ws::ProtocolError>>,
    up_tx: &mut UpstreamSink,
) -> Option<Ending> {
    let out = match msg {
        Some(Ok(AggregatedMessage::Text(t))) => Message::Text(t.to_string().into()),
        Some(Ok(AggregatedMessage::Binary(b))) => Message::Binary(b),
        Some(Ok(AggregatedMessage::Ping(b))) => Message::Ping(b),
        Some(Ok(AggregatedMessage::Pong(b))) => Message::Pong(b),
        Some(Ok(AggregatedMessage::Close(reason))) => {
            return Some(Ending::Browser(reason.map(|r| CloseFrame {
                code: CloseCode::from(u16::from(r.code)),
                reason: r.description.unwrap_or_default().into(),
            })));
        }
        Some(Err(_)) | None => return Some(Ending::Browser(None)),
    };
    up_tx.send(out).await.err().map(|_| Ending::UpstreamGone)
}

/// Passes one upstream message on to the browser; `Some` when the relay ends.
async fn to_browser(
    msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    session: &mut actix_ws::Session,
) -> Option<Ending> {
    let sent = match msg {
        Some(Ok(Message::Text(t))) => session.text(t.as_str().to_owned()).await,
        Some(Ok(Message::Binary(b))) => session.binary(b).await,
        Some(Ok(Message::Ping(b))) => session.ping(&b).await,
        Some(Ok(Message::Pong(b))) => session.pong(&b).await,
        Some(Ok(Message::Frame(_))) => Ok(()),
        Some(Ok(Message::Close(frame))) => {
            return Some(Ending::Upstream(frame.map(|f| actix_ws::CloseReason {
                code: u16::from(f.code).into(),
                description: Some(f.reason.as_str().to_owned()).filter(|d| !d.is_empty()),
            })));
        }
        Some(Err(_)) | None => return Some(Ending::Upstream(None)),
    };
    sent.err().map(|_| Ending::BrowserGone)
}

/// Closes what is left of both sides, as `ending` says.
async fn close(ending: Ending, session: actix_ws::Session, mut up_tx: UpstreamSink) {
    match ending {
        Ending::Browser(frame) => {
            let _ = up_tx.send(Message::Close(frame)).await;
            let _ = session.close(None).await;
        }
        Ending::Upstream(reason) => {
            let _ = session.close(reason).await;
        }
        Ending::UpstreamGone => {
            let _ = session.close(None).await;
        }
        Ending::BrowserGone => {
            let _ = up_tx.send(Message::Close(None)).await;
        }
        Ending::Policy(why) => {
            tracing::info!(why, "websocket closed: its session ended");
            let _ = up_tx
                .send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Policy,
                    reason: why.into(),
                })))
                .await;
            let _ = session
                .close(Some(actix_ws::CloseReason {
                    code: actix_ws::CloseCode::Policy,
                    description: Some(why.to_owned()),
                }))
                .await;
        }
    }
}

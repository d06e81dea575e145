//! Forwarding one HTTP call upstream, streaming the request and response bodies with
//! back-pressure (nothing is buffered beyond a few chunks). A call without a body whose token the
//! upstream refuses (401 `invalid_token`) is sent once more with a refreshed token; a call with a
//! body cannot be: its body is already gone upstream, and the 401 is passed on.

use std::time::Instant;

use actix_web::body::{BodyStream, BoxBody, SizedStream};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tracing::Instrument;

use super::client::{self, UpstreamBody};
use super::router::Routed;
use super::token::{self, Bearer, bearer_for};
use super::{ProxyError, Route, UpstreamClient, headers, identity, websocket};
use crate::CurrentApp;
use crate::telemetry::{RouteLabel, traces};
use crate::{AppState, csrf};

/// Chunks in flight between the browser's request body and the upstream connection.
const BODY_CHANNEL_CHUNKS: usize = 4;
/// Responses of known length up to this size are relayed in one piece (fewer wakeups for the
/// typical small JSON answer); larger or unknown-length bodies stream.
const SMALL_BODY: u64 = 64 * 1024;

/// Every API path (the route chosen by the scope's guard, see `Router`): the path's and the
/// method's checks, CSRF rules, token, then the call upstream (or a WebSocket upgrade).
pub async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    state: CurrentApp,
    client: web::Data<UpstreamClient>,
) -> Result<HttpResponse, ProxyError> {
    let Some(routed) = req.extensions_mut().remove::<Routed>() else {
        return Err(ProxyError::NoRoute);
    };
    req.extensions_mut()
        .insert(RouteLabel(routed.route.metrics.clone()));
    let prefix_end = routed.verdict?;
    relay(req, payload, state, &routed.route, prefix_end, client).await
}

/// Everything else, when the SPA is a dev server: no route to choose, its own checks only.
pub async fn forward_spa(
    req: HttpRequest,
    payload: web::Payload,
    state: CurrentApp,
    client: web::Data<UpstreamClient>,
) -> Result<HttpResponse, ProxyError> {
    let Some(route) = state.spa_upstream.clone() else {
        return Err(ProxyError::NoRoute);
    };
    req.extensions_mut()
        .insert(RouteLabel(route.metrics.clone()));
    relay(req, payload, state, &route, 0, client).await
}

/// One call on `route`, whose prefix ends at `prefix_end` in the request's path.
async fn relay(
    req: HttpRequest,
    payload: web::Payload,
    state: CurrentApp,
    route: &Route,
    prefix_end: usize,
    client: web::Data<UpstreamClient>,
) -> Result<HttpResponse, ProxyError> {
    route.check_method(req.method())?;
    if websocket::is_upgrade(req.headers()) {
        // Boxed, as the rare paths below: an inline future makes every request's larger.
        return Box::pin(websocket::proxy(req, payload, state, route, prefix_end)).await;
    }
    if route.csrf {
        csrf::check_call(&state.config, &req)?;
    }
    if let (Some(limit), Some(declared)) = (route.max_body, declared_length(&req))
        && declared > limit
    {
        return Err(ProxyError::BodyTooLarge(limit));
    }
    let token = bearer_for(&state, &req, route).await?;
    let signed = match &route.identity {
        // Boxed: a route without an identity keeps the smaller future.
        Some(_) => Box::pin(identity::for_call(&state, &req, route, token.as_ref())).await?,
        None => None,
    };
    let bearer = token.as_ref().and_then(Bearer::value);
    let (mut upstream, span) =
        upstream_request(&req, &state, route, prefix_end, (bearer, signed.clone()))?;
    let with_body = has_body(&req);
    let response = if with_body {
        let (body, fault) = bridge(payload, route.max_body);
        *upstream.body_mut() = body;
        send_streaming(&client, upstream, route, &span, fault).await?
    } else {
        send(&client, upstream, route, Instant::now(), &span).await?
    };
    let response = match token {
        Some(old)
            if response.status() == http::StatusCode::UNAUTHORIZED
                && !with_body
                && token::rejects_token(response.headers()) =>
        {
            retried(&req, &state, route, prefix_end, &client, (&old, signed))
                .await?
                .unwrap_or(response)
        }
        _ => response,
    };
    downstream(&state, response).await
}

/// Sends a call whose body streams from the browser. The body bridge tells when the browser's
/// body breaks the route's limit or the framing: the call ends then, without the upstream's
/// answer.
async fn send_streaming(
    client: &UpstreamClient,
    upstream: http::Request<UpstreamBody>,
    route: &Route,
    span: &tracing::Span,
    fault: tokio::sync::oneshot::Receiver<BodyFault>,
) -> Result<http::Response<hyper::body::Incoming>, ProxyError> {
    let sent = Instant::now();
    let body_fault = async {
        match fault.await {
            Ok(f) => f,
            // The body was sent whole: only the upstream's answer matters now.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        r = send(client, upstream, route, sent, span) => r,
        f = body_fault => Err(match f {
            BodyFault::TooLarge => ProxyError::BodyTooLarge(route.max_body.unwrap_or_default()),
            BodyFault::Malformed(e) => ProxyError::MalformedBody(e),
        }),
    }
}

/// The call sent once more with a refreshed token, after the upstream refused `old`; `None`
/// when there is no fresher token to send.
async fn retried(
    req: &HttpRequest,
    state: &AppState,
    route: &Route,
    prefix_end: usize,
    client: &UpstreamClient,
    (old, signed): (&Bearer<'_>, Option<http::HeaderValue>),
) -> Result<Option<http::Response<hyper::body::Incoming>>, ProxyError> {
    // Boxed, as the upgrade above: a rare path whose inline future would enlarge every call's.
    let Some(fresh) = Box::pin(token::refreshed(state, route, old)).await? else {
        return Ok(None);
    };
    let (again, span) = upstream_request(req, state, route, prefix_end, (fresh.value(), signed))?;
    send(client, again, route, Instant::now(), &span)
        .await
        .map(Some)
}

/// The browser's response: the upstream's status and headers after hygiene (never a cookie of
/// Vestibule's own names), its body in one piece when small and of known length, else streamed.
async fn downstream(
    state: &AppState,
    response: http::Response<hyper::body::Incoming>,
) -> Result<HttpResponse, ProxyError> {
    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let length = http_body::Body::size_hint(response.body()).exact();
    let cookies = state.sessions.cookies();
    let own = [cookies.session_name(), cookies.login_name()];
    let (parts, incoming) = response.into_parts();
    let body = match length {
        Some(n) if n <= SMALL_BODY => match incoming.collect().await {
            Ok(whole) => BoxBody::new(whole.to_bytes()),
            Err(e) => return Err(ProxyError::unreachable(e)),
        },
        Some(n) => BoxBody::new(SizedStream::new(n, incoming.into_data_stream())),
        None => BoxBody::new(BodyStream::new(incoming.into_data_stream())),
    };
    let mut out = HttpResponse::with_body(status, body);
    // Into the response's own map: actix takes its head from a pool, map and all; a map of our
    // own in its place was one more to allocate, and to clear when the head went back.
    headers::downstream_response(&parts.headers, &own, out.headers_mut());
    Ok(out)
}

/// The upstream request, without its body: method, URL, the browser's headers after hygiene,
/// and Vestibule's own (the bearer token and the signed identity among them); and the span of
/// the call (kind `client`; its context is what the request's `traceparent` carries when traces
/// are on).
fn upstream_request(
    req: &HttpRequest,
    state: &AppState,
    route: &Route,
    prefix_end: usize,
    (bearer, signed): (Option<&str>, Option<http::HeaderValue>),
) -> Result<(http::Request<UpstreamBody>, tracing::Span), ProxyError> {
    let url = route.upstream_url(req.uri().path(), prefix_end, req.uri().query())?;
    let uri = http::Uri::try_from(url).map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    let mut headers = headers::upstream_request(req.headers());
    headers::add_forwarding(
        &mut headers,
        &state.config,
        req,
        bearer,
        &route.extra_headers,
    );
    identity::apply(&mut headers, route, signed);
    let method = http::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|e| ProxyError::BadRequest(e.to_string()))?;
    let span = traces::client_span(&method, method.as_str(), &uri);
    traces::inject(&span, &mut headers);
    let mut request = http::Request::new(client::empty());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok((request, span))
}

/// Sends, waiting at most the route's timeout for the response headers.
async fn send(
    client: &UpstreamClient,
    upstream: http::Request<UpstreamBody>,
    route: &Route,
    sent: Instant,
    span: &tracing::Span,
) -> Result<http::Response<hyper::body::Incoming>, ProxyError> {
    let response = tokio::time::timeout(route.timeout, client.send(upstream))
        .instrument(span.clone())
        .await;
    match &response {
        Ok(Ok(r)) => traces::record_status(span, r.status().as_u16()),
        _ => traces::record_failure(span),
    }
    route
        .metrics
        .upstream_seconds
        .observe(sent.elapsed().as_secs_f64());
    match response {
        Err(_) => Err(ProxyError::Timeout(route.timeout)),
        Ok(Err(e)) => Err(ProxyError::unreachable(e)),
        Ok(Ok(r)) => Ok(r),
    }
}

/// The declared `Content-Length`, if any.
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// A request has a body when it declares a non-zero length or chunked transfer.
fn has_body(req: &HttpRequest) -> bool {
    req.headers()
        .contains_key(actix_web::http::header::TRANSFER_ENCODING)
        || declared_length(req).is_some_and(|n| n > 0)
}

/// What went wrong with the browser's request body while it was streamed upstream.
enum BodyFault {
    /// Past the route's `max_body`.
    TooLarge,
    /// Broken framing (a bad chunk, a short body): the browser's request was malformed.
    Malformed(String),
}

/// actix's request body is tied to its worker thread; hyper needs a `Send` body. A small
/// bounded channel joins them, so the browser is only read as fast as the upstream takes it.
/// Past `limit` bytes, or on a framing error, the stream fails (aborting the upstream request)
/// and the fault is reported at once, so the browser gets its 4xx without waiting for upstream.
fn bridge(
    mut payload: web::Payload,
    limit: Option<u64>,
) -> (UpstreamBody, tokio::sync::oneshot::Receiver<BodyFault>) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(BODY_CHANNEL_CHUNKS);
    let (fault_tx, fault_rx) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        let mut total = 0u64;
        while let Some(chunk) = payload.next().await {
            let fault = match &chunk {
                Err(e) => Some(BodyFault::Malformed(e.to_string())),
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    limit
                        .is_some_and(|l| total > l)
                        .then_some(BodyFault::TooLarge)
                }
            };
            if let Some(fault) = fault {
                let _ = tx
                    .send(Err(std::io::Error::other("request body refused")))
                    .await;
                let _ = fault_tx.send(fault);
                break;
            }
            if tx.send(chunk.map_err(std::io::Error::other)).await.is_err() {
                break;
            }
        }
    });
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|item| (item.map(http_body::Frame::data), rx))
    });
    let body = http_body_util::StreamBody::new(frames).boxed_unsync();
    (body, fault_rx)
}

//! API proxying against real upstream servers on loopback.

use std::time::Duration;

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Five routes to `api`: `/api` (required, with an extra header), `/api/v2` (stripped onto a
/// base path), `/public` (none), `/maybe` (optional), `/slowapi` (none, 300 ms timeout).
fn with_routes(config: TestConfig, api: &Upstream) -> TestConfig {
    config
        .route(
            api.api_route("required")
                .set("headers", Raw(r#"{ "X-Api-Key" = "route-key" }"#)),
        )
        .route(
            TestRoute::new("/api/v2", &format!("{}/v2base", api.url()), "required")
                .set("strip_prefix", true),
        )
        .route(api.route("/public", "none"))
        .route(api.route("/maybe", "optional"))
        .route(api.route("/slowapi", "none").set("timeout", "300ms"))
        .route(
            api.route("/enc", "required")
                .set("allow_encoded_slash", true),
        )
}

/// IdP, upstream, proxy (memory store) and a signed-in browser.
async fn setup() -> (TestIdp, Upstream, Proxy, Browser) {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = with_routes(TestConfig::for_idp(&idp), &api).start().await;
    let b = Browser::signed_in(&proxy, &idp).await;
    (idp, api, proxy, b)
}

fn access_token(idp: &TestIdp) -> String {
    idp.state.issued.lock().expect("issued")[0].clone()
}

#[actix_web::test]
async fn bearer_token_injected_and_browser_credentials_never_reach_upstream() {
    let (idp, api, proxy, mut b) = setup().await;
    let res = b
        .api_get(
            &proxy,
            "/api/users?id=7",
            &[
                ("authorization", "Bearer evil"),
                ("x-request-id", "req-abc-123"),
                ("connection", "x-hop"),
                ("x-hop", "1"),
                // Proto and host are replaced; the For chain is extended with the real peer (as
                // nginx does), so an upstream trusts only its last entry.
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.expect("json");
    let h = &seen["headers"];
    assert_eq!(h["authorization"], format!("Bearer {}", access_token(&idp)));
    assert!(
        h.get("cookie").is_none(),
        "the browser's Cookie never reaches the upstream"
    );
    assert!(
        h.get("x-hop").is_none(),
        "headers named by Connection are hop-by-hop"
    );
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(
        h["x-forwarded-host"],
        proxy.base.trim_start_matches("http://")
    );
    assert_eq!(h["x-request-id"], "req-abc-123");
    assert_eq!(h["x-api-key"], "route-key");
    assert_eq!(seen["duplicate_headers"], serde_json::json!([]));
    assert_eq!(seen["path"], "/api/users");
    assert_eq!(seen["query"], "id=7");
    assert_eq!(api.hit_count(), 1);
}

#[actix_web::test]
async fn without_the_csrf_header_nothing_is_forwarded() {
    let (_idp, api, proxy, mut b) = setup().await;
    for headers in [vec![], vec![("x-csrf", "0")]] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let mut req = b.request(method.clone(), &proxy.url("/api/things"));
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            let res = b.send(req).await;
            assert_eq!(res.status(), 403, "{method} {headers:?}");
            let body: Value = res.json().await.expect("json");
            assert_eq!(body["error"], "csrf_header_required");
        }
    }
    // Also on token = "none" routes.
    assert_eq!(b.get(&proxy.url("/public/x")).await.status(), 403);
    assert_eq!(api.hit_count(), 0, "nothing was forwarded");
}

#[actix_web::test]
async fn each_token_policy_sends_a_token_only_when_it_should() {
    let (idp, api, proxy, mut b) = setup().await;
    let mut anon = Browser::new();
    // required without a session: 401 JSON, not a redirect, not forwarded.
    let res = anon.api_get(&proxy, "/api/x", &[]).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("location").is_none());
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unauthenticated");
    assert_eq!(api.hit_count(), 0);

    // optional: forwarded either way, with a token only when signed in.
    let seen = anon.api_seen(&proxy, "/maybe/x", &[]).await;
    assert!(seen["headers"].get("authorization").is_none());
    let seen = b.api_seen(&proxy, "/maybe/x", &[]).await;
    assert_eq!(
        seen["headers"]["authorization"],
        format!("Bearer {}", access_token(&idp))
    );

    // none: never a token, even for a signed-in browser, and the browser's own is dropped.
    let seen = b
        .api_seen(&proxy, "/public/x", &[("authorization", "Bearer mine")])
        .await;
    assert!(seen["headers"].get("authorization").is_none());
    assert_eq!(api.hit_count(), 3);
}

#[actix_web::test]
async fn paths_and_queries_pass_byte_for_byte_and_the_longest_prefix_wins() {
    let (_idp, _api, proxy, mut b) = setup().await;
    let long_query = format!("q={}&x=%20y%2Fz&u=%E2%9C%93", "a".repeat(6000));
    let res = b
        .api_get(
            &proxy,
            &format!("/api/a%40b/caf%C3%A9/%E2%9C%93/x,y%3D?{long_query}"),
            &[],
        )
        .await;
    let seen: Value = res.json().await.expect("json");
    assert_eq!(
        seen["path"], "/api/a%40b/caf%C3%A9/%E2%9C%93/x,y%3D",
        "percent-encoding preserved byte for byte"
    );
    assert_eq!(seen["query"], long_query);
    // With `allow_encoded_slash`, `%2F` passes byte for byte too (else 400: see hostile::paths).
    let seen = b.api_seen(&proxy, "/enc/a%2Fb/c", &[]).await;
    assert_eq!(seen["path"], "/enc/a%2Fb/c");
    assert_eq!(b.api_get(&proxy, "/api/a%2Fb", &[]).await.status(), 400);

    // Longest prefix wins, and strip_prefix maps /api/v2/x to {upstream}/v2base/x.
    let seen = b.api_seen(&proxy, "/api/v2/items?a=1", &[]).await;
    assert_eq!(seen["path"], "/v2base/items");
    assert_eq!(seen["query"], "a=1");
    let seen = b.api_seen(&proxy, "/api", &[]).await;
    assert_eq!(seen["path"], "/api");
    // Segment matching: /apix is not /api (no SPA configured, so 404 from Vestibule).
    let res = b.api_get(&proxy, "/apix", &[]).await;
    assert_eq!(res.status(), 404);
    // Methods pass through.
    for m in [
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        let req = b
            .request(m.clone(), &proxy.url("/api/m"))
            .header("x-csrf", "1");
        let seen: Value = b.send(req).await.json().await.expect("json");
        assert_eq!(seen["method"], m.as_str());
    }
}

#[actix_web::test]
async fn large_bodies_stream_both_ways() {
    let (_idp, _api, proxy, mut b) = setup().await;
    // 64 MiB up, with its hash checked at the upstream.
    let size = 64 * 1024 * 1024usize;
    let body: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
    let expected = vestibule::crypto::hex(&Sha256::digest(&body));
    let req = b
        .request(Method::PUT, &proxy.url("/api/upload"))
        .header("x-csrf", "1")
        .body(body);
    let res = b.send(req).await;
    assert_eq!(res.status(), 200);
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["body_len"], size as u64);
    assert_eq!(seen["body_sha256"], expected);

    // Chunked upload (no Content-Length).
    let chunks =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![1u8; 65536])));
    let req = b
        .request(Method::POST, &proxy.url("/api/upload"))
        .header("x-csrf", "1")
        .body(reqwest::Body::wrap_stream(chunks));
    let seen: Value = b.send(req).await.json().await.expect("json");
    assert_eq!(seen["body_len"], 64 * 65536);

    // 64 MiB down, streamed, content checked.
    let res = b.api_get(&proxy, &format!("/api/big?n={size}"), &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.content_length(), Some(size as u64));
    let mut stream = res.bytes_stream();
    let mut got = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        assert!(
            chunk
                .iter()
                .enumerate()
                .all(|(i, byte)| *byte as usize == (got + i) % 65536 % 256)
        );
        got += chunk.len();
    }
    assert_eq!(got, size);
}

#[actix_web::test]
async fn upstream_failures_are_json_502_504_and_store_down_503() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    // An upstream that accepts connections and closes them without answering.
    let resetter = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let reset_port = resetter.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in resetter.incoming().take(8) {
            // Dropping the accepted stream closes it before any response.
            drop(conn);
        }
    });
    // No session cache: the store outage must show on the very next call.
    let config = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("session.cache_ttl", "0s")
        .route(TestRoute::new(
            "/dead",
            &format!("http://127.0.0.1:{dead}"),
            "none",
        ))
        .route(TestRoute::new(
            "/reset",
            &format!("http://127.0.0.1:{reset_port}"),
            "none",
        ));
    let proxy = with_routes(config, &api).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;

    let res = b.api_get(&proxy, "/dead/x", &[]).await;
    assert_eq!(res.status(), 502);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "upstream_unreachable");
    let res = b.api_get(&proxy, "/reset/x", &[]).await;
    assert_eq!(
        res.status(),
        502,
        "a connection closed mid-request is a 502"
    );

    let started = std::time::Instant::now();
    let res = b.api_get(&proxy, "/slowapi/slow", &[]).await;
    assert_eq!(res.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the route timeout (300 ms) applies"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "upstream_timeout");

    // Only that route is affected.
    assert_eq!(b.api_get(&proxy, "/api/ok", &[]).await.status(), 200);

    drop(redis);
    let res = b.api_get(&proxy, "/api/ok", &[]).await;
    assert_eq!(res.status(), 503, "store down is 503, never 401");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "session_store_unavailable");
    proxy.assert_still_serving().await;
}

#[actix_web::test]
async fn upstream_down_is_502_and_proxy_stays_up() {
    let idp = TestIdp::start().await;
    let api = Upstream::start_with(false).await;
    let proxy = with_routes(TestConfig::for_idp(&idp), &api).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/api/a", &[]).await.status(), 200);
    api.stop().await;
    assert_eq!(b.api_get(&proxy, "/api/a", &[]).await.status(), 502);
    proxy.assert_still_serving().await;
}

#[actix_web::test]
async fn upstream_set_cookie_passes_but_cannot_touch_the_session() {
    let (_idp, _api, proxy, mut b) = setup().await;
    let session_before = b.cookies["vestibule"].clone();
    let res = b.api_get(&proxy, "/api/set-cookies", &[]).await;
    assert_eq!(res.status(), 200);
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies, vec!["app_pref=dark; Path=/"]);
    drop(res);
    assert_eq!(b.cookies["vestibule"], session_before);
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn only_vestibules_own_refusals_carry_the_refusal_header_whatever_an_upstream_sends() {
    let (_idp, _api, proxy, mut b) = setup().await;
    // An upstream's 401 in Vestibule's words: it reaches the browser, unmarked.
    let res = b.api_get(&proxy, "/api/own-401", &[]).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers().get("vestibule-refusal").is_none(),
        "an upstream cannot pass for Vestibule"
    );
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unauthenticated"
    );
    // Vestibule's own refusals, on an API route and on an auth endpoint, are marked with their
    // code.
    let mut anonymous = Browser::new();
    let res = anonymous.api_get(&proxy, "/api/a", &[]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["vestibule-refusal"], "unauthenticated");
    let res = anonymous.session(&proxy).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["vestibule-refusal"], "unauthenticated");
    let res = b.get_with(&proxy.url("/api/a"), &[]).await;
    assert_eq!(res.status(), 403, "no anti-CSRF header");
    let code = res.headers()["vestibule-refusal"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(res.json::<Value>().await.unwrap()["error"], code.as_str());
}

#[actix_web::test]
async fn a_websocket_is_proxied_with_the_bearer_token() {
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let (idp, _api, proxy, b) = setup().await;
    let ws_url = proxy.url("/api/ws").replace("http://", "ws://");
    let cookie = b.session_cookie();

    let mut req = ws_url.clone().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    req.headers_mut()
        .insert("origin", proxy.base.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade through the proxy");
    let first = ws.next().await.expect("message").expect("ok");
    assert_eq!(
        first,
        Message::Text(format!("authorization: Bearer {}", access_token(&idp)).into())
    );
    ws.send(Message::Text("hello".into())).await.expect("send");
    assert_eq!(
        ws.next().await.expect("msg").expect("ok"),
        Message::Text("echo: hello".into())
    );
    ws.send(Message::Binary(vec![1u8, 2, 3].into()))
        .await
        .expect("send");
    assert_eq!(
        ws.next().await.expect("msg").expect("ok"),
        Message::Binary(vec![1u8, 2, 3].into())
    );
    ws.close(None).await.expect("close");

    // Cross-site page: refused before anything reaches the upstream.
    let mut req = ws_url.clone().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!(
            "cross-site upgrade must be refused, got {:?}",
            other.map(|_| ())
        ),
    }
    // No session: 401.
    let mut req = ws_url.into_client_request().expect("request");
    req.headers_mut()
        .insert("origin", proxy.base.parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!(
            "upgrade without session must be refused, got {:?}",
            other.map(|_| ())
        ),
    }
}

/// A WebSocket upgrade request for `path` with `b`'s session, from our own origin.
fn ws_request(
    proxy: &Proxy,
    b: &Browser,
    path: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = proxy
        .url(path)
        .replace("http://", "ws://")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("cookie", b.session_cookie().parse().expect("header"));
    req.headers_mut()
        .insert("origin", proxy.base.parse().expect("header"));
    req
}

/// A WebSocket through the proxy with `b`'s session, the relay up.
async fn open_ws(
    proxy: &Proxy,
    b: &Browser,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_request(proxy, b, "/api/ws"))
        .await
        .expect("upgrade through the proxy");
    // The echo's greeting: the relay is up.
    assert!(ws.next().await.is_some_and(|m| m.is_ok()));
    ws
}

/// Reads until the proxy closes the socket (within 10 s); the close frame's code and reason.
async fn closed_by_proxy(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<(u16, String)> {
    use tokio_tungstenite::tungstenite::Message;
    let read = async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Close(frame) = m {
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the proxy closed the WebSocket within 10 s")
}

#[actix_web::test]
async fn a_websocket_closes_when_its_session_ends_however_it_ends() {
    let (idp, _api, proxy, mut b) = setup().await;
    // Signed out on this device.
    let mut ws = open_ws(&proxy, &b).await;
    let logout = b.logout_url(&proxy).await;
    assert_eq!(b.get(&proxy.url(&logout)).await.status(), 302);
    assert_eq!(
        closed_by_proxy(&mut ws).await,
        Some((1008, "logout".to_owned()))
    );

    // "Sign out that device", from another session of the same user.
    let victim = Browser::signed_in(&proxy, &idp).await;
    let mut other = Browser::signed_in(&proxy, &idp).await;
    let mut ws = open_ws(&proxy, &victim).await;
    let handle = other
        .sessions(&proxy)
        .await
        .into_iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["handle"].as_str().map(str::to_owned))
        .expect("the victim's handle");
    assert_eq!(
        other
            .end_session(&proxy, &handle, &[("x-csrf", "1")])
            .await
            .status(),
        204
    );
    assert_eq!(
        closed_by_proxy(&mut ws).await,
        Some((1008, "revoked".to_owned()))
    );
    // The socket is gone, and its cookie gets nothing more.
    let mut victim = victim;
    assert_eq!(victim.session(&proxy).await.status(), 401);
}

#[actix_web::test]
async fn a_websocket_closes_at_its_sessions_absolute_timeout() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = with_routes(TestConfig::for_idp(&idp), &api)
        .set("session.absolute_timeout", "3s")
        .start()
        .await;
    let b = Browser::signed_in(&proxy, &idp).await;
    let mut ws = open_ws(&proxy, &b).await;
    let opened = std::time::Instant::now();
    assert_eq!(
        closed_by_proxy(&mut ws).await,
        Some((1008, "expired".to_owned()))
    );
    assert!(
        opened.elapsed() <= Duration::from_secs(5),
        "closed at the absolute end, not later: {:?}",
        opened.elapsed()
    );
}

#[actix_web::test]
async fn a_websocket_upgrade_waiting_for_a_slow_upstream_holds_its_place_in_the_budget() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = with_routes(TestConfig::for_idp(&idp), &api)
        .set("server.max_streams_per_session", 1)
        .start()
        .await;
    let b = Browser::signed_in(&proxy, &idp).await;
    let upgrade = || tokio_tungstenite::connect_async(ws_request(&proxy, &b, "/api/slow"));
    // The first waits on an upstream that answers after 5 s; a second of the same session takes
    // its place, and the first is answered at once.
    let first = tokio::spawn(upgrade());
    let hits = api.hit_count();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while api.hit_count() == hits {
        assert!(
            std::time::Instant::now() < deadline,
            "the first upgrade reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = std::time::Instant::now();
    let _second = tokio::spawn(upgrade());
    match first.await.expect("join") {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered when superseded, not when the upstream was: {:?}",
        started.elapsed()
    );
}

//! Request limits: each breach is a clear 4xx/503, never a crash, and the proxy keeps serving.

use std::time::Duration;

use crate::common::*;
use crate::hostile::raw_http::raw;
use serde_json::Value;

#[actix_web::test]
async fn an_oversized_request_head_gets_431() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("none"))
        .start()
        .await;
    let client = reqwest::Client::new();
    // Over the configured 32 KiB: Vestibule's own JSON 431.
    let res = client
        .get(proxy.url("/auth/session"))
        .header("x-big", "a".repeat(40_000))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 431);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "request_header_too_large");
    // Over actix's hard 128 KiB buffer, on an API route, written raw: actix answers 431 and
    // closes, or resets the connection before the answer is read (the test cannot choose
    // which); either way nothing is forwarded and the process serves on.
    let api_call = |header: &str| {
        format!(
            "GET /api/x HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\nX-Huge: {header}\r\nConnection: close\r\n\r\n"
        )
    };
    let statuses = raw(&proxy, api_call(&"a".repeat(200_000)).as_bytes());
    assert!(
        statuses.is_empty() || statuses == [431],
        "a 431 or a closed connection: {statuses:?}"
    );
    assert_eq!(api.hit_count(), 0, "nothing forwarded");
    proxy.assert_still_serving().await;
    // Control: the same call with a small header is forwarded.
    assert_eq!(raw(&proxy, api_call("a").as_bytes()), [200]);
    assert_eq!(api.hit_count(), 1);
}

#[actix_web::test]
async fn a_route_body_limit_gives_413_before_forwarding() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/small", "none").set("max_body", "1KiB"))
        .start()
        .await;
    let client = reqwest::Client::new();
    let res = client
        .post(proxy.url("/small/up"))
        .header("x-csrf", "1")
        .body(vec![0u8; 2000])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "body_too_large");
    assert_eq!(
        api.hit_count(),
        0,
        "a declared oversized body is not forwarded"
    );

    // Chunked (no Content-Length): counted while streaming.
    let chunks =
        futures_util::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(vec![1u8; 600])));
    let res = client
        .post(proxy.url("/small/up"))
        .header("x-csrf", "1")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 413);

    // Within the limit: forwarded.
    let res = client
        .post(proxy.url("/small/up"))
        .header("x-csrf", "1")
        .body(vec![0u8; 1000])
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    proxy.assert_still_serving().await;
}

#[actix_web::test]
async fn over_max_in_flight_a_request_gets_503_overloaded() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp).route(api.api_route("none"));
    let proxy = config.clone().start().await;
    // A second proxy with a limit of 2 requests at once.
    let limited = config.set("server.max_in_flight", 2).start().await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let req = client
            .get(limited.url("/api/slowstream"))
            .header("x-csrf", "1");
        tasks.push(tokio::spawn(async move {
            let res = req.send().await.expect("send");
            let retry = res.headers().get("retry-after").is_some();
            (
                res.status().as_u16(),
                retry,
                res.bytes().await.map(|b| b.len()).unwrap_or(0),
            )
        }));
    }
    let mut ok = 0;
    let mut overloaded = 0;
    for t in tasks {
        let (status, retry, len) = t.await.expect("join");
        match status {
            200 => {
                assert_eq!(len, 1_048_586);
                ok += 1;
            }
            503 => {
                assert!(retry, "503 overloaded carries Retry-After");
                overloaded += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!((1..=2).contains(&ok), "at most two served at once: {ok}");
    assert_eq!(ok + overloaded, 6);
    limited.assert_still_serving().await;
    proxy.assert_still_serving().await;
}

/// `GET /auth/events` for `b`, as the SPA's fetch reader sends it: the status, and the stream
/// when it opened.
async fn try_events(proxy: &Proxy, b: &mut Browser) -> (u16, Option<EventStream>) {
    let res = b
        .get_with(&proxy.url("/auth/events"), &[("x-csrf", "1")])
        .await;
    match res.status().as_u16() {
        200 => (200, Some(EventStream::new(res))),
        other => {
            let body = res.text().await.unwrap_or_default();
            assert!(body.contains("too_many_streams"), "{other}: {body}");
            (other, None)
        }
    }
}

#[actix_web::test]
async fn event_streams_have_their_own_budgets_and_never_starve_other_requests() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .set("server.max_in_flight", 4)
        .set("server.max_streams_per_session", 4)
        .set("server.max_streams_per_user", 6)
        .set("server.max_streams", 10)
        .start()
        .await;
    // One session opens 32 streams (8 times max_in_flight): every one opens, and each past the
    // fourth closes that session's oldest.
    let mut attacker = Browser::signed_in(&proxy, &idp).await;
    let mut streams = Vec::new();
    for _ in 0..32 {
        let (status, stream) = try_events(&proxy, &mut attacker).await;
        assert_eq!(status, 200);
        streams.extend(stream);
    }
    for (i, s) in streams[..28].iter_mut().enumerate() {
        assert!(s.closed(Duration::from_secs(5)).await, "stream {i} closed");
    }
    let mut kept: Vec<EventStream> = streams.split_off(28);

    // Nobody else is refused meanwhile: probes, other users' calls, the attacker's own calls.
    assert_eq!(proxy.healthz().await, 200);
    assert_eq!(proxy.readyz().await.0, 200);
    let mut bystander = Browser::signed_in(&proxy, &idp).await;
    for _ in 0..8 {
        assert_eq!(bystander.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    }

    // The same user's other sessions share the user's budget (6 here): 2 more, then 429.
    let mut second = Browser::new();
    assert_eq!(
        second.log_in(&proxy, &idp, Tweak::None, "/").await.status(),
        302
    );
    for _ in 0..2 {
        let (status, s) = try_events(&proxy, &mut second).await;
        assert_eq!(status, 200);
        kept.extend(s);
    }
    assert_eq!(try_events(&proxy, &mut second).await.0, 429);

    // Other users have their own, up to the replica's 10: then 503 for anyone.
    let mut others = Vec::new();
    for sub in ["u1", "u2", "u3", "u4"] {
        let mut b = Browser::new();
        assert_eq!(
            b.log_in(&proxy, &idp, Tweak::Sub(sub), "/").await.status(),
            302
        );
        let (status, s) = try_events(&proxy, &mut b).await;
        assert_eq!(status, 200, "{sub}");
        others.push((b, s));
    }
    let mut late = Browser::new();
    assert_eq!(
        late.log_in(&proxy, &idp, Tweak::Sub("late"), "/")
            .await
            .status(),
        302
    );
    assert_eq!(try_events(&proxy, &mut late).await.0, 503);
    assert_eq!(proxy.healthz().await, 200, "probes pass a full replica");
    assert_eq!(proxy.readyz().await.0, 200);
    // 10 streams open, more than twice max_in_flight: other calls are still served.
    for _ in 0..8 {
        assert_eq!(bystander.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    }

    // A client that goes away frees its place within seconds (its socket closes; no keep-alive
    // write has to fail first): the user at its budget gets a stream again.
    drop(kept.pop());
    let freed = std::time::Instant::now();
    loop {
        let (status, s) = try_events(&proxy, &mut second).await;
        if status == 200 {
            kept.extend(s);
            break;
        }
        assert!(
            freed.elapsed() < Duration::from_secs(5),
            "a closed client's stream was still counted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

//! Request limits: each breach is a clear 4xx/503, never a crash, and the proxy keeps serving.

use crate::common::*;
use serde_json::Value;

#[actix_web::test]
async fn an_oversized_request_head_gets_431() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
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
    // Over actix's hard 128 KiB buffer: still a 431, never a crash.
    let res = client
        .get(proxy.url("/healthz"))
        .header("x-huge", "a".repeat(200_000))
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status(), 431);
    }
    proxy.assert_still_serving().await;
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

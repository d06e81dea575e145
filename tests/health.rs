//! Liveness and readiness, and staying up while the IdP or Redis is away.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

async fn status_and_json(url: &str) -> (u16, Value) {
    let res = reqwest::get(url).await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Polls `url` until it answers `want` (bounded); a readiness probe, not a sleep.
async fn wait_for_status(url: &str, want: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().as_u16() == want)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[actix_web::test]
async fn idp_down_at_start_then_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let issuer = format!("http://127.0.0.1:{port}");
    let proxy = Proxy::start_unready(&issuer, Store::Memory, "").await;

    let (status, _) = status_and_json(&proxy.url("/healthz")).await;
    assert_eq!(status, 200, "alive even without the IdP");
    assert!(wait_for_status(&proxy.url("/readyz"), 503, Duration::from_secs(5)).await);
    let (status, body) = status_and_json(&proxy.url("/readyz")).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "not_ready");
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("identity provider"), "{reasons}");

    let mut b = Browser::new();
    let res = b.get(&proxy.url("/auth/login")).await;
    assert_eq!(res.status(), 503, "login says the IdP is not there");
    assert!(res.text().await.expect("body").contains("idp_not_ready"));
    assert!(b.cookies.is_empty());

    // The IdP appears; the proxy's retry loop (backoff 1 s, 2 s, 4 s, ...) finds it.
    let idp = TestIdp::start_on(port, false).await;
    assert!(
        wait_for_status(&proxy.url("/readyz"), 200, Duration::from_secs(20)).await,
        "ready once the IdP is up"
    );
    assert_eq!(
        login(&mut b, &proxy, &idp, Tweak::None, "/").await.status(),
        302
    );
}

#[actix_web::test]
async fn redis_down_means_503_not_401_and_service_recovers() {
    let redis = RedisServer::start();
    let port = redis.port;
    let idp = TestIdp::start().await;
    // No session cache: the outage must show on the very next call.
    let proxy = Proxy::start_with(
        &idp.state.issuer,
        Store::Redis(&redis),
        "cache_ttl = \"0s\"\n",
    )
    .await;
    let mut b = signed_in(&proxy, &idp).await;
    assert_eq!(b.session(&proxy).await.status(), 200);

    // The test Redis keeps no data on disk (--save ""), so this checks the outage behaviour and
    // that service comes back by itself, not that old sessions survive a Redis restart.
    drop(redis);
    let res = b.session(&proxy).await;
    assert_eq!(
        res.status(),
        503,
        "the SPA must not think the user signed out"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "session_store_unavailable");
    let (status, body) = status_and_json(&proxy.url("/readyz")).await;
    assert_eq!(status, 503);
    assert!(body["reasons"].to_string().contains("redis"), "{body}");
    assert_eq!(status_and_json(&proxy.url("/healthz")).await.0, 200);
    assert_eq!(b.get(&proxy.url("/auth/login")).await.status(), 503);

    let _redis = RedisServer::start_on(port);
    assert!(
        wait_for_status(&proxy.url("/readyz"), 200, Duration::from_secs(5)).await,
        "recovers without restart"
    );
    assert_eq!(
        login(&mut b, &proxy, &idp, Tweak::None, "/").await.status(),
        302
    );
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn idle_timeout_ends_an_unused_session() {
    let idp = TestIdp::start().await;
    let proxy =
        Proxy::start_with(&idp.state.issuer, Store::Memory, "idle_timeout = \"1s\"\n").await;
    let mut b = signed_in(&proxy, &idp).await;
    assert_eq!(b.session(&proxy).await.status(), 200);
    // Passing time is the point of this test, so it sleeps past the timeout.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(b.session(&proxy).await.status(), 401);
}

#[actix_web::test]
async fn absolute_timeout_is_not_extended_by_use() {
    let idp = TestIdp::start().await;
    let proxy = Proxy::start_with(
        &idp.state.issuer,
        Store::Memory,
        "idle_timeout = \"1h\"\nabsolute_timeout = \"2s\"\n",
    )
    .await;
    let mut b = signed_in(&proxy, &idp).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut ended = false;
    while Instant::now() < deadline {
        if b.session(&proxy).await.status() == 401 {
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        ended,
        "used every 200 ms, the session still ends at the absolute timeout"
    );
}

#[actix_web::test]
async fn session_cache_logout_is_immediate_here_and_within_cache_ttl_elsewhere() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let a = Proxy::start(&idp, Store::Redis(&redis)).await;
    let b_replica = Proxy::start(&idp, Store::Redis(&redis)).await;
    let mut b = signed_in(&a, &idp).await;
    assert_eq!(b.session(&a).await.status(), 200);
    assert_eq!(
        b.session(&b_replica).await.status(),
        200,
        "the other replica has it cached now"
    );
    let info: Value = b.session(&a).await.json().await.expect("json");
    let logout_url = info["logout_url"].as_str().expect("logout_url").to_owned();
    let mut same = Browser::new();
    same.cookies = b.cookies.clone();
    assert_eq!(same.get(&a.url(&logout_url)).await.status(), 302);
    assert_eq!(
        b.session(&a).await.status(),
        401,
        "logout on this replica is immediate"
    );
    // The other replica stops honouring it within cache_ttl (1 s by default).
    let ended = Instant::now();
    assert!(
        wait_for_session_status(&mut b, &b_replica, 401, Duration::from_secs(3)).await,
        "the other replica must drop the session within the cache TTL"
    );
    assert!(
        ended.elapsed() <= Duration::from_millis(1500),
        "took {:?}",
        ended.elapsed()
    );
}

async fn wait_for_session_status(
    b: &mut Browser,
    proxy: &Proxy,
    want: u16,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if b.session(proxy).await.status().as_u16() == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[actix_web::test]
async fn redis_restart_keeps_sessions_and_service_returns_within_2s() {
    let mut redis = RedisServer::start_persistent();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let extra = format!("cache_ttl = \"0s\"\n{}", api.api_route("required"));
    let proxy = Proxy::start_with(&idp.state.issuer, Store::Redis(&redis), &extra).await;
    let mut b = signed_in(&proxy, &idp).await;
    assert_eq!(
        b.get_with(&proxy.url("/api/x"), &[("x-csrf", "1")])
            .await
            .status(),
        200
    );

    redis.stop();
    let res = b.get_with(&proxy.url("/api/x"), &[("x-csrf", "1")]).await;
    assert_eq!(res.status(), 503, "store down: 503, not 401");
    assert_eq!(status_and_json(&proxy.url("/readyz")).await.0, 503);
    assert_eq!(status_and_json(&proxy.url("/healthz")).await.0, 200);

    redis.restart();
    let back = Instant::now();
    assert!(
        wait_for_status(&proxy.url("/readyz"), 200, Duration::from_secs(2)).await,
        "ready again within 2 s"
    );
    let deadline = back + Duration::from_secs(2);
    let mut status = 0;
    while Instant::now() < deadline {
        status = b
            .get_with(&proxy.url("/api/x"), &[("x-csrf", "1")])
            .await
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status, 200,
        "the session written before the outage still works"
    );
    assert!(
        back.elapsed() <= Duration::from_secs(2),
        "took {:?}",
        back.elapsed()
    );
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn idp_down_signed_in_users_keep_calling_apis_with_fresh_tokens() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy =
        Proxy::start_with(&idp.state.issuer, Store::Memory, &api.api_route("required")).await;
    let mut b = signed_in(&proxy, &idp).await;
    idp.stop().await;
    for _ in 0..3 {
        assert_eq!(
            b.get_with(&proxy.url("/api/x"), &[("x-csrf", "1")])
                .await
                .status(),
            200
        );
    }
    assert_eq!(b.session(&proxy).await.status(), 200);
    // A new login cannot finish while the IdP is away: the callback shows a clear error page.
    let mut other = Browser::new();
    let start = start_login(&mut other, &proxy, "/").await;
    let res = call_back(&mut other, &proxy, "some-code", &start.state).await;
    assert_eq!(res.status(), 502);
    assert!(res.text().await.expect("page").contains("idp_unreachable"));
}

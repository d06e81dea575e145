//! Liveness and readiness, and staying up while the IdP or Redis is away.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

#[actix_web::test]
async fn an_idp_down_at_start_is_waited_for_and_then_used() {
    let port = binary::free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let proxy = TestConfig::new(&issuer).start_unready().await;

    assert_eq!(proxy.healthz().await, 200, "alive even without the IdP");
    assert!(wait_for(&proxy.url("/readyz"), 503, Duration::from_secs(5)).await);
    let (status, body) = proxy.readyz().await;
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
        wait_for(&proxy.url("/readyz"), 200, Duration::from_secs(20)).await,
        "ready once the IdP is up"
    );
    assert_eq!(b.log_in(&proxy, &idp, Tweak::None, "/").await.status(), 302);
}

#[actix_web::test]
async fn redis_down_means_503_not_401_and_service_recovers_by_itself() {
    let redis = RedisServer::start();
    let port = redis.port;
    let idp = TestIdp::start().await;
    // No session cache: the outage must show on the very next call.
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("session.cache_ttl", "0s")
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
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
    let (status, body) = proxy.readyz().await;
    assert_eq!(status, 503);
    assert!(body["reasons"].to_string().contains("redis"), "{body}");
    assert_eq!(proxy.healthz().await, 200);
    assert_eq!(b.get(&proxy.url("/auth/login")).await.status(), 503);

    let _redis = RedisServer::start_on(port);
    assert!(
        wait_for(&proxy.url("/readyz"), 200, Duration::from_secs(5)).await,
        "recovers without restart"
    );
    assert_eq!(b.log_in(&proxy, &idp, Tweak::None, "/").await.status(), 302);
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn the_idle_timeout_ends_an_unused_session() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.idle_timeout", "1s")
        // (A replica's cache may serve a session for up to `cache_ttl` after the store dropped it,
        // as documented; off here, so that both reads below ask the store.)
        .set("session.cache_ttl", "0s")
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.session(&proxy).await.status(), 200);
    // Asked without sliding (not a use), until it ends.
    assert!(
        b.wait_for(
            &proxy.url("/auth/session?slide=false"),
            &[("x-csrf", "1")],
            401,
            Duration::from_secs(10)
        )
        .await,
        "unused, the session ended"
    );
    assert_eq!(b.session(&proxy).await.status(), 401);
}

#[actix_web::test]
async fn the_absolute_timeout_is_not_extended_by_use() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.idle_timeout", "1h")
        .set("session.absolute_timeout", "2s")
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    // Each poll is a use that slides the idle timeout; the absolute one must still end it.
    let session = proxy.url("/auth/session");
    assert!(
        b.wait_for(&session, &[("x-csrf", "1")], 401, Duration::from_secs(5))
            .await,
        "used again and again, the session still ends at the absolute timeout"
    );
}

#[actix_web::test]
async fn a_logout_is_immediate_here_and_within_the_cache_ttl_on_other_replicas() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, b_replica) = TestConfig::for_idp(&idp).redis(&redis).start_two().await;
    let mut b = Browser::signed_in(&a, &idp).await;
    assert_eq!(b.session(&a).await.status(), 200);
    assert_eq!(
        b.session(&b_replica).await.status(),
        200,
        "the other replica has it cached now"
    );
    let logout_url = b.logout_url(&a).await;
    let mut same = b.copy();
    assert_eq!(same.get(&a.url(&logout_url)).await.status(), 302);
    assert_eq!(
        b.session(&a).await.status(),
        401,
        "logout on this replica is immediate"
    );
    // The other replica stops honouring it within cache_ttl (1 s by default).
    let ended = Instant::now();
    let session = b_replica.url("/auth/session");
    assert!(
        b.wait_for(&session, &[("x-csrf", "1")], 401, Duration::from_secs(3))
            .await,
        "the other replica must drop the session within the cache TTL"
    );
    assert!(
        ended.elapsed() <= Duration::from_millis(1500),
        "took {:?}",
        ended.elapsed()
    );
}

#[actix_web::test]
async fn a_redis_restart_keeps_sessions_and_service_returns_within_2s() {
    let mut redis = RedisServer::start_persistent();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);

    redis.stop();
    let res = b.api_get(&proxy, "/api/x", &[]).await;
    assert_eq!(res.status(), 503, "store down: 503, not 401");
    assert_eq!(proxy.readyz().await.0, 503);
    assert_eq!(proxy.healthz().await, 200);

    redis.restart();
    let back = Instant::now();
    assert!(
        wait_for(&proxy.url("/readyz"), 200, Duration::from_secs(2)).await,
        "ready again within 2 s"
    );
    let left = Duration::from_secs(2).saturating_sub(back.elapsed());
    let api = proxy.url("/api/x");
    assert!(
        b.wait_for(&api, &[("x-csrf", "1")], 200, left).await,
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
async fn while_the_idp_is_down_signed_in_users_keep_calling_apis() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    idp.stop().await;
    for _ in 0..3 {
        assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    }
    assert_eq!(b.session(&proxy).await.status(), 200);
    // A new login cannot finish while the IdP is away: the callback shows a clear error page.
    let mut other = Browser::new();
    let start = other.start_login(&proxy, "/").await;
    let res = other.call_back(&proxy, "some-code", &start.state).await;
    assert_eq!(res.status(), 502);
    assert!(res.text().await.expect("page").contains("idp_unreachable"));
}

#[actix_web::test]
async fn readyz_reasons_and_logs_never_hold_the_redis_url_or_password() {
    const PASSWORD: &str = "redis-password-6b2f9d";
    // No such user and no password configured: every AUTH is refused.
    let redis = RedisServer::start();
    let nobody = binary::free_port();
    let idp = TestIdp::start().await;
    for (case, url) in [
        (
            "user and password refused",
            format!("redis://vestibule:{PASSWORD}@127.0.0.1:{}", redis.port),
        ),
        (
            "password refused",
            format!("redis://:{PASSWORD}@127.0.0.1:{}/0", redis.port),
        ),
        (
            "nobody listening",
            format!("redis://vestibule:{PASSWORD}@127.0.0.1:{nobody}"),
        ),
    ] {
        let config = TestConfig::for_idp(&idp)
            .redis_at(&url)
            .set("server.shutdown_delay", "0s");
        let mut bin = Binary::spawn(config, &[("RUST_LOG", "trace")]);
        let proxy = Proxy::external(bin.base());
        assert!(
            wait_for(&proxy.url("/readyz"), 503, Duration::from_secs(15)).await,
            "{case}: not ready"
        );
        let (status, body) = proxy.readyz().await;
        assert_eq!(status, 503, "{case}");
        let reasons = body["reasons"].to_string();
        assert!(reasons.contains("redis"), "{case}: names the store: {body}");
        // A call that needs the store, so its failure is logged too.
        let res = Browser::new().get(&proxy.url("/auth/login")).await;
        assert_eq!(res.status(), 503, "{case}");
        let page = res.text().await.expect("body");
        bin.stop();
        let logs = bin.logs();
        assert!(
            logs.contains("redis"),
            "{case}: the logs name the store: {logs}"
        );
        for (what, text) in [
            ("/readyz", &reasons),
            ("the login page", &page),
            ("the logs", &logs),
        ] {
            for secret in [PASSWORD, url.as_str()] {
                assert!(!text.contains(secret), "{case}: {secret} in {what}: {text}");
            }
        }
    }
}

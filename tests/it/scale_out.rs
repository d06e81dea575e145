//! Scaling out on the Redis people run: TLS with an ACL user, Redis Cluster, Sentinel (issue 12).
//! Real servers from Debian's `redis-server`, on loopback and free ports.

use std::time::{Duration, Instant};

use crate::common::*;

fn dbsize(node: &RedisServer) -> i64 {
    let mut c = node.client().get_connection().expect("node");
    ::redis::cmd("DBSIZE").query(&mut c).unwrap_or(0)
}

/// A signed-in browser and everything a session touches: an API call, the session, logout.
async fn exercise(proxy: &Proxy, idp: &TestIdp) {
    let mut b = Browser::signed_in(proxy, idp).await;
    assert_eq!(b.session(proxy).await.status(), 200);
    assert_eq!(b.api_get(proxy, "/api/x", &[]).await.status(), 200);
    let logout = b.logout_url(proxy).await;
    assert_eq!(b.get(&proxy.url(&logout)).await.status(), 302);
    assert_eq!(b.session(proxy).await.status(), 401);
}

#[actix_web::test]
async fn sessions_live_on_tls_redis_as_an_acl_user() {
    let tls = TestTls::new();
    let redis = RedisServer::start_tls(&tls);
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp).route(api.api_route("required"));
    let proxy = config.clone().redis_tls(&redis, &tls).start().await;
    exercise(&proxy, &idp).await;

    // The wrong password: not ready, and says why.
    let wrong = config
        .redis_tls(&redis, &tls)
        .set("session.redis.password", "not-the-password")
        .start_unready()
        .await;
    let readyz = wrong.url("/readyz");
    assert!(
        Browser::new()
            .wait_for_answer(&readyz, &[], 503, "redis", Duration::from_secs(5))
            .await
    );
}

#[actix_web::test]
async fn sessions_live_on_a_redis_cluster_with_indexes_in_other_slots() {
    let cluster = RedisCluster::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(0, 300);
    let proxy = TestConfig::for_idp(&idp)
        .redis_cluster(&cluster)
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"))
        .start()
        .await;
    // Ten users' sessions spread over the three primaries; each refreshes once (the lock).
    let mut browsers = Vec::new();
    for _ in 0..10 {
        let mut b = Browser::signed_in(&proxy, &idp).await;
        assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
        browsers.push(b);
    }
    assert_eq!(
        idp.state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        10
    );
    let holding: Vec<i64> = cluster.nodes.iter().map(dbsize).collect();
    assert!(
        holding.iter().filter(|n| **n > 0).count() >= 2,
        "keys spread over the cluster: {holding:?}"
    );
    // A back-channel logout by `sub` finds every session through the index, wherever it lives.
    let token = idp.logout_token(idp.logout_claims(None, Some(idp::SUB)), false);
    let res = proxy.backchannel_logout(logout_form(&token), FORM).await;
    assert_eq!(res.status(), 200);
    for b in &mut browsers {
        assert_eq!(b.session(&proxy).await.status(), 401);
    }
    exercise(&proxy, &idp).await;
}

#[actix_web::test]
async fn a_sentinel_failover_keeps_users_signed_in() {
    let mut set = RedisSentinels::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .redis_sentinels(&set)
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.session(&proxy).await.status(), 200);
    // Replication is asynchronous: let the replica have the session before the primary dies.
    let old = set.primary.port;
    let deadline = Instant::now() + Duration::from_secs(5);
    while dbsize(&set.replica) == 0 {
        assert!(Instant::now() < deadline, "replica never got the session");
        std::thread::sleep(Duration::from_millis(20));
    }

    set.primary.kill();
    let killed = Instant::now();
    // During the switch: 503, never 401 (the SPA must not think the user signed out).
    let mut promoted_at = None;
    while killed.elapsed() < Duration::from_secs(30) {
        let status = b.session(&proxy).await.status().as_u16();
        assert_ne!(status, 401, "never signed out by a failover");
        if promoted_at.is_none() && set.primary_port().is_some_and(|p| p != old) {
            promoted_at = Some(Instant::now());
        }
        if status == 200 && promoted_at.is_some() {
            break;
        }
        assert_eq!(status, 503, "during the switch");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let promoted_at = promoted_at.expect("the sentinels promoted the replica");
    assert!(
        promoted_at.elapsed() <= Duration::from_secs(10),
        "service returned within 10 s of the promotion (took {:?})",
        promoted_at.elapsed()
    );
    assert_eq!(
        b.session(&proxy).await.status(),
        200,
        "the session written before the kill"
    );
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    exercise(&proxy, &idp).await;
}

#[actix_web::test]
async fn a_session_ended_on_one_replica_is_ended_on_every_replica_at_once() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    // Three replicas with their session caches on (1 s, the default).
    let config = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("required"));
    let replicas = [
        config.clone().start().await,
        config.clone().start().await,
        config.start().await,
    ];
    let [a, b, c] = &replicas;
    let warm = |browser: &mut Browser| {
        let mut browser = std::mem::take(browser);
        async move {
            for r in [b, c] {
                assert_eq!(browser.session(r).await.status(), 200);
                assert_eq!(browser.api_get(r, "/api/x", &[]).await.status(), 200);
            }
            browser
        }
    };

    // Logout on one replica: the very next request on each other one is 401, nothing forwarded.
    let mut user = warm(&mut Browser::signed_in(a, &idp).await).await;
    let mut stale = Browser::new();
    stale.cookies = user.cookies.clone();
    let logout = user.logout_url(a).await;
    assert_eq!(user.get(&a.url(&logout)).await.status(), 302);
    let hits = api.hit_count();
    // (The logout cleared this browser's cookie: a copy taken before it still names the session.)
    for r in [b, c] {
        assert_eq!(stale.session(r).await.status(), 401);
        assert_eq!(stale.api_get(r, "/api/x", &[]).await.status(), 401);
    }
    assert_eq!(
        api.hit_count(),
        hits,
        "the ended session's token reached no upstream"
    );

    // A back-channel logout received by one replica: ended on the others at once.
    let mut user = warm(&mut Browser::signed_in(a, &idp).await).await;
    let sid = user.session_info(a).await["claims"]["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let token = idp.logout_token(idp.logout_claims(Some(&sid), None), false);
    assert_eq!(
        c.backchannel_logout(logout_form(&token), FORM)
            .await
            .status(),
        200
    );
    for r in [a, b] {
        assert_eq!(user.session(r).await.status(), 401);
    }

    // A refresh the IdP refuses on one replica: ended on the others at once.
    idp.set_expires_in(0, 300);
    let mut user = Browser::signed_in(a, &idp).await;
    for r in [b, c] {
        assert_eq!(user.session(r).await.status(), 200);
    }
    idp.state
        .refuse_refresh
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(user.api_get(a, "/api/x", &[]).await.status(), 401);
    for r in [b, c] {
        assert_eq!(user.session(r).await.status(), 401);
    }
}

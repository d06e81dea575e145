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
    let mut stale = user.copy();
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

    // Ended while every subscription is being dropped (`CLIENT KILL TYPE pubsub`: a Redis
    // restart or a proxy in between does the same): the news may be lost, so a replica whose
    // subscription dropped forgets its cache, and the stale cookie is 401 everywhere.
    let mut user = warm(&mut Browser::signed_in(a, &idp).await).await;
    let mut stale = user.copy();
    let logout = user.logout_url(a).await;
    redis.query(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_eq!(user.get(&a.url(&logout)).await.status(), 302);
    for r in [b, c] {
        assert_eq!(stale.session(r).await.status(), 401);
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

/// Waits (bounded) until the IdP has received `n` refresh requests.
async fn refreshes_reach(idp: &TestIdp, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while idp
        .state
        .refresh_calls
        .load(std::sync::atomic::Ordering::SeqCst)
        < n
    {
        assert!(Instant::now() < deadline, "the IdP never saw refresh {n}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[actix_web::test]
async fn new_tokens_survive_a_redis_blink_after_the_idp_rotated_them() {
    let redis = RedisServer::start();
    let relay = Relay::start(redis.port).await;
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(0, 300);
    // The IdP takes a moment, so that Redis can blink between its answer and the write.
    idp.set_refresh_delay(300);
    let config = TestConfig::for_idp(&idp)
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"));
    let blinking = config.clone().redis_at(&relay.url()).start().await;
    let direct = config.redis(&redis).start().await;
    let mut b = Browser::signed_in(&direct, &idp).await;

    let mut on_blinking = b.copy();
    let call =
        tokio::spawn(async move { on_blinking.api_get(&blinking, "/api/x", &[]).await.status() });
    refreshes_reach(&idp, 1).await;
    relay.pause();
    // The IdP rotated the refresh token; the store cannot take the new tokens. The user still
    // gets an answer, with the new token.
    assert_eq!(
        call.await.expect("join"),
        200,
        "served from the tokens held in process"
    );
    relay.resume();
    // Written once Redis is back: the other replica finds them and needs no refresh.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = b.api_seen(&direct, "/api/x", &[]).await;
        if seen["headers"]["authorization"] == format!("Bearer {}", idp.last_access_token()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new tokens were never written"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = &idp.state;
    assert_eq!(
        state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(
        state
            .refresh_reuse
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(b.session(&direct).await.status(), 200, "still signed in");
}

#[actix_web::test]
async fn a_stalled_refresher_cannot_overwrite_what_another_replica_stored() {
    let redis = RedisServer::start();
    let relay = Relay::start(redis.port).await;
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(0, 300);
    // No rotation, so that the replica taking over can refresh with the same refresh token.
    idp.set_rotation(false);
    idp.set_refresh_delay(300);
    // The refresh lock lives http_timeout + 5 s: 6 s here.
    let config = TestConfig::for_idp(&idp)
        .set("oidc.http_timeout", "1s")
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"));
    let stalled = config.clone().redis_at(&relay.url()).start().await;
    let other = config.redis(&redis).start().await;
    let mut b = Browser::signed_in(&other, &idp).await;

    let mut on_stalled = b.copy();
    let call = tokio::spawn(async move {
        let status = on_stalled.api_get(&stalled, "/api/x", &[]).await.status();
        (status, on_stalled, stalled)
    });
    refreshes_reach(&idp, 1).await;
    relay.pause();
    let (status, mut on_stalled, stalled) = call.await.expect("join");
    assert_eq!(status, 200);
    let stale_token = idp.last_access_token();

    // Its lock expires; the other replica refreshes and stores newer tokens.
    idp.set_refresh_delay(0);
    let namespace = format!("{}|{}", idp.state.issuer, idp::CLIENT_ID);
    let lock = format!(
        "{}:refresh-lock",
        vestibule::store::storage_key("s", &namespace, &b.cookies["vestibule"])
    );
    assert!(
        redis.pttl(&lock) > 0,
        "the stalled replica still holds the lock, with a TTL"
    );
    eventually(
        "the stalled replica's lock expired",
        Duration::from_secs(15),
        async || redis.pttl(&lock) == -2,
    )
    .await;
    let seen = b.api_seen(&other, "/api/x", &[]).await;
    let newer = format!("Bearer {}", idp.last_access_token());
    assert_eq!(seen["headers"]["authorization"], newer.as_str());
    assert_ne!(newer, format!("Bearer {stale_token}"));

    // The stalled replica comes back: its write is refused, and it serves what is stored.
    relay.resume();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = on_stalled.api_seen(&stalled, "/api/x", &[]).await;
        if seen["headers"]["authorization"] == newer.as_str() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled replica kept its own tokens"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = b.api_seen(&other, "/api/x", &[]).await;
    assert_eq!(
        seen["headers"]["authorization"],
        newer.as_str(),
        "the stored session is still the newer one"
    );
}

#[actix_web::test]
async fn a_replica_killed_while_refreshing_leaves_a_session_that_still_works() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(0, 300);
    idp.set_rotation(false);
    idp.set_refresh_delay(2_000);
    let config = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("oidc.http_timeout", "1s")
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"));
    let mut doomed = Binary::spawn(config.clone(), &[]);
    let doomed_proxy = doomed.ready().await;
    let survivor = config.start().await;
    let mut b = Browser::signed_in(&survivor, &idp).await;

    let mut on_doomed = b.copy();
    let call = tokio::spawn(async move {
        on_doomed
            .get_with(&doomed_proxy.url("/api/x"), &[("x-csrf", "1")])
            .await
    });
    refreshes_reach(&idp, 1).await;
    // kill -9 while it holds the refresh lock.
    doomed.kill();
    let _ = call.await;
    idp.set_refresh_delay(0);
    // The survivor waits out the lock's TTL, then refreshes itself.
    let started = Instant::now();
    assert_eq!(b.api_get(&survivor, "/api/x", &[]).await.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        idp.state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert_eq!(b.session(&survivor).await.status(), 200);
}

/// Writes 1,000 entries through a Sentinel-backed store with `durability` (with the replica cut
/// off, its replication stream paused, when `lagging`), kills the primary, and once the replica
/// is promoted counts (writes the store confirmed, confirmed writes the new primary does not have),
/// with how long a read made during the writes took.
async fn failover(
    durability: vestibule::config::Durability,
    lagging: bool,
) -> (usize, usize, Duration) {
    use vestibule::config::{RedisConfig, RedisMode};
    use vestibule::store::Store;
    let (mut set, relay) = RedisSentinels::start_with_relay().await;
    let store = vestibule::store::redis::RedisStore::new(&RedisConfig {
        mode: RedisMode::Sentinel,
        sentinels: set.sentinel_urls(),
        master_name: Some(redis_ha::MASTER_NAME.into()),
        durability,
        // Generous when the replica is healthy: this machine runs the whole suite at once.
        replication_timeout: Duration::from_millis(if lagging { 300 } else { 5000 }),
        ..RedisConfig::default()
    })
    .expect("store");
    store.ping().await.expect("connected");
    if lagging {
        relay.pause();
    }
    let keys: Vec<String> = (0..1000)
        .map(|i| format!("vestibule:s:{{failover-{i}}}"))
        .collect();
    let ttl = Duration::from_secs(600);
    let writes = keys
        .iter()
        .map(|k| store.put(k, b"a session".to_vec(), ttl));
    let primary = &set.primary;
    let read = async {
        // The read must be made while writes are blocked in WAIT (a client with `cmd=wait` and
        // the blocked flag `b`): before that, it would prove nothing. Only the lagging
        // "replicated" run waits; the others' reads are not judged.
        if lagging && durability == vestibule::config::Durability::Replicated {
            eventually(
                "writes blocked in WAIT",
                Duration::from_secs(10),
                async || {
                    primary.clients().iter().any(|c| {
                        c.contains("cmd=wait")
                            && c.split(' ')
                                .any(|f| f.strip_prefix("flags=").is_some_and(|f| f.contains('b')))
                    })
                },
            )
            .await;
        }
        let started = Instant::now();
        store
            .get("vestibule:s:{probe}", None)
            .await
            .expect("a read");
        started.elapsed()
    };
    let (written, read_took) = tokio::join!(futures_util::future::join_all(writes), read);
    let confirmed: Vec<&String> = written
        .into_iter()
        .zip(&keys)
        .filter_map(|(written, k)| written.is_ok().then_some(k))
        .collect();
    let old = set.primary.port;
    set.primary.kill();
    drop(relay);
    let deadline = Instant::now() + Duration::from_secs(30);
    while set.primary_port().is_none_or(|p| p == old) {
        assert!(Instant::now() < deadline, "no promotion");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut lost = 0;
    for k in &confirmed {
        let found = loop {
            match store.get(k, None).await {
                Ok(v) => break v.is_some(),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("store never came back: {e}"),
            }
        };
        lost += usize::from(!found);
    }
    (confirmed.len(), lost, read_took)
}

#[actix_web::test]
async fn with_replicated_durability_a_failover_loses_no_confirmed_session() {
    use vestibule::config::Durability;
    let (confirmed_h, lost_h, _) = failover(Durability::Replicated, false).await;
    let (confirmed, lost, _) = failover(Durability::Primary, true).await;
    let (confirmed_r, lost_r, read_took) = failover(Durability::Replicated, true).await;
    eprintln!(
        "failover, 1,000 writes: healthy replica, \"replicated\" confirmed {confirmed_h} and lost \
         {lost_h}; lagging replica, \"primary\" confirmed {confirmed} and lost {lost}, \
         \"replicated\" confirmed {confirmed_r} and lost {lost_r} (a read meanwhile: {read_took:?})"
    );
    assert_eq!(
        (confirmed_h, lost_h),
        (1000, 0),
        "with a healthy replica every write is confirmed and kept"
    );
    assert!(
        lost > 0,
        "asynchronous replication does lose confirmed writes here"
    );
    assert_eq!(lost_r, 0, "no confirmed write is lost");
    assert_eq!(
        confirmed_r, 0,
        "a write no replica confirms is refused (a 503), not kept"
    );
    assert!(
        read_took < Duration::from_millis(250),
        "reads do not queue behind writes waiting for a replica (took {read_took:?})"
    );
}

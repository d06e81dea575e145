//! One session-store test suite, run against both stores: memory and a real redis-server.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use vestibule::store::Store;
use vestibule::store::memory::MemoryStore;
use vestibule::store::redis::RedisStore;

fn key(name: &str) -> String {
    format!("vestibule:test:{name}:{}", uuid::Uuid::new_v4().simple())
}

async fn put_get_delete(store: &dyn Store) {
    let k = key("a");
    assert_eq!(store.get(&k, None).await.expect("get"), None);
    store
        .put(&k, b"one".to_vec(), Duration::from_secs(60))
        .await
        .expect("put");
    assert_eq!(
        store.get(&k, None).await.expect("get").as_deref(),
        Some(&b"one"[..])
    );
    store
        .put(&k, b"two".to_vec(), Duration::from_secs(60))
        .await
        .expect("overwrite");
    assert_eq!(
        store.get(&k, None).await.expect("get").as_deref(),
        Some(&b"two"[..])
    );
    store.delete(&k).await.expect("delete");
    assert_eq!(store.get(&k, None).await.expect("get"), None);
    store
        .delete(&k)
        .await
        .expect("deleting a missing key is fine");
    store.ping().await.expect("ping");
}

async fn take_is_single_use_under_concurrency(store: Arc<dyn Store>) {
    let k = key("take");
    store
        .put(&k, b"once".to_vec(), Duration::from_secs(60))
        .await
        .expect("put");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = store.clone();
        let k = k.clone();
        tasks.push(tokio::spawn(async move { s.take(&k).await.expect("take") }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.expect("join").is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent take gets the entry");
    assert_eq!(store.get(&k, None).await.expect("get"), None);
}

async fn entries_expire(store: &dyn Store) {
    let k = key("ttl");
    let ttl = Duration::from_millis(500);
    let put_at = Instant::now();
    store.put(&k, b"short".to_vec(), ttl).await.expect("put");
    let got = store.get(&k, None).await.expect("get");
    // Judged only when the read was answered within the TTL: a loaded machine may stall longer.
    if put_at.elapsed() < ttl {
        assert!(got.is_some(), "not expired before its TTL");
    }
    eventually("the entry expired", Duration::from_secs(10), async || {
        store.get(&k, None).await.expect("get").is_none()
    })
    .await;
    assert_eq!(store.take(&k).await.expect("take"), None);
}

async fn get_slides_expiry(store: &dyn Store) {
    // Slid further: read at once with a 60 s slide, it outlives its 1 s TTL. An attempt whose
    // read came after the TTL (a stalled machine) proves nothing and is made again.
    let ttl = Duration::from_secs(1);
    let mut judged = None;
    for _ in 0..5 {
        let k = key("slide");
        let put_at = Instant::now();
        store.put(&k, b"idle".to_vec(), ttl).await.expect("put");
        let slid = store.get(&k, Some(Duration::from_secs(60))).await;
        if put_at.elapsed() < ttl {
            assert!(slid.expect("get").is_some());
            judged = Some((k, put_at));
            break;
        }
    }
    let (k, put_at) = judged.expect("a read within 1 s of its write, in five attempts");
    // Idle past the original expiry: passing time is the point (200 ms beyond it, so that no
    // clock granularity puts this read before it).
    tokio::time::sleep_until((put_at + ttl + Duration::from_millis(200)).into()).await;
    assert!(
        store.get(&k, None).await.expect("get").is_some(),
        "the read pushed expiry out"
    );
    // Slid nearer: the expiry is set from the read, both ways.
    assert!(
        store
            .get(&k, Some(Duration::from_millis(300)))
            .await
            .expect("get")
            .is_some()
    );
    eventually(
        "idle past the sliding timeout, gone",
        Duration::from_secs(10),
        async || store.get(&k, None).await.expect("get").is_none(),
    )
    .await;
}

async fn put_if_absent_is_a_lock_that_knows_its_owner(store: &dyn Store) {
    let k = key("lock");
    let ttl = Duration::from_secs(60);
    assert!(store.put_if_absent(&k, "owner-a", ttl).await.expect("lock"));
    assert!(
        store
            .put_if_absent(&k, "owner-a", ttl)
            .await
            .expect("again"),
        "the owner asking again (a retry after a lost answer) still holds it"
    );
    assert!(
        !store
            .put_if_absent(&k, "owner-b", ttl)
            .await
            .expect("other")
    );
    store.delete_if(&k, "owner-b").await.expect("not b's");
    assert!(
        !store
            .put_if_absent(&k, "owner-b", ttl)
            .await
            .expect("still a's")
    );
    store.delete_if(&k, "owner-a").await.expect("a releases");
    assert!(
        store
            .put_if_absent(&k, "owner-b", ttl)
            .await
            .expect("now b's")
    );
    store.delete(&k).await.expect("clean up");
}

async fn suite(store: Arc<dyn Store>) {
    put_get_delete(store.as_ref()).await;
    put_if_absent_is_a_lock_that_knows_its_owner(store.as_ref()).await;
    take_is_single_use_under_concurrency(store.clone()).await;
    entries_expire(store.as_ref()).await;
    get_slides_expiry(store.as_ref()).await;
}

#[actix_web::test]
async fn the_memory_store_passes_the_store_suite() {
    let store = Arc::new(MemoryStore::new());
    suite(store.clone()).await;
    assert!(store.is_empty(), "nothing left behind");
}

#[actix_web::test]
async fn the_redis_store_passes_the_store_suite() {
    let redis = RedisServer::start();
    suite(Arc::new(RedisStore::connect(&redis.url()).expect("client"))).await;
}

#[actix_web::test]
async fn a_stopped_redis_is_reported_quickly_and_the_store_reconnects() {
    let redis = RedisServer::start();
    let port = redis.port;
    let store = RedisStore::connect(&redis.url()).expect("client");
    store.ping().await.expect("up");
    drop(redis);
    let started = std::time::Instant::now();
    assert!(
        store.ping().await.is_err(),
        "a stopped Redis is an error, not a hang"
    );
    assert!(store.get("vestibule:x", None).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
    let _again = RedisServer::start_on(port);
    let mut ok = false;
    for _ in 0..100 {
        if store.ping().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the store reconnects by itself");
}

/// Vestibule on this Redis with the session cache off (every request asks Redis), an API route,
/// and a signed-in browser.
async fn on_redis(redis: &RedisServer) -> (TestIdp, Upstream, Proxy, Browser) {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .redis(redis)
        .set("session.cache_ttl", "0s")
        .route(api.api_route("required"))
        .start()
        .await;
    let b = Browser::signed_in(&proxy, &idp).await;
    (idp, api, proxy, b)
}

#[actix_web::test]
async fn a_dropped_redis_connection_costs_no_request() {
    let redis = RedisServer::start();
    let (_idp, _api, proxy, mut b) = on_redis(&redis).await;
    for round in 0..3 {
        // What a failover, a proxy restart or a network blip does to every client.
        redis.command(&["CLIENT", "KILL", "TYPE", "normal"]);
        assert_eq!(
            b.session(&proxy).await.status(),
            200,
            "round {round}: session"
        );
        redis.command(&["CLIENT", "KILL", "TYPE", "normal"]);
        assert_eq!(
            b.api_get(&proxy, "/api/x", &[]).await.status(),
            200,
            "round {round}: API call"
        );
    }
}

#[actix_web::test]
async fn a_connection_the_server_closed_while_idle_costs_no_request() {
    let redis = RedisServer::start();
    let (_idp, _api, proxy, mut b) = on_redis(&redis).await;
    // Managed Redis services close idle clients like this.
    redis.command(&["CONFIG", "SET", "timeout", "1"]);
    assert_eq!(b.session(&proxy).await.status(), 200);
    // The proxy's connections now, its subscriber aside (Redis never times those out).
    let normal = || -> Vec<String> {
        redis
            .clients()
            .into_iter()
            .filter(|c| {
                !c.split(' ')
                    .any(|f| f.starts_with("flags=") && f.contains('P'))
            })
            .filter_map(|c| c.split(' ').next().map(str::to_owned))
            .collect()
    };
    let held = normal();
    assert!(!held.is_empty(), "the proxy holds a connection");
    eventually(
        "the server closed the proxy's idle connections",
        Duration::from_secs(15),
        async || normal().iter().all(|id| !held.contains(id)),
    )
    .await;
    assert_eq!(
        b.session(&proxy).await.status(),
        200,
        "first request after a quiet period"
    );
}

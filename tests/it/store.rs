//! One session-store test suite, run against both stores: memory and a real redis-server.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use vestibule::session::SessionStore;
use vestibule::session::memory::MemoryStore;
use vestibule::session::redis::RedisStore;

fn key(name: &str) -> String {
    format!("vestibule:test:{name}:{}", uuid::Uuid::new_v4().simple())
}

async fn put_get_delete(store: &dyn SessionStore) {
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

async fn take_is_single_use_under_concurrency(store: Arc<dyn SessionStore>) {
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

async fn entries_expire(store: &dyn SessionStore) {
    let k = key("ttl");
    store
        .put(&k, b"short".to_vec(), Duration::from_millis(300))
        .await
        .expect("put");
    assert!(store.get(&k, None).await.expect("get").is_some());
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        store.get(&k, None).await.expect("get"),
        None,
        "expired entries are gone"
    );
    assert_eq!(store.take(&k).await.expect("take"), None);
}

async fn get_slides_expiry(store: &dyn SessionStore) {
    let k = key("slide");
    store
        .put(&k, b"idle".to_vec(), Duration::from_millis(400))
        .await
        .expect("put");
    // Keep using it past its original expiry: each read pushes expiry out again.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            store
                .get(&k, Some(Duration::from_millis(400)))
                .await
                .expect("get")
                .is_some()
        );
    }
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(
        store.get(&k, None).await.expect("get"),
        None,
        "idle past the sliding timeout"
    );
}

async fn put_if_absent_is_a_lock_that_knows_its_owner(store: &dyn SessionStore) {
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

async fn suite(store: Arc<dyn SessionStore>) {
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
    // Idle past the server's timeout: passing time is the point.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(
        b.session(&proxy).await.status(),
        200,
        "first request after a quiet period"
    );
}

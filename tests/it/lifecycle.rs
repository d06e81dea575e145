//! Token lifecycle: refresh exactly once under concurrency (one replica or two on one Redis),
//! invalid_grant and IdP outages, logout with revocation, back-channel logout.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

/// A signed-in browser whose access token already needs a refresh (issued with
/// `expires_in: 0`: a token refreshed ahead of time would only be refreshed with 2 s of 5 left).
async fn expiring_session(idp: &TestIdp, proxy: &Proxy) -> Browser {
    idp.state.login_expires_in.store(0, Ordering::SeqCst);
    let mut b = Browser::new();
    assert_eq!(b.log_in(proxy, idp, Tweak::None, "/").await.status(), 302);
    b
}

fn assert_all_fresh(results: &[(u16, String)], idp: &TestIdp) {
    let fresh = format!("Bearer {}", idp.last_access_token());
    for (status, bearer) in results {
        assert_eq!(*status, 200);
        assert_eq!(bearer, &fresh, "every call carries the refreshed token");
    }
    assert_eq!(
        idp.state.refresh_calls.load(Ordering::SeqCst),
        1,
        "exactly one refresh at the IdP"
    );
    assert_eq!(
        idp.state.refresh_reuse.load(Ordering::SeqCst),
        0,
        "no rotated refresh token reused"
    );
}

#[actix_web::test]
async fn fifty_concurrent_calls_cause_one_refresh_on_the_memory_store() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let b = expiring_session(&idp, &proxy).await;
    let results = b.concurrent_api_calls(&[&proxy], "/api/data", 50).await;
    assert_eq!(results.len(), 50);
    assert_all_fresh(&results, &idp);
}

#[actix_web::test]
async fn fifty_concurrent_calls_cause_one_refresh_across_two_replicas_on_redis() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let (a, b_replica) = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("required"))
        .start_two()
        .await;
    let mut b = expiring_session(&idp, &a).await;
    // Both replicas load (and cache) the session with its expiring token, so both want to refresh.
    assert_eq!(b.session(&a).await.status(), 200);
    assert_eq!(b.session(&b_replica).await.status(), 200);
    let results = b
        .concurrent_api_calls(&[&a, &b_replica], "/api/data", 50)
        .await;
    assert_all_fresh(&results, &idp);
    // Later calls on either replica use the stored fresh token, without refreshing again.
    let results = b
        .concurrent_api_calls(&[&a, &b_replica], "/api/data", 10)
        .await;
    assert_all_fresh(&results, &idp);
}

#[actix_web::test]
async fn a_slow_refresh_is_still_one_refresh_and_every_call_waits_for_it() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let (a, b_replica) = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("required"))
        .start_two()
        .await;
    let b = expiring_session(&idp, &a).await;
    idp.set_refresh_delay(1500);
    let started = std::time::Instant::now();
    let results = b
        .concurrent_api_calls(&[&a, &b_replica], "/api/data", 20)
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the calls waited for the refresh"
    );
    assert_all_fresh(&results, &idp);
}

#[actix_web::test]
async fn invalid_grant_ends_the_session() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = expiring_session(&idp, &proxy).await;
    idp.state.refuse_refresh.store(true, Ordering::SeqCst);
    let res = b.api_get(&proxy, "/api/data", &[]).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unauthenticated");
    assert_eq!(api.hit_count(), 0, "nothing forwarded");
    assert_eq!(b.session(&proxy).await.status(), 401, "the session is gone");
}

#[actix_web::test]
async fn an_idp_outage_during_a_refresh_gives_503_and_keeps_the_session() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = expiring_session(&idp, &proxy).await;
    idp.stop().await;
    let res = b.api_get(&proxy, "/api/data", &[]).await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "idp_unavailable");
    assert_eq!(
        b.session(&proxy).await.status(),
        200,
        "the session is kept for a later try"
    );
    assert_eq!(api.hit_count(), 0);
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let refresh_token = idp.state.issued.lock().expect("issued")[1].clone();
    assert!(refresh_token.starts_with("rt-"));
    let logout_url = b.logout_url(&proxy).await;
    let res = b.get(&proxy.url(&logout_url)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        *idp.state.revoked.lock().expect("revoked"),
        vec![refresh_token]
    );
    assert_eq!(b.session(&proxy).await.status(), 401);
}

#[actix_web::test]
async fn backchannel_logout_ends_matching_sessions_on_every_replica() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, other) = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("session.cache_ttl", "0s")
        .start_two()
        .await;
    let mut first = Browser::new();
    let mut second = Browser::new();
    assert_eq!(first.log_in(&a, &idp, Tweak::None, "/").await.status(), 302);
    assert_eq!(
        second.log_in(&a, &idp, Tweak::None, "/").await.status(),
        302
    );
    let sid = first.session_info(&a).await["claims"]["sid"]
        .as_str()
        .expect("sid claim")
        .to_owned();

    // By sid: only that IdP session ends, seen by the other replica too.
    let token = idp.logout_token(idp.logout_claims(Some(&sid), Some("user-42")), false);
    let res = other.backchannel_logout(logout_form(&token), FORM).await;
    assert_eq!(res.status(), 200);
    assert_eq!(first.session(&a).await.status(), 401);
    assert_eq!(first.session(&other).await.status(), 401);
    assert_eq!(
        second.session(&a).await.status(),
        200,
        "another IdP session of the user stays"
    );

    // Replay of the same token: refused.
    let res = a.backchannel_logout(logout_form(&token), FORM).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request");

    // By sub only: every session of the user ends.
    let token = idp.logout_token(idp.logout_claims(None, Some("user-42")), false);
    assert_eq!(
        a.backchannel_logout(logout_form(&token), FORM)
            .await
            .status(),
        200
    );
    assert_eq!(second.session(&other).await.status(), 401);
}

#[actix_web::test]
async fn ten_second_tokens_are_refreshed_once_and_then_left_alone() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    // A 1 s token at login; every refresh gives a 10 s one (well under the 30 s skew).
    idp.state.login_expires_in.store(1, Ordering::SeqCst);
    idp.state.refresh_expires_in.store(10, Ordering::SeqCst);
    let mut b = Browser::new();
    assert_eq!(b.log_in(&proxy, &idp, Tweak::None, "/").await.status(), 302);
    // The login token has to expire: passing time is the point (expiry is in whole seconds).
    tokio::time::sleep(Duration::from_millis(2_100)).await;

    // No earlier than this, the IdP issues the 10 s token.
    let before_refresh = std::time::Instant::now();
    let results = b.concurrent_api_calls(&[&proxy], "/api/data", 20).await;
    assert_eq!(results.len(), 20);
    assert_all_fresh(&results, &idp);

    // Calls through the new token's first half: it is refreshable from 5 s left, that is from
    // 4 s after `before_refresh` at the earliest (expiry is stored in whole seconds, so up to
    // 1 s is lost to rounding). A call starts no later than 3 s after it (a 1 s margin for the
    // call itself); however few calls a loaded machine manages, each one is judged.
    let mut calls = 0;
    while before_refresh.elapsed() < Duration::from_secs(3) {
        assert_eq!(b.api_get(&proxy, "/api/data", &[]).await.status(), 200);
        calls += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(calls > 0, "no call in the first half of the token");
    assert_eq!(
        idp.state.refresh_calls.load(Ordering::SeqCst),
        1,
        "a token just obtained is not refreshed again ({calls} calls)"
    );
}

#[actix_web::test]
async fn a_login_that_replaces_a_session_revokes_its_refresh_token() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let replaced = idp.last_refresh_token();
    // The same browser signs in again (a re-login; a step-up takes the same path).
    assert_eq!(b.log_in(&proxy, &idp, Tweak::None, "/").await.status(), 302);
    let current = idp.last_refresh_token();
    assert_ne!(current, replaced);
    assert_eq!(
        *idp.state.revoked.lock().expect("revoked"),
        vec![replaced],
        "the replaced session's token, and only it"
    );
    assert_eq!(b.session(&proxy).await.status(), 200);
}

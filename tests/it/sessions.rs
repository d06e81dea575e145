//! Seeing and ending sessions: the user's own list (`/auth/sessions`), the operators' admin API
//! and `vestibule sessions`, polling without sliding, and the SPA's event stream
//! (`/auth/events`), on one replica and across two.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef0123456789";
const SOON: Duration = Duration::from_secs(2);

fn revoked(idp: &TestIdp) -> Vec<String> {
    idp.state.revoked.lock().expect("revoked").clone()
}

/// A browser signed in with a user agent (as a real one sends), and its refresh token.
async fn device(proxy: &Proxy, idp: &TestIdp) -> (Browser, String) {
    let b = Browser::signed_in_as_device(proxy, idp).await;
    (b, idp.last_refresh_token())
}

#[actix_web::test]
async fn a_user_sees_their_sessions_and_signs_out_another_device() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let (mut laptop, _) = device(&proxy, &idp).await;
    let (mut phone, phone_refresh) = device(&proxy, &idp).await;

    let list = laptop.sessions(&proxy).await;
    assert_eq!(list.len(), 2);
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1, "one is the caller's");
    for s in &list {
        assert_eq!(s["user_agent"], "Firefox on Linux");
        assert_eq!(s["ip"], "127.0.0.0/24");
        assert!(s["last_seen"].as_i64() >= s["created_at"].as_i64());
        assert!(s["absolute_expires_at"].as_i64() > s["idle_expires_at"].as_i64());
        let handle = s["handle"].as_str().unwrap();
        assert_eq!(handle.len(), 22);
        for secret in [&laptop.cookies["vestibule"], &phone.cookies["vestibule"]] {
            assert!(!secret.contains(handle) && !handle.contains(secret.as_str()));
        }
    }
    let phone_handle = phone.own_handle(&proxy).await;
    let res = laptop
        .end_session(&proxy, &phone_handle, &[("x-csrf", "1")])
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        phone.session(&proxy).await.status(),
        401,
        "the phone is signed out"
    );
    assert_eq!(
        laptop.session(&proxy).await.status(),
        200,
        "the laptop is not"
    );
    assert!(
        revoked(&idp).contains(&phone_refresh),
        "its refresh token was revoked"
    );
    assert_eq!(laptop.sessions(&proxy).await.len(), 1);
    // Ended already: 404.
    let res = laptop
        .end_session(&proxy, &phone_handle, &[("x-csrf", "1")])
        .await;
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn end_others_keeps_only_the_callers_session_and_revokes_the_rest() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, b_replica) = TestConfig::for_idp(&idp).redis(&redis).start_two().await;
    let (mut keep, keep_refresh) = device(&a, &idp).await;
    let mut others = Vec::new();
    for _ in 0..3 {
        let (mut b, rt) = device(&b_replica, &idp).await;
        // Loaded and cached on the replica that will not end it.
        assert_eq!(b.session(&b_replica).await.status(), 200);
        others.push((b, rt));
    }
    let res = keep.end_other_sessions(&a).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["ended"], 3);
    for (b, rt) in &mut others {
        assert_eq!(
            b.session(&b_replica).await.status(),
            401,
            "ended on the other replica too"
        );
        assert!(revoked(&idp).contains(rt));
    }
    assert!(!revoked(&idp).contains(&keep_refresh));
    assert_eq!(keep.session(&b_replica).await.status(), 200);
    let list = keep.sessions(&b_replica).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
}

#[actix_web::test]
async fn polling_with_slide_false_does_not_keep_a_session_alive() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.idle_timeout", "2s")
        .set("session.cache_ttl", "0s")
        .start()
        .await;
    let mut polled = Browser::signed_in(&proxy, &idp).await;
    let mut used = Browser::signed_in(&proxy, &idp).await;
    let info = polled.session_info(&proxy).await;
    assert!(info["absolute_expires_at"].as_i64() > info["idle_expires_at"].as_i64());
    let poll = proxy.url("/auth/session?slide=false");
    let use_it = proxy.url("/auth/session");
    // Both are asked every 250 ms; only the one used for real stays signed in.
    let deadline = std::time::Instant::now() + Duration::from_secs(6);
    let mut polled_status = 200;
    while polled_status == 200 && std::time::Instant::now() < deadline {
        polled_status = polled
            .get_with(&poll, &[("x-csrf", "1")])
            .await
            .status()
            .as_u16();
        assert_eq!(
            used.get_with(&use_it, &[("x-csrf", "1")]).await.status(),
            200
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        polled_status, 401,
        "polling without sliding let the idle timeout end it"
    );
    assert_eq!(
        polled
            .get_with(&proxy.url("/auth/session?slide=maybe"), &[("x-csrf", "1")])
            .await
            .status(),
        400
    );
}

#[actix_web::test]
async fn the_event_stream_reports_logout_and_changed_claims() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("user"))
        .start()
        .await;
    idp.state.login_expires_in.store(0, Ordering::SeqCst);
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let mut events = b.events(&proxy).await;
    // A refresh whose new ID token changes a claim.
    *idp.state.id_token_on_refresh.lock().unwrap() = Some(idp::SUB.into());
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    let (name, _) = events.next(SOON).await.expect("an event");
    assert_eq!(name, "claims_changed");
    assert_eq!(b.session_info(&proxy).await["claims"]["name"], "Ada King");
    let logout = b.logout_url(&proxy).await;
    b.get(&proxy.url(&logout)).await;
    let (name, data) = events.next(SOON).await.expect("an event");
    assert_eq!(name, "session_ended");
    assert_eq!(data["reason"], "logout");
    assert!(
        events.closed(SOON).await,
        "the stream ends with the session"
    );
}

#[actix_web::test]
async fn the_event_stream_warns_before_the_idle_end_and_reports_expiry() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.idle_timeout", "3s")
        .set("session.expiry_notice", "2s")
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let mut events = b.events(&proxy).await;
    let (name, data) = events
        .next(Duration::from_secs(4))
        .await
        .expect("a warning");
    assert_eq!(name, "session_expiring");
    assert_eq!(data["reason"], "idle");
    // The seconds left, at most the notice, and the instant they count to.
    let left = data["expires_in"].as_i64().expect("expires_in");
    assert!((0..=2).contains(&left), "expires_in {left}");
    let until = data["expires_at"].as_i64().expect("expires_at") - now_unix();
    assert!(
        (until - left).abs() <= 1,
        "expires_in {left}, expires_at in {until}"
    );
    // Keep-alives and the stream itself are not activity: the session ends.
    let (name, data) = events.next(Duration::from_secs(5)).await.expect("the end");
    assert_eq!(name, "session_ended");
    assert_eq!(data["reason"], "expired");
    let res = b.session(&proxy).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
    assert!(
        body.get("reason").is_none(),
        "no reason kept for an expiry: {body}"
    );
}

#[actix_web::test]
async fn reopening_the_event_stream_is_not_activity_and_keeps_no_session_alive() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.idle_timeout", "3s")
        .set("session.expiry_notice", "1s")
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let idle_end = b.session_info(&proxy).await["idle_expires_at"]
        .as_i64()
        .expect("idle_expires_at");
    // A client that reconnects again and again (a flaky network, restarts) until past the end
    // the page's last call gave: each stream opens (200), and none of them moves that end.
    let mut opened = 0;
    while now_unix() < idle_end {
        let res = b
            .get_with(&proxy.url("/auth/events"), &[("x-csrf", "1")])
            .await;
        assert_eq!(res.status(), 200);
        opened += 1;
        drop(res);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(opened >= 2, "opened {opened} streams");
    assert!(
        b.wait_for(
            &proxy.url("/auth/session?slide=false"),
            &[("x-csrf", "1")],
            401,
            // A slide by the last stream would have moved the end about 3 s past it.
            Duration::from_millis(1500)
        )
        .await,
        "the unused session ended at its idle end"
    );
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64
}

#[actix_web::test]
async fn a_401_says_why_the_session_ended_on_any_replica_and_nothing_it_does_not_know() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, b) = TestConfig::for_idp(&idp).redis(&redis).start_two().await;
    let (mut laptop, _) = device(&a, &idp).await;
    let (mut phone, _) = device(&a, &idp).await;
    let handle = phone.own_handle(&a).await;
    let res = laptop.end_session(&a, &handle, &[("x-csrf", "1")]).await;
    assert_eq!(res.status(), 204);
    // Asked of the other replica (as after a restart): the store remembers why.
    for path in ["/auth/session", "/auth/events", "/auth/sessions"] {
        let res = phone.get_with(&b.url(path), &[("x-csrf", "1")]).await;
        assert_eq!(res.status(), 401, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            (body["error"].as_str(), body["reason"].as_str()),
            (Some("unauthenticated"), Some("revoked")),
            "{path}: {body}"
        );
    }
    // A tab that kept the cookie after the user signed out in another.
    let mut stale = laptop.copy();
    let logout = laptop.logout_url(&a).await;
    assert_eq!(laptop.get(&a.url(&logout)).await.status(), 302);
    let body: Value = stale.session(&b).await.json().await.unwrap();
    assert_eq!(body["reason"], "logout");
    // Never signed in, or a cookie of no session we had: no reason.
    let mut stranger = Browser::new();
    let mut forged = Browser::new();
    forged.cookies.insert("vestibule".into(), "A".repeat(43));
    for (who, browser) in [("never signed in", &mut stranger), ("forged", &mut forged)] {
        let res = browser.session(&a).await;
        assert_eq!(res.status(), 401, "{who}");
        let body: Value = res.json().await.unwrap();
        assert!(body.get("reason").is_none(), "{who}: {body}");
    }
}

#[actix_web::test]
async fn an_event_raised_on_one_replica_reaches_streams_on_another() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, b_replica) = TestConfig::for_idp(&idp).redis(&redis).start_two().await;
    let (mut laptop, _) = device(&a, &idp).await;
    let (mut phone, _) = device(&a, &idp).await;
    // The phone's stream is held by replica B; the laptop ends it through replica A.
    let mut events = phone.events(&b_replica).await;
    let handle = phone.own_handle(&b_replica).await;
    let started = std::time::Instant::now();
    assert_eq!(
        laptop
            .end_session(&a, &handle, &[("x-csrf", "1")])
            .await
            .status(),
        204
    );
    let (name, data) = events.next(SOON).await.expect("session_ended on replica B");
    assert_eq!(
        (name.as_str(), data["reason"].as_str()),
        ("session_ended", Some("revoked"))
    );
    assert!(started.elapsed() < SOON);
    assert_eq!(phone.session(&b_replica).await.status(), 401);
    // A back-channel logout on B reaches a stream on A.
    let (mut tablet, _) = device(&a, &idp).await;
    let mut events = tablet.events(&a).await;
    let sid = tablet.session_info(&a).await["claims"]["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = idp.logout_token(idp.logout_claims(Some(&sid), None), false);
    let res = b_replica
        .backchannel_logout(logout_form(&token), FORM)
        .await;
    assert_eq!(res.status(), 200);
    let (name, data) = events.next(SOON).await.expect("session_ended on replica A");
    assert_eq!(name, "session_ended");
    assert_eq!(data["reason"], "backchannel_logout");
}

#[actix_web::test]
async fn operators_list_count_and_end_sessions_through_the_admin_api_and_the_cli() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .start_with_admin(ADMIN_TOKEN)
        .await;
    let (mut ada, ada_refresh) = device(&proxy, &idp).await;
    let (mut ada2, _) = device(&proxy, &idp).await;
    let mut bob = Browser::new();
    assert_eq!(
        bob.log_in(&proxy, &idp, Tweak::Sub("bob"), "/")
            .await
            .status(),
        302
    );
    let bob_sid = bob.session_info(&proxy).await["claims"]["sid"]
        .as_str()
        .unwrap()
        .to_owned();

    let token = Some(ADMIN_TOKEN);
    let res = proxy
        .admin(Method::GET, "/admin/sessions/count", token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["live"], 3);
    let res = proxy
        .admin(
            Method::GET,
            &format!("/admin/sessions?sub={}", idp::SUB),
            token,
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sessions"].as_array().unwrap().len(), 2);

    // The CLI, against the running proxy's admin listener, with the token from the environment.
    let toml = proxy
        .toml
        .replace(&format!("admin_token = \"{ADMIN_TOKEN}\"\n"), "");
    let env = [("VESTIBULE_SERVER__ADMIN_TOKEN", ADMIN_TOKEN)];
    let (code, out) = binary::command(&["sessions", "count"], &toml, &env);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("\"live\": 3"), "{out}");
    let (code, out) = binary::command(&["sessions", "end", "--sid", &bob_sid], &toml, &env);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("\"ended\": 1"), "{out}");
    assert_eq!(bob.session(&proxy).await.status(), 401);
    let (code, out) = binary::command(&["sessions", "count"], &toml, &[]);
    assert_eq!(code, Some(1), "no token: {out}");
    assert!(out.contains("VESTIBULE_SERVER__ADMIN_TOKEN"), "{out}");

    let res = proxy
        .admin(
            Method::DELETE,
            &format!("/admin/sessions?sub={}", idp::SUB),
            token,
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["ended"], 2);
    assert_eq!(ada.session(&proxy).await.status(), 401);
    assert_eq!(ada2.session(&proxy).await.status(), 401);
    assert!(revoked(&idp).contains(&ada_refresh));
    let res = proxy
        .admin(Method::GET, "/admin/sessions/count", token)
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["live"], 0);
}

/// The store key of a browser's session.
fn key_of(idp: &TestIdp, b: &Browser) -> String {
    let namespace = format!("{}|{}", idp.state.issuer, idp::CLIENT_ID);
    vestibule::store::storage_key("s", &namespace, &b.cookies["vestibule"])
}

#[actix_web::test]
async fn a_session_whose_registry_entry_does_not_open_is_listed_as_unknown_and_can_still_be_ended()
{
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let a = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("user"))
        .start_with_admin(ADMIN_TOKEN)
        .await;
    // A second proxy on the same Redis that holds another key (a botched rotation).
    let b = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("user"))
        .set("session.encryption_key", config::OTHER_ENCRYPTION_KEY)
        .start_with_admin(ADMIN_TOKEN)
        .await;
    let (mut laptop, _) = device(&a, &idp).await;
    let (mut phone, _) = device(&a, &idp).await;
    let (mut tablet, _) = device(&a, &idp).await;

    // Listing through B opens none of the entries: all listed, as unknown devices, and pruned
    // from nothing (listed again through B, and with their devices through A).
    for _ in 0..2 {
        let list = laptop.sessions(&b).await;
        assert_eq!(list.len(), 3, "{list:?}");
        for s in &list {
            assert_eq!(s["device"], "unknown", "{s}");
            assert!(
                s["user_agent"].is_null() && s["created_at"].is_null(),
                "{s}"
            );
            assert_eq!(s["handle"].as_str().unwrap().len(), 22);
        }
        assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    }
    let list = laptop.sessions(&a).await;
    assert_eq!(list.len(), 3, "still in the user's index");
    assert!(list.iter().all(|s| s["device"] == "known"), "{list:?}");
    let res = b
        .admin(
            Method::GET,
            &format!("/admin/sessions?sub={}", idp::SUB),
            Some(ADMIN_TOKEN),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["sessions"].as_array().unwrap().len(), 3, "{body}");

    // A damaged entry: listed through A as unknown, and ended by its handle.
    redis.garble_registry_entry(&key_of(&idp, &tablet));
    let list = laptop.sessions(&a).await;
    let unknown: Vec<&Value> = list.iter().filter(|s| s["device"] == "unknown").collect();
    assert_eq!(unknown.len(), 1, "{list:?}");
    let handle = unknown[0]["handle"].as_str().unwrap().to_owned();
    let res = laptop.end_session(&a, &handle, &[("x-csrf", "1")]).await;
    assert_eq!(res.status(), 204);
    assert_eq!(tablet.session(&a).await.status(), 401);

    // end-others and the admin API through B end what B cannot open.
    let res = laptop.end_other_sessions(&b).await;
    assert_eq!(res.json::<Value>().await.unwrap()["ended"], 1);
    assert_eq!(
        phone.api_get(&a, "/api/x", &[]).await.status(),
        401,
        "the phone is signed out"
    );
    assert_eq!(laptop.api_get(&a, "/api/x", &[]).await.status(), 200);
    let res = b
        .admin(
            Method::DELETE,
            &format!("/admin/sessions?sub={}", idp::SUB),
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["ended"], 1);
    assert_eq!(
        laptop.api_get(&b, "/api/x", &[]).await.status(),
        401,
        "the last one is signed out too"
    );
}

#[actix_web::test]
async fn a_login_past_max_per_user_ends_the_oldest_session_as_replaced_and_revokes_it() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("session.max_per_user", 2u64)
        .start()
        .await;
    let (mut oldest, oldest_refresh) = device(&proxy, &idp).await;
    let mut events = oldest.events(&proxy).await;
    let (mut second, second_refresh) = device(&proxy, &idp).await;
    assert_eq!(
        oldest.session(&proxy).await.status(),
        200,
        "two are allowed"
    );
    let (mut third, _) = device(&proxy, &idp).await;
    let (name, data) = events.next(SOON).await.expect("an event");
    assert_eq!(
        (name.as_str(), data["reason"].as_str()),
        ("session_ended", Some("replaced"))
    );
    assert_eq!(oldest.session(&proxy).await.status(), 401);
    assert_eq!(second.session(&proxy).await.status(), 200);
    assert_eq!(third.session(&proxy).await.status(), 200);
    assert!(
        revoked(&idp).contains(&oldest_refresh),
        "revoked like a logout"
    );
    assert!(!revoked(&idp).contains(&second_refresh));
    assert_eq!(third.sessions(&proxy).await.len(), 2);
}

#[actix_web::test]
async fn a_session_list_reads_every_entry_in_one_batch() {
    const SESSIONS: usize = 12;
    const LATENCY: Duration = Duration::from_millis(100);
    let redis = RedisServer::start();
    let far = Relay::start_with_latency(redis.port, LATENCY).await;
    let idp = TestIdp::start().await;
    let config = TestConfig::for_idp(&idp)
        .set("session.max_per_user", 0u64)
        .set("session.cache_ttl", "0s");
    let near = config.clone().redis(&redis).start().await;
    let mut browsers = Vec::new();
    for _ in 0..SESSIONS {
        browsers.push(device(&near, &idp).await.0);
    }
    // Through a Redis 100 ms away: the caller's session, the index, then every entry at once.
    // One round trip per entry would take 1.2 s at least.
    let listing = config.redis_at(&far.url()).start().await;
    let b = &mut browsers[0];
    assert_eq!(b.sessions(&listing).await.len(), SESSIONS, "warm");
    let started = std::time::Instant::now();
    let list = b.sessions(&listing).await;
    let took = started.elapsed();
    assert_eq!(list.len(), SESSIONS);
    assert!(list.iter().all(|s| s["user_agent"] == "Firefox on Linux"));
    assert!(
        took < LATENCY * 8,
        "{SESSIONS} sessions listed in {took:?}: not one batch"
    );
}

#[actix_web::test]
async fn end_others_revokes_a_few_refresh_tokens_at_a_time() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let (mut keep, _) = device(&proxy, &idp).await;
    for _ in 0..8 {
        device(&proxy, &idp).await;
    }
    // Slow enough answers that revocations sent together overlap.
    idp.state.revocation_delay_ms.store(200, Ordering::SeqCst);
    let res = keep.end_other_sessions(&proxy).await;
    assert_eq!(res.json::<Value>().await.unwrap()["ended"], 8);
    assert_eq!(revoked(&idp).len(), 8, "every one revoked");
    assert_eq!(
        idp.state.most_revocations_at_once.load(Ordering::SeqCst),
        4,
        "four at a time, not eight"
    );
}

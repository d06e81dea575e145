//! Session cookies an attacker can send: forged, truncated, doubled, another deployment's,
//! expired.

use std::time::Duration;

use super::{World, with_cookie};
use crate::common::*;

#[actix_web::test]
async fn forged_cookies_get_no_session() {
    let mut w = World::new(false, &[]).await;
    let id = w.victim_id();
    let mut flipped = id.clone();
    let c = if flipped.ends_with('A') { "B" } else { "A" };
    flipped.replace_range(flipped.len() - 1.., c);
    // Another deployment (its own IdP, the same Redis): its cookie means nothing here.
    let other_idp = TestIdp::start().await;
    let other = TestConfig::for_idp(&other_idp)
        .redis(&w.redis)
        .start()
        .await;
    let mut other_browser = Browser::signed_in(&other, &other_idp).await;
    let foreign = other_browser.cookies["vestibule"].clone();
    let attacker = w.sign_in().await;
    let attacker_id = attacker.cookies["vestibule"].clone();

    let table: Vec<(&str, String)> = vec![
        ("tampered", format!("vestibule={flipped}")),
        ("truncated", format!("vestibule={}", &id[..id.len() - 1])),
        ("extended", format!("vestibule={id}A")),
        ("empty", "vestibule=".to_owned()),
        ("quoted", format!("vestibule=\"{id}\"")),
        ("not base64url", format!("vestibule={}", "*".repeat(43))),
        (
            "another deployment's session",
            format!("vestibule={foreign}"),
        ),
        (
            "doubled: two live sessions",
            format!("vestibule={attacker_id}; vestibule={id}"),
        ),
        (
            "doubled: valid then forged",
            format!("vestibule={id}; vestibule={flipped}"),
        ),
        (
            "doubled: forged then valid",
            format!("vestibule={flipped}; vestibule={id}"),
        ),
        ("percent-encoded name", format!("vestib%75le={id}")),
        (
            "id under the login cookie's name",
            format!("vestibule-login={id}"),
        ),
        ("name with a prefix", format!("__Host-vestibule={id}")),
    ];
    for (case, cookie) in &table {
        let before = w.before();
        let res = with_cookie(&w, "/auth/session", cookie, &[("x-csrf", "1")]).await;
        w.refused(case, res, 401, "unauthenticated", before).await;
        let res = with_cookie(&w, "/api/x", cookie, &[("x-csrf", "1")]).await;
        w.refused(case, res, 401, "unauthenticated", before).await;
    }
    assert_eq!(
        other_browser.session(&other).await.status(),
        200,
        "the other deployment's session was not touched"
    );
    // Control: an unrelated malformed or non-UTF-8 cookie beside ours does not hide it.
    let res = with_cookie(
        &w,
        "/auth/session",
        &format!("junk; other=\"x; vestibule={id}; theme=dark"),
        &[("x-csrf", "1")],
    )
    .await;
    assert_eq!(res.status(), 200, "valid cookie among junk");
}

#[actix_web::test]
async fn expired_session_cookie_gets_no_session() {
    let mut w = World::new(false, &[("idle_timeout", "2s"), ("cache_ttl", "0s")]).await;
    let b = w.sign_in().await;
    let expired = b.cookies["vestibule"].clone();
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    let key = vestibule::session::crypto::storage_key("s", &namespace, &expired);
    // The bystander (same idle timeout) would expire too: it is used at every check, some 20 ms
    // apart (100 times within its 2 s idle timeout), while the other idles until Redis drops it.
    let (victim, proxy, redis) = (&mut w.victim, &w.proxy, &w.redis);
    eventually(
        "the idle session's key expired",
        Duration::from_secs(15),
        async || {
            assert_eq!(victim.session(proxy).await.status(), 200, "the bystander");
            !redis.exists(&key)
        },
    )
    .await;
    let before = w.before();
    let res = with_cookie(
        &w,
        "/auth/session",
        &format!("vestibule={expired}"),
        &[("x-csrf", "1")],
    )
    .await;
    w.refused("idle-expired session", res, 401, "unauthenticated", before)
        .await;
}

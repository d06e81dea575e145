//! Session cookies an attacker can send: forged, truncated, doubled, another deployment's,
//! expired; unprefixed or look-alike names when the cookie is `__Host-`. Each on the session, an
//! API route, the session list and the event stream.

use std::time::Duration;

use super::{World, with_cookie};
use crate::common::*;

/// Where each forged cookie is tried: the session, an API route, the session list and the
/// event stream.
const TARGETS: [&str; 4] = ["/auth/session", "/api/x", "/auth/sessions", "/auth/events"];

/// Cookies made from the bystander's id (and an attacker's, and another deployment's) under the
/// world's cookie name `name`.
fn forgeries(name: &str, id: &str, attacker_id: &str, foreign: &str) -> Vec<(String, String)> {
    let mut flipped = id.to_owned();
    let c = if flipped.ends_with('A') { "B" } else { "A" };
    flipped.replace_range(flipped.len() - 1.., c);
    vec![
        ("tampered".into(), format!("{name}={flipped}")),
        (
            "truncated".into(),
            format!("{name}={}", &id[..id.len() - 1]),
        ),
        ("extended".into(), format!("{name}={id}A")),
        ("empty".into(), format!("{name}=")),
        ("quoted".into(), format!("{name}=\"{id}\"")),
        ("not base64url".into(), format!("{name}={}", "*".repeat(43))),
        (
            "another deployment's session".into(),
            format!("{name}={foreign}"),
        ),
        (
            "doubled: two live sessions".into(),
            format!("{name}={attacker_id}; {name}={id}"),
        ),
        (
            "doubled: valid then forged".into(),
            format!("{name}={id}; {name}={flipped}"),
        ),
        (
            "doubled: forged then valid".into(),
            format!("{name}={flipped}; {name}={id}"),
        ),
        (
            "percent-encoded name".into(),
            format!("{}={id}", name.replacen("vestibule", "vestib%75le", 1)),
        ),
        (
            "id under the login cookie's name".into(),
            format!("{name}-login={id}"),
        ),
    ]
}

/// Each forgery on each of [`TARGETS`]: 401, and the world's invariants.
async fn all_refused(w: &mut World, table: &[(String, String)]) {
    for (case, cookie) in table {
        for target in TARGETS {
            let case = format!("{case} on {target}");
            let before = w.before();
            let res = with_cookie(w, target, cookie, &[("x-csrf", "1")]).await;
            w.refused(&case, res, 401, "unauthenticated", before).await;
        }
    }
}

/// Another deployment (its own IdP, the same Redis) and a session there, whose cookie means
/// nothing in `w`; and a second signed-in user of `w`.
async fn foreign_and_attacker(w: &World) -> (Proxy, TestIdp, Browser, String) {
    let other_idp = TestIdp::start().await;
    let other = TestConfig::for_idp(&other_idp)
        .redis(&w.redis)
        .start()
        .await;
    let other_browser = Browser::signed_in(&other, &other_idp).await;
    let attacker = w.sign_in().await;
    let attacker_id = attacker.cookies[w.cookie].clone();
    (other, other_idp, other_browser, attacker_id)
}

#[actix_web::test]
async fn forged_cookies_get_no_session() {
    let mut w = World::new(false, &[]).await;
    let id = w.victim_id();
    let (other, _other_idp, mut other_browser, attacker_id) = foreign_and_attacker(&w).await;
    let foreign = other_browser.cookies["vestibule"].clone();
    let mut table = forgeries("vestibule", &id, &attacker_id, &foreign);
    // On http the cookies have no prefix: a prefixed name is another cookie.
    table.push((
        "name with a prefix".into(),
        format!("__Host-vestibule={id}"),
    ));
    all_refused(&mut w, &table).await;
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
async fn behind_tls_only_the_host_prefixed_cookie_opens_a_session() {
    let mut w = World::behind_tls().await;
    let set = w.victim.set_cookie_headers.join("\n");
    assert!(
        set.contains("__Host-vestibule=") && set.contains("Secure") && !set.contains("Domain"),
        "a Secure __Host- cookie: {set}"
    );
    let id = w.victim_id();
    let (other, _other_idp, mut other_browser, attacker_id) = foreign_and_attacker(&w).await;
    let foreign = other_browser.cookies["vestibule"].clone();
    let mut table = forgeries("__Host-vestibule", &id, &attacker_id, &foreign);
    // A cookie without the prefix can be planted by a sibling subdomain or a plain-http page:
    // it must not count, nor a look-alike prefix.
    for (case, name) in [
        ("no prefix", "vestibule"),
        ("prefix in lower case", "__host-vestibule"),
        ("__Secure- prefix", "__Secure-vestibule"),
        ("__Host-Http- prefix", "__Host-Http-vestibule"),
        ("name in upper case", "__Host-VESTIBULE"),
    ] {
        table.push((case.into(), format!("{name}={id}")));
    }
    table.push((
        "unprefixed beside a forged prefixed one".into(),
        format!("vestibule={id}; __Host-vestibule={}", "A".repeat(43)),
    ));
    all_refused(&mut w, &table).await;
    assert_eq!(
        other_browser.session(&other).await.status(),
        200,
        "the other deployment's session was not touched"
    );
    // Control: the real cookie, alone, opens the session on every target but the stream (read
    // as it opens).
    for target in &TARGETS[..3] {
        let res = with_cookie(
            &w,
            target,
            &format!("__Host-vestibule={id}"),
            &[("x-csrf", "1")],
        )
        .await;
        assert_eq!(res.status(), 200, "{target}");
    }
}

#[actix_web::test]
async fn expired_session_cookie_gets_no_session() {
    let mut w = World::new(false, &[("idle_timeout", "2s"), ("cache_ttl", "0s")]).await;
    let b = w.sign_in().await;
    let expired = b.cookies["vestibule"].clone();
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    let key = vestibule::store::storage_key("s", &namespace, &expired);
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

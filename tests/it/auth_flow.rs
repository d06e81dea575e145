//! The login flow end to end against the test IdP, on both stores. Hostile callbacks, ID tokens
//! and cookies are in `hostile`.

use crate::common::*;
use serde_json::Value;

async fn assert_signed_out(b: &mut Browser, proxy: &Proxy) {
    let res = b.session(proxy).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unauthenticated");
}

/// The whole login on `config` (memory store, or whatever the caller set), with every property
/// of the authorization request, the redirect back, the cookie and `/auth/session` checked.
/// Also returns the login's one-time values (code, state, nonce, PKCE challenge), named.
async fn happy_path(
    config: impl FnOnce(TestConfig) -> TestConfig,
) -> (Browser, Proxy, TestIdp, Vec<(String, String)>) {
    let idp = TestIdp::start().await;
    let proxy = config(TestConfig::for_idp(&idp)).start().await;
    let mut b = Browser::new();
    assert_signed_out(&mut b, &proxy).await;

    let start = b.start_login(&proxy, "/deep/link?tab=2").await;
    let q: std::collections::BTreeMap<String, String> =
        start.location.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], idp::CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], proxy.url("/auth/callback"));
    assert!(q["scope"].split(' ').any(|s| s == "openid") && q["scope"].contains("email"));
    assert!(start.state.len() >= 20 && start.nonce.len() >= 20);
    assert!(
        start
            .location
            .as_str()
            .starts_with(&format!("{}/authorize?", idp.state.issuer))
    );

    let code = start.code(&idp, Tweak::None);
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/deep/link?tab=2",
        "lands back on the deep link, no code/state"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");

    let session_cookie = b
        .set_cookie_headers
        .iter()
        .find(|h| h.starts_with("vestibule="))
        .expect("session cookie");
    assert!(
        session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
            && session_cookie.contains("Path=/")
    );
    assert!(!session_cookie.contains("Domain"));
    let value = &b.cookies["vestibule"];
    assert!(value.len() < 200 && value.len() >= 32);

    let res = b.session(&proxy).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    for token in idp.state.issued.lock().expect("issued").iter() {
        assert!(
            !text.contains(token.as_str()),
            "/auth/session must not show a token"
        );
    }
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["sub"], "user-42");
    assert_eq!(body["claims"]["email"], "ada@example.test");
    assert!(body["expires_at"].as_i64().is_some_and(|t| t > 0));
    assert!(
        body["logout_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/auth/logout?token="))
    );
    let login = secrets::of_login(&code, &start);
    (b, proxy, idp, login)
}

#[actix_web::test]
async fn a_login_round_trip_works_on_the_memory_store() {
    happy_path(|c| c).await;
}

#[actix_web::test]
async fn a_login_round_trip_on_redis_leaves_nothing_usable_in_a_dump() {
    let redis = RedisServer::start();
    let (mut b, proxy, idp, login) = happy_path(|c| c.redis(&redis)).await;
    // A second session of the user and a visit to the session list fill the registry's indexes.
    let _other = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.sessions(&proxy).await.len(), 2);

    let mut secrets = login;
    secrets.extend(secrets::cookies_of(&b));
    secrets.extend(secrets::handled_by(&idp));
    // Who the user is: claims are sealed, and index keys are hashes, not names.
    secrets.push(("the sub".to_owned(), idp::SUB.to_owned()));
    secrets.push(("the email".to_owned(), "ada@example.test".to_owned()));
    secrets.push((
        "the encryption key".to_owned(),
        config::ENCRYPTION_KEY.to_owned(),
    ));

    let dump = redis.dump();
    let kinds: Vec<&str> = dump.iter().map(|k| k.kind.as_str()).collect();
    assert!(
        kinds.contains(&"string") && kinds.contains(&"set"),
        "sessions and their indexes are in Redis: {kinds:?}"
    );
    assert!(
        secrets
            .iter()
            .filter(|(n, _)| n == "a PKCE verifier or client assertion")
            .count()
            == 2,
        "both logins' verifiers are checked"
    );
    for k in &dump {
        assert!(k.key.starts_with("vestibule:"), "{}", k.key);
        secrets::assert_none_in(&format!("the key name {}", k.key), &k.key, &secrets);
        for part in &k.parts {
            let text = String::from_utf8_lossy(part);
            secrets::assert_none_in(&format!("the {} at {}", k.kind, k.key), &text, &secrets);
        }
    }
}

#[actix_web::test]
async fn a_session_on_redis_survives_a_proxy_restart() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let first = TestConfig::for_idp(&idp).redis(&redis).start().await;
    let mut b = Browser::signed_in(&first, &idp).await;
    assert_eq!(b.session(&first).await.status(), 200);
    first.stop().await;
    let second = TestConfig::for_idp(&idp).redis(&redis).start().await;
    assert_eq!(
        b.session(&second).await.status(),
        200,
        "session lives in Redis, not the process"
    );
}

#[actix_web::test]
async fn several_tabs_log_in_at_once() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::new();
    let tab1 = b.start_login(&proxy, "/one").await;
    let tab2 = b.start_login(&proxy, "/two").await;
    assert_ne!(tab1.state, tab2.state);
    // Finish in reverse order: each tab's login stays valid.
    for (tab, dest) in [(&tab2, "/two"), (&tab1, "/one")] {
        let code = tab.code(&idp, Tweak::None);
        let res = b.call_back(&proxy, &code, &tab.state).await;
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()["location"], dest);
    }
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn each_login_mints_a_new_session_id() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let first = b.cookies["vestibule"].clone();
    assert_eq!(b.log_in(&proxy, &idp, Tweak::None, "/").await.status(), 302);
    let second = b.cookies["vestibule"].clone();
    assert_ne!(first, second);
    // The old id is dead.
    let mut old = Browser::new();
    old.cookies.insert("vestibule".into(), first);
    assert_signed_out(&mut old, &proxy).await;
    assert_eq!(b.session(&proxy).await.status(), 200);
}

#[actix_web::test]
async fn an_id_token_signed_by_a_rotated_key_is_accepted_after_a_jwks_refetch() {
    let idp = TestIdp::start().await;
    idp.state
        .rotate_after_first_jwks
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::new();
    let res = b.log_in(&proxy, &idp, Tweak::RotatedKey, "/").await;
    assert_eq!(res.status(), 302, "unknown kid triggers one JWKS refetch");
    assert_eq!(b.session(&proxy).await.status(), 200);
    assert_eq!(
        idp.state
            .jwks_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[actix_web::test]
async fn logout_needs_the_session_logout_token() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let logout_url = b.logout_url(&proxy).await;

    for bad in ["/auth/logout", "/auth/logout?token=wrong"] {
        let res = b.get(&proxy.url(bad)).await;
        assert_eq!(res.status(), 403, "{bad}");
        assert_eq!(
            b.session(&proxy).await.status(),
            200,
            "session stays after {bad}"
        );
    }
    let res = b.get(&proxy.url(&logout_url)).await;
    assert_eq!(res.status(), 302);
    let loc = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        loc.starts_with(&format!("{}/session/end?", idp.state.issuer)),
        "{loc}"
    );
    assert!(loc.contains("id_token_hint="));
    let expected = format!("post_logout_redirect_uri={}", urlencode(&proxy.url("/")));
    assert!(loc.contains(&expected), "{loc}");
    assert!(!b.cookies.contains_key("vestibule"), "cookie cleared");
    assert_signed_out(&mut b, &proxy).await;
}

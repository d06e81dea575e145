//! Step-up (RFC 9470): routes that need a stronger (`require_acr`) or more recent
//! (`max_auth_age`) sign-in answer 401 with a ready `login_url`; the login it leads to upgrades
//! the session under a new id, or, when the IdP does not reach the `acr` asked for, changes
//! nothing.

use std::time::Duration;

use crate::common::*;
use serde_json::Value;

async fn step_up_world() -> (TestIdp, Upstream, Proxy) {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/api", "user"))
        .route(
            api.route("/admin", "user")
                .set("require_acr", Raw(r#"["mfa", "hwk"]"#)),
        )
        .route(api.route("/payments", "user").set("max_auth_age", "5m"))
        .start()
        .await;
    (idp, api, proxy)
}

/// A step-up challenge's parts: `WWW-Authenticate` and the JSON body.
async fn challenge(res: reqwest::Response) -> (String, Value) {
    assert_eq!(res.status(), 401);
    let header = res.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    (header, res.json().await.expect("json"))
}

#[actix_web::test]
async fn a_route_requiring_mfa_answers_401_with_a_login_url_and_forwards_nothing() {
    let (idp, api, proxy) = step_up_world().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    let hits = api.hit_count();
    let page = proxy.url("/settings?tab=keys");
    let res = b.api_get(&proxy, "/admin/x", &[("referer", &page)]).await;
    let (header, body) = challenge(res).await;
    assert!(
        header.starts_with("Bearer error=\"insufficient_user_authentication\""),
        "{header}"
    );
    assert!(header.contains("acr_values=\"mfa hwk\""), "{header}");
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert_eq!(
        body["login_url"],
        "/auth/login?acr_values=mfa+hwk&return_to=%2Fsettings%3Ftab%3Dkeys"
    );
    assert_eq!(api.hit_count(), hits, "nothing forwarded");
    // A foreign Referer does not become the way back.
    let res = b
        .api_get(&proxy, "/admin/x", &[("referer", "https://evil.example/x")])
        .await;
    let (_, body) = challenge(res).await;
    assert_eq!(
        body["login_url"],
        "/auth/login?acr_values=mfa+hwk&return_to=%2F"
    );
}

#[actix_web::test]
async fn a_step_up_login_upgrades_the_session_under_a_new_id() {
    let (idp, _api, proxy) = step_up_world().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let before = b.session_info(&proxy).await;
    assert!(before["claims"].get("acr").is_none());
    let old = b.copy();
    let res = b.api_get(&proxy, "/admin/x", &[]).await;
    let (_, body) = challenge(res).await;
    let login_url = body["login_url"].as_str().expect("login_url");

    let start = b.start_login_at(&proxy, login_url).await;
    assert_eq!(start.params["acr_values"], "mfa hwk", "asked of the IdP");
    let code = start.code(&idp, Tweak::Acr("hwk"));
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/");
    assert_ne!(
        b.cookies["vestibule"], old.cookies["vestibule"],
        "a new session id (no fixation)"
    );
    let after = b.session_info(&proxy).await;
    assert_eq!(after["claims"]["acr"], "hwk");
    assert!(after["claims"]["auth_time"].as_i64() >= before["claims"]["auth_time"].as_i64());
    assert_eq!(b.api_get(&proxy, "/admin/x", &[]).await.status(), 200);
    // The old id is gone; other tabs share the browser's cookie jar, so they hold the new one.
    let mut old = old;
    assert_eq!(old.session(&proxy).await.status(), 401);
    let mut tab = b.copy();
    assert_eq!(tab.api_get(&proxy, "/api/x", &[]).await.status(), 200);
}

#[actix_web::test]
async fn a_step_up_answered_with_a_weaker_acr_keeps_the_old_session_and_says_so() {
    let (idp, _api, proxy) = step_up_world().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let id = b.cookies["vestibule"].clone();
    let res = b.api_get(&proxy, "/admin/x", &[]).await;
    let (_, body) = challenge(res).await;
    let start = b
        .start_login_at(&proxy, body["login_url"].as_str().expect("url"))
        .await;
    let code = start.code(&idp, Tweak::Acr("pwd"));
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/?login_error=acr_not_satisfied");
    assert_eq!(b.cookies["vestibule"], id, "the session was not replaced");
    let info = b.session_info(&proxy).await;
    assert!(info["claims"].get("acr").is_none(), "not upgraded");
    assert_eq!(b.api_get(&proxy, "/admin/x", &[]).await.status(), 401);
    assert!(
        idp.state
            .revoked
            .lock()
            .expect("revoked")
            .contains(&idp.last_refresh_token()),
        "the refused login's refresh token was revoked"
    );
}

#[actix_web::test]
async fn a_login_that_is_not_a_step_up_keeps_the_lenient_acr_rule() {
    let (idp, _api, proxy) = step_up_world().await;
    let mut b = Browser::new();
    let start = b
        .start_login_at(&proxy, "/auth/login?acr_values=mfa&return_to=%2F")
        .await;
    let code = start.code(&idp, Tweak::Acr("pwd"));
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(
        res.headers()["location"],
        "/?login_warning=acr_not_satisfied"
    );
    assert_eq!(b.session(&proxy).await.status(), 200, "signed in");
    assert_eq!(b.api_get(&proxy, "/admin/x", &[]).await.status(), 401);
}

#[actix_web::test]
async fn max_auth_age_asks_for_a_recent_sign_in() {
    let (idp, _api, proxy) = step_up_world().await;
    let mut b = Browser::new();
    assert_eq!(
        b.log_in(&proxy, &idp, Tweak::AuthTimeAgo(3600), "/")
            .await
            .status(),
        302
    );
    let (header, body) = challenge(b.api_get(&proxy, "/payments/x", &[]).await).await;
    assert!(header.ends_with("max_age=300"), "{header}");
    assert!(!header.contains("acr_values"), "{header}");
    assert_eq!(body["max_age"], 300);
    let start = b
        .start_login_at(&proxy, body["login_url"].as_str().expect("url"))
        .await;
    assert_eq!(start.params["max_age"], "300");
    // An IdP that did not re-authenticate (auth_time still old) does not pass.
    let code = start.code(&idp, Tweak::AuthTimeAgo(3600));
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 400);
    assert_eq!(b.api_get(&proxy, "/payments/x", &[]).await.status(), 401);
    // One that did, does.
    let start = b
        .start_login_at(&proxy, body["login_url"].as_str().expect("url"))
        .await;
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    assert_eq!(b.api_get(&proxy, "/payments/x", &[]).await.status(), 200);
}

#[actix_web::test]
async fn an_unsatisfied_step_up_leaves_no_time_window() {
    // The age rule is checked on every call, cached session or not.
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/payments", "user").set("max_auth_age", "2s"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/payments/x", &[]).await.status(), 200);
    let url = proxy.url("/payments/x");
    assert!(
        b.wait_for(&url, &[("x-csrf", "1")], 401, Duration::from_secs(5))
            .await,
        "the sign-in grew too old"
    );
}

//! OIDC Front-Channel Logout 1.0 (`GET /auth/frontchannel-logout`): the IdP's iframe ends every
//! session of an IdP session, on every replica, and the SPA hears why; the page may be framed
//! by the IdP's origin only; with `oidc.frontchannel_logout_session_required = false`, a call
//! naming no session ends the caller's own. Refused calls are `hostile::frontchannel`'s.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::common::*;

const SOON: Duration = Duration::from_secs(2);

/// The query the IdP sends for a browser's IdP session: `iss` and `sid`, encoded.
async fn query_of(b: &mut Browser, proxy: &Proxy, idp: &TestIdp) -> String {
    let info = b.session_info(proxy).await;
    let sid = info["claims"]["sid"].as_str().expect("sid claim");
    format!(
        "iss={}&sid={}",
        urlencode(&idp.state.issuer),
        urlencode(sid)
    )
}

/// `/auth/session`'s 401 body, for a browser whose session ended.
async fn signed_out(b: &mut Browser, proxy: &Proxy) -> Value {
    let res = b.session(proxy).await;
    assert_eq!(res.status(), 401, "signed out");
    res.json().await.expect("json")
}

/// Every value of header `name`.
fn all<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().expect("ascii"))
        .collect()
}

#[actix_web::test]
async fn a_frontchannel_logout_ends_every_session_of_the_idp_session_on_every_replica() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let (a, b) = TestConfig::for_idp(&idp).redis(&redis).start_two().await;
    // Two browsers in one IdP session, and a third in another IdP session of the same user.
    let mut laptop = Browser::new();
    let mut phone = Browser::new();
    for browser in [&mut laptop, &mut phone] {
        let res = browser
            .log_in(&a, &idp, Tweak::Sid("sid-shared"), "/")
            .await;
        assert_eq!(res.status(), 302);
    }
    let mut tablet = Browser::signed_in(&a, &idp).await;
    // The phone's stream is held by replica B; the IdP's iframe reaches replica A.
    let mut events = phone.events(&b).await;
    let query = query_of(&mut laptop, &a, &idp).await;
    assert_eq!(a.frontchannel_logout(&query).await.status(), 200);
    let (name, data) = events.next(SOON).await.expect("session_ended on B");
    assert_eq!(
        (name.as_str(), data["reason"].as_str()),
        ("session_ended", Some("frontchannel_logout"))
    );
    assert_eq!(
        signed_out(&mut laptop, &b).await["reason"],
        "frontchannel_logout"
    );
    assert_eq!(
        signed_out(&mut phone, &a).await["reason"],
        "frontchannel_logout"
    );
    assert_eq!(
        tablet.session(&b).await.status(),
        200,
        "another IdP session of the user stays"
    );
    // Said again (the IdP's page reloaded): nothing is left to end.
    assert_eq!(b.frontchannel_logout(&query).await.status(), 400);
    assert_eq!(tablet.session(&a).await.status(), 200);
}

#[actix_web::test]
async fn only_the_idp_may_frame_the_frontchannel_logout_page_and_nothing_may_cache_it() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let query = query_of(&mut b, &proxy, &idp).await;
    let res = proxy.frontchannel_logout(&query).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let framed_by_the_idp = format!("default-src 'none'; frame-ancestors {}", idp.state.issuer);
    assert_eq!(all(&h, "content-security-policy"), [framed_by_the_idp]);
    assert!(all(&h, "x-frame-options").is_empty(), "no X-Frame-Options");
    assert_eq!(all(&h, "cache-control"), ["no-store"]);
    assert_eq!(all(&h, "referrer-policy"), ["no-referrer"]);
    assert_eq!(all(&h, "x-content-type-options"), ["nosniff"]);
    assert!(all(&h, "set-cookie").is_empty());
    assert!(all(&h, "content-type")[0].starts_with("text/html"));
    assert!(res.text().await.expect("body").contains("Signed out."));

    // Refused (the session is gone now), or another method: framed by nobody.
    let refused = proxy.frontchannel_logout(&query).await;
    let post = reqwest::Client::new()
        .post(proxy.frontchannel_logout_url(&query))
        .send()
        .await
        .expect("request");
    for (res, status, code) in [
        (refused, 400, "invalid_request"),
        (post, 405, "method_not_allowed"),
    ] {
        assert_eq!(res.status(), status);
        let h = res.headers().clone();
        assert_eq!(
            all(&h, "content-security-policy"),
            [vestibule::auth::PAGE_CSP]
        );
        assert_eq!(all(&h, "x-frame-options"), ["DENY"]);
        assert_eq!(all(&h, "cache-control"), ["no-store"]);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], code);
    }
    // The rest of the scope is as framed by nobody as before.
    let res = b.session(&proxy).await;
    assert_eq!(
        all(res.headers(), "content-security-policy"),
        [vestibule::auth::PAGE_CSP]
    );
    assert_eq!(all(res.headers(), "x-frame-options"), ["DENY"]);

    let (_, metrics) = proxy.metrics().await;
    for result in ["success", "invalid"] {
        let sample = format!("vestibule_frontchannel_logouts_total{{result=\"{result}\"}}");
        assert!(metrics.contains(&sample), "{sample} in {metrics}");
    }
}

#[actix_web::test]
async fn without_session_required_a_call_naming_no_session_ends_the_callers_own() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("oidc.frontchannel_logout_session_required", false)
        .start()
        .await;
    let mut framed = Browser::signed_in(&proxy, &idp).await;
    let mut other = Browser::signed_in(&proxy, &idp).await;
    let url = proxy.frontchannel_logout_url("");
    // Without a cookie (a cross-site frame gets none) there is nothing to end.
    assert_eq!(proxy.frontchannel_logout("").await.status(), 400);
    // One of `iss` and `sid` still needs the other, cookie or not.
    let only_iss = proxy.frontchannel_logout_url(&format!("iss={}", urlencode(&idp.state.issuer)));
    assert_eq!(framed.get(&only_iss).await.status(), 400);
    assert_eq!(framed.session(&proxy).await.status(), 200);
    // The session cookie on a top-level navigation (a link from any site carries a Lax
    // cookie): refused.
    let navigation = [
        ("sec-fetch-dest", "document"),
        ("sec-fetch-site", "cross-site"),
    ];
    assert_eq!(framed.get_with(&url, &navigation).await.status(), 400);
    assert_eq!(framed.session(&proxy).await.status(), 200);
    // A same-site frame sends the session cookie.
    let same_site_frame = [
        ("sec-fetch-dest", "iframe"),
        ("sec-fetch-site", "same-site"),
    ];
    let res = framed.get_with(&url, &same_site_frame).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("set-cookie").is_none(),
        "the cookie is kept, to learn why its session ended"
    );
    assert_eq!(
        signed_out(&mut framed, &proxy).await["reason"],
        "frontchannel_logout"
    );
    assert_eq!(other.session(&proxy).await.status(), 200);
    assert_eq!(
        framed.get_with(&url, &same_site_frame).await.status(),
        400,
        "nothing left to end"
    );
    // `iss` and `sid` work as when they are required.
    let query = query_of(&mut other, &proxy, &idp).await;
    assert_eq!(proxy.frontchannel_logout(&query).await.status(), 200);
    assert_eq!(other.session(&proxy).await.status(), 401);
}

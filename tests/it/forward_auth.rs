//! Forward-auth (`/auth/check`): a gateway asks before it forwards. Who is believed about which
//! request (`server.trusted_proxies`: the tests' client is 127.0.0.1), and each answer: 200 with
//! the headers the gateway copies upstream, 401 with a sign-in URL, step-up, the route's rule,
//! the CSRF rules on the original method, no route, and that no upstream is called.

use serde_json::{Value, json};

use crate::common::*;

const ADMIN_RULE: &str = r#""admins" in groups && request.method == "GET""#;

/// `/api` for every signed-in user (the user's token), `/api/admin` for the admins group and
/// GET only, `/hr` without a token for verified users, `/pub` for anyone, `/mfa` with step-up.
async fn gateway_world(
    trusted: &str,
    extra: impl FnOnce(TestConfig) -> TestConfig,
) -> (TestIdp, Upstream, Proxy) {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .set("server.trusted_proxies", Raw(trusted))
        .set("oidc.login_params", Raw(r#"["acr_values"]"#))
        .route(api.route("/api", "user"))
        .route(api.route("/api/admin", "user").set("allow", ADMIN_RULE))
        .route(
            api.route("/hr", "none")
                .set("allow", "claims.email_verified"),
        )
        .route(api.route("/pub", "none"))
        .route(
            api.route("/mfa", "user")
                .set("require_acr", Raw(r#"["mfa"]"#)),
        );
    let proxy = extra(config).start().await;
    (idp, api, proxy)
}

const TRUSTED: &str = r#"["10.0.0.0/8", "127.0.0.1"]"#;

/// A browser signed in as `sub` with `claims` in its ID token.
async fn user(proxy: &Proxy, idp: &TestIdp, sub: &'static str, claims: Value) -> Browser {
    idp.set_claims(claims);
    let mut b = Browser::new();
    assert_eq!(
        b.log_in(proxy, idp, Tweak::Sub(sub), "/").await.status(),
        302
    );
    b
}

fn admin_claims() -> Value {
    json!({"groups": ["admins"], "email_verified": true})
}

/// A gateway's check (nginx's way) of `method uri`, with `cookie` and the browser's headers.
async fn check(
    proxy: &Proxy,
    cookie: Option<&str>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client
        .get(proxy.url("/auth/check"))
        .header("x-original-uri", uri)
        .header("x-forwarded-method", method);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("check")
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().expect("ascii"))
}

/// A refusal: its status, code, and nothing for the gateway to copy upstream.
async fn refused(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "{code}");
    for h in [
        "authorization",
        "x-auth-request-user",
        "x-auth-request-email",
    ] {
        assert!(header(&res, h).is_none(), "{code}: no {h} on a refusal");
    }
    assert!(
        header(&res, "location").is_none(),
        "{code}: never a redirect"
    );
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    assert_eq!(header(&res, "vestibule-refusal"), Some(code));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], code, "{body}");
    body
}

#[actix_web::test]
async fn an_allowed_request_gets_200_with_the_routes_token_and_who_the_user_is_and_no_upstream_call()
 {
    let (idp, api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let admin = user(&proxy, &idp, "admin-1", admin_claims()).await;
    let cookie = admin.session_cookie();
    let token_calls = idp.calls(&idp.state.token_calls);
    for uri in ["/api/admin/users?page=2", "/api/x", "/API/Admin/users"] {
        let res = check(&proxy, Some(&cookie), "GET", uri, &[]).await;
        assert_eq!(res.status(), 200, "{uri}");
        assert_eq!(
            header(&res, "authorization"),
            Some(format!("Bearer {}", idp.last_access_token()).as_str()),
            "{uri}: the route's token, for the gateway to send upstream"
        );
        assert_eq!(header(&res, "x-auth-request-user"), Some("admin-1"));
        assert_eq!(
            header(&res, "x-auth-request-email"),
            Some("ada@example.test")
        );
        assert!(header(&res, "location").is_none());
    }
    // A route that sends no token: who the user is, and no Authorization.
    let res = check(&proxy, Some(&cookie), "GET", "/hr/payslips", &[]).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "authorization").is_none());
    assert_eq!(header(&res, "x-auth-request-user"), Some("admin-1"));
    // An anonymous caller on a route for anyone: nothing to copy.
    let res = check(&proxy, None, "GET", "/pub/x", &[]).await;
    assert_eq!(res.status(), 200);
    for h in [
        "authorization",
        "x-auth-request-user",
        "x-auth-request-email",
    ] {
        assert!(header(&res, h).is_none(), "{h}");
    }
    assert_eq!(api.hit_count(), 0, "a check never calls an upstream");
    assert_eq!(
        idp.calls(&idp.state.token_calls),
        token_calls,
        "nor the IdP, while the token is fresh"
    );
}

#[actix_web::test]
async fn a_route_with_an_identity_gives_the_gateway_the_same_signed_identity_for_its_upstream() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| {
        c.route(
            TestRoute::new("/who", "http://127.0.0.1:9", "none")
                .set("identity_header", "X-Vestibule-Identity"),
        )
    })
    .await;
    let admin = user(&proxy, &idp, "admin-1", admin_claims()).await;
    let res = check(
        &proxy,
        Some(&admin.session_cookie()),
        "GET",
        "/who/am-i",
        &[],
    )
    .await;
    assert_eq!(res.status(), 200);
    let jwt = header(&res, "x-vestibule-identity")
        .expect("the identity, for the gateway to copy upstream")
        .to_owned();
    let claims = Jwks::of(&proxy)
        .await
        .verify(&jwt, &proxy, &format!("{}/who", proxy.base))
        .expect("it verifies with Vestibule's JWKS");
    assert_eq!(claims["sub"], "admin-1");
    assert!(header(&res, "authorization").is_none(), "token = \"none\"");
    // A route without an identity gives none; an anonymous caller is refused before any.
    let res = check(&proxy, Some(&admin.session_cookie()), "GET", "/api/x", &[]).await;
    assert!(header(&res, "x-vestibule-identity").is_none());
}

#[actix_web::test]
async fn a_sub_with_spaces_around_it_is_never_passed_on_as_another_users() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    // The gateway would trim it: " admin-1" would reach the upstream as "admin-1".
    let spaced = user(&proxy, &idp, " admin-1", admin_claims()).await;
    let res = check(&proxy, Some(&spaced.session_cookie()), "GET", "/api/x", &[]).await;
    assert!(res.status().is_server_error(), "{}", res.status());
    assert!(header(&res, "x-auth-request-user").is_none());
    assert!(header(&res, "authorization").is_none());
}

#[actix_web::test]
async fn without_an_email_claim_there_is_no_email_header() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let b = user(&proxy, &idp, "no-mail", json!({"email": null})).await;
    let res = check(&proxy, Some(&b.session_cookie()), "GET", "/api/x", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-auth-request-user"), Some("no-mail"));
    assert!(header(&res, "x-auth-request-email").is_none());
}

#[actix_web::test]
async fn without_a_session_the_answer_is_401_with_a_sign_in_url_back_to_the_original_request() {
    let (_idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    // A page being opened: the URL in a header too, for the gateway's redirect.
    let res = check(&proxy, None, "GET", "/api/admin/users?page=2&q=a%20b", &[]).await;
    let login = header(&res, "vestibule-login").map(str::to_owned);
    let body = refused(res, 401, "unauthenticated").await;
    let url = "/auth/login?return_to=%2Fapi%2Fadmin%2Fusers%3Fpage%3D2%26q%3Da%2520b";
    assert_eq!(body["login_url"], url, "{body}");
    assert_eq!(login.as_deref(), Some(url));
    // The SPA's call: the 401 alone.
    let res = check(&proxy, None, "GET", "/api/x", &[("x-csrf", "1")]).await;
    assert!(header(&res, "vestibule-login").is_none());
    let body = refused(res, 401, "unauthenticated").await;
    assert_eq!(body["login_url"], "/auth/login?return_to=%2Fapi%2Fx");
    // A `return_to` the sign-in would refuse is `/` already.
    let long = format!("/api/x?q={}", "a".repeat(3000));
    let body = refused(
        check(&proxy, None, "GET", &long, &[]).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(body["login_url"], "/auth/login?return_to=%2F");
    // A forged cookie is no session.
    let res = check(&proxy, Some("vestibule=forged"), "GET", "/hr/x", &[]).await;
    refused(res, 401, "unauthenticated").await;
}

#[actix_web::test]
async fn a_route_that_needs_step_up_answers_the_check_as_the_proxy_would() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let b = user(&proxy, &idp, "plain-1", json!({})).await;
    let res = check(&proxy, Some(&b.session_cookie()), "GET", "/mfa/x?y=1", &[]).await;
    let challenge = header(&res, "www-authenticate")
        .expect("a challenge")
        .to_owned();
    let body = refused(res, 401, "insufficient_user_authentication").await;
    assert!(challenge.contains(r#"acr_values="mfa""#), "{challenge}");
    assert_eq!(
        body["login_url"], "/auth/login?acr_values=mfa&return_to=%2Fmfa%2Fx%3Fy%3D1",
        "back to the original request: {body}"
    );
    // One the sign-in would refuse is `/` already.
    let long = format!("/mfa/x?q={}", "a".repeat(3000));
    let res = check(&proxy, Some(&b.session_cookie()), "GET", &long, &[]).await;
    let body = refused(res, 401, "insufficient_user_authentication").await;
    assert_eq!(
        body["login_url"],
        "/auth/login?acr_values=mfa&return_to=%2F"
    );
    let mut strong = Browser::new();
    strong.log_in(&proxy, &idp, Tweak::Acr("mfa"), "/").await;
    let res = check(&proxy, Some(&strong.session_cookie()), "GET", "/mfa/x", &[]).await;
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn the_routes_rule_judges_the_original_method_and_a_refusal_names_the_rule() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let admin = user(&proxy, &idp, "admin-1", admin_claims()).await;
    let plain = user(&proxy, &idp, "user-2", json!({"groups": ["users"]})).await;
    let csrf = [("x-csrf", "1"), ("sec-fetch-site", "same-origin")];
    let res = check(
        &proxy,
        Some(&plain.session_cookie()),
        "GET",
        "/api/admin/x",
        &[],
    )
    .await;
    assert_eq!(refused(res, 403, "forbidden").await["rule"], "/api/admin");
    // The admin, but a method the rule does not allow: the gateway's method is judged.
    let res = check(
        &proxy,
        Some(&admin.session_cookie()),
        "DELETE",
        "/api/admin/x",
        &csrf,
    )
    .await;
    assert_eq!(refused(res, 403, "forbidden").await["rule"], "/api/admin");
    let res = check(&proxy, Some(&plain.session_cookie()), "GET", "/hr/x", &[]).await;
    assert_eq!(refused(res, 403, "forbidden").await["rule"], "/hr");
    let (_, metrics) = proxy.metrics().await;
    let line = r#"vestibule_rule_decisions_total{outcome="deny",route="/api/admin"} 2"#;
    assert!(metrics.contains(line), "{metrics}");
}

#[actix_web::test]
async fn the_csrf_rules_are_the_original_methods_on_the_browsers_own_headers() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let b = user(&proxy, &idp, "user-1", json!({})).await;
    let cookie = b.session_cookie();
    let ours = proxy.base.as_str();
    let nav = [
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
    ];
    // A link on another site opens the page; another site's script or fetch does not get it.
    let link = [nav[0], nav[1], ("sec-fetch-site", "cross-site")];
    assert_eq!(
        check(&proxy, Some(&cookie), "GET", "/api/x", &link)
            .await
            .status(),
        200
    );
    for headers in [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-dest", "script"),
        ],
        vec![("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")],
        vec![("origin", "http://evil.example")],
    ] {
        let res = check(&proxy, Some(&cookie), "GET", "/api/x", &headers).await;
        refused(res, 403, "cross_site_request").await;
    }
    // A write is an API call: the anti-CSRF header and our origin, as the proxy asks.
    let form = [
        nav[0],
        nav[1],
        ("sec-fetch-site", "same-origin"),
        ("origin", ours),
    ];
    let res = check(&proxy, Some(&cookie), "POST", "/api/x", &form).await;
    refused(res, 403, "csrf_header_required").await;
    let foreign = [("x-csrf", "1"), ("origin", "http://evil.example")];
    let res = check(&proxy, Some(&cookie), "PUT", "/api/x", &foreign).await;
    refused(res, 403, "cross_site_request").await;
    let spa = [
        ("x-csrf", "1"),
        ("origin", ours),
        ("sec-fetch-site", "same-origin"),
    ];
    assert_eq!(
        check(&proxy, Some(&cookie), "POST", "/api/x", &spa)
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn a_path_no_route_covers_is_403_and_a_method_a_route_does_not_forward_is_405() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| {
        c.route(
            TestRoute::new("/ro", "http://127.0.0.1:9", "user").set("methods", Raw(r#"["GET"]"#)),
        )
    })
    .await;
    let b = user(&proxy, &idp, "user-1", admin_claims()).await;
    let cookie = b.session_cookie();
    for uri in ["/", "/elsewhere/x", "/apix", "/auth/session"] {
        refused(
            check(&proxy, Some(&cookie), "GET", uri, &[]).await,
            403,
            "no_route",
        )
        .await;
    }
    let spa = [("x-csrf", "1")];
    let res = check(&proxy, Some(&cookie), "POST", "/ro/x", &spa).await;
    assert_eq!(header(&res, "allow"), Some("GET"));
    refused(res, 405, "method_not_allowed").await;
    for method in ["TRACE", "CONNECT"] {
        let res = check(&proxy, Some(&cookie), method, "/api/x", &spa).await;
        refused(res, 405, "method_not_allowed").await;
    }
}

#[actix_web::test]
async fn an_untrusted_peer_is_answered_400_whatever_it_claims() {
    for trusted in ["[]", r#"["10.0.0.0/8", "::1"]"#] {
        let (idp, _api, proxy) = gateway_world(trusted, |c| c).await;
        let admin = user(&proxy, &idp, "admin-1", admin_claims()).await;
        let cookie = admin.session_cookie();
        let claims_to_be_the_gateway = [("x-forwarded-for", "10.0.0.1"), ("x-real-ip", "10.0.0.1")];
        for headers in [&[][..], &claims_to_be_the_gateway[..]] {
            let res = check(&proxy, Some(&cookie), "GET", "/api/admin/x", headers).await;
            let body = refused(res, 400, "untrusted_proxy").await;
            assert!(
                body["error_description"]
                    .as_str()
                    .is_some_and(|d| d.contains("127.0.0.1")),
                "{body}"
            );
        }
    }
}

#[actix_web::test]
async fn an_envoy_check_carries_the_original_path_after_its_own_and_its_own_method() {
    let (idp, _api, proxy) = gateway_world(TRUSTED, |c| c).await;
    let admin = user(&proxy, &idp, "admin-1", admin_claims()).await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str| {
        client
            .request(method, proxy.url(&format!("/auth/check{path}")))
            .header("cookie", admin.session_cookie())
            .header("x-csrf", "1")
            .send()
    };
    let res = send(reqwest::Method::GET, "/api/admin/x?y=1")
        .await
        .expect("check");
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-auth-request-user"), Some("admin-1"));
    let res = send(reqwest::Method::POST, "/api/admin/x")
        .await
        .expect("check");
    assert_eq!(refused(res, 403, "forbidden").await["rule"], "/api/admin");
    let res = send(reqwest::Method::POST, "/api/x").await.expect("check");
    assert_eq!(res.status(), 200, "POST on /api is allowed");
}

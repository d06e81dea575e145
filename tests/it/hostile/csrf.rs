//! Requests from other sites: missing or wrong anti-CSRF header, `Sec-Fetch-Site`, foreign
//! `Origin`, a CORS preflight, logout with a leaked token, a cross-site WebSocket; the same rules
//! on every kind of route; and custom names for the header, the auth paths and the cookie.

use reqwest::Method;

use super::World;
use crate::common::*;

type CsrfRow<'a> = (
    &'a str,
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

#[actix_web::test]
async fn cross_site_requests_are_refused() {
    let mut w = World::new(false, &[]).await;
    let logout = w.victim.logout_url(&w.proxy).await;
    let other_origin = "http://127.0.0.1:1".to_owned();
    let csrf = ("x-csrf", "1");
    let table: Vec<CsrfRow> = vec![
        (
            "session: no header",
            Method::GET,
            "/auth/session",
            vec![],
            403,
            "csrf_header_required",
        ),
        (
            "session: wrong value",
            Method::GET,
            "/auth/session",
            vec![("x-csrf", "0")],
            403,
            "csrf_header_required",
        ),
        (
            "session: cross-site",
            Method::GET,
            "/auth/session",
            vec![csrf, ("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "session: foreign Origin",
            Method::GET,
            "/auth/session",
            vec![csrf, ("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
        (
            "api: no header",
            Method::POST,
            "/api/transfer",
            vec![],
            403,
            "csrf_header_required",
        ),
        (
            "api: wrong value",
            Method::POST,
            "/api/transfer",
            vec![("x-csrf", "true")],
            403,
            "csrf_header_required",
        ),
        (
            "api: foreign Origin",
            Method::POST,
            "/api/transfer",
            vec![csrf, ("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
        (
            "api: Origin null",
            Method::POST,
            "/api/transfer",
            vec![csrf, ("origin", "null")],
            403,
            "cross_site_request",
        ),
        (
            "api: other port",
            Method::PUT,
            "/api/transfer",
            vec![csrf, ("origin", other_origin.as_str())],
            403,
            "cross_site_request",
        ),
        (
            "api: cross-site",
            Method::DELETE,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "api: same-site",
            Method::PATCH,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "same-site")],
            403,
            "cross_site_request",
        ),
        (
            "api: typed URL",
            Method::GET,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "none")],
            403,
            "cross_site_request",
        ),
        (
            "api: CORS preflight",
            Method::OPTIONS,
            "/api/transfer",
            vec![
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-csrf"),
            ],
            403,
            "csrf_header_required",
        ),
        (
            "logout: no token",
            Method::GET,
            "/auth/logout",
            vec![],
            403,
            "invalid_logout_token",
        ),
        (
            "logout: wrong token",
            Method::GET,
            "/auth/logout?token=wrong",
            vec![],
            403,
            "invalid_logout_token",
        ),
        (
            "logout: cross-site with the token",
            Method::GET,
            logout.as_str(),
            vec![("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "logout: same-site with the token",
            Method::GET,
            logout.as_str(),
            vec![("sec-fetch-site", "same-site")],
            403,
            "cross_site_request",
        ),
        (
            "logout: foreign Origin with the token",
            Method::GET,
            logout.as_str(),
            vec![("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
    ];
    for (case, method, path, headers, status, code) in table {
        let before = w.before();
        let mut req = w.victim.request(method, &w.proxy.url(path));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = w.victim.send(req).await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{case}: no CORS grant"
        );
        w.refused(case, res, status, code, before).await;
    }
    // A WebSocket upgrade from another origin.
    let ws = format!("{}/api/ws", w.proxy.base.replace("http://", "ws://"));
    let cookie = format!("vestibule={}", w.victim_id());
    let own_origin = w.proxy.base.clone();
    let upgrade = |origin: &str| {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                ws.as_str(),
            )
            .expect("ws request");
        req.headers_mut()
            .insert("origin", origin.parse().expect("hv"));
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("hv"));
        tokio_tungstenite::connect_async(req)
    };
    let before = w.before();
    let result = upgrade("https://evil.example").await;
    // Checked before the answer: an upgrade that got through would reach the upstream first.
    w.unchanged("cross-site WebSocket", before).await;
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403, "cross-site WebSocket");
            let body = String::from_utf8_lossy(res.body().as_deref().unwrap_or_default());
            assert!(
                body.contains("cross_site_websocket"),
                "cross-site WebSocket: the answer names its code: {body}"
            );
        }
        other => panic!(
            "cross-site WebSocket must be refused: {:?}",
            other.map(|_| ())
        ),
    }
    // Control: the same upgrade from our own origin reaches the upstream, and is counted.
    let before = w.before();
    let (ws_stream, _) = upgrade(&own_origin).await.expect("same-origin WebSocket");
    drop(ws_stream);
    assert_eq!(
        w.api.hit_count(),
        before.hits + 1,
        "a same-origin WebSocket is forwarded and counted"
    );

    // Controls: the SPA's own calls pass (and the last one ends the session on purpose).
    let res = w
        .victim
        .send(
            w.victim
                .request(Method::POST, &w.proxy.url("/api/transfer"))
                .header("x-csrf", "1")
                .header("sec-fetch-site", "same-origin")
                .header("origin", &w.proxy.base),
        )
        .await;
    assert_eq!(res.status(), 200, "same-origin API call");
    let res = w
        .victim
        .get_with(&w.proxy.url(&logout), &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(res.status(), 302, "same-origin logout");
    assert_eq!(w.victim.session(&w.proxy).await.status(), 401);
}

#[actix_web::test]
async fn every_kind_of_api_route_needs_the_csrf_rules() {
    let kinds = [
        ("/client", "client"),
        ("/either", "user_or_client"),
        ("/maybe", "optional"),
        ("/open", "none"),
    ];
    let mut w = World::with_routes(false, &[], |api| {
        kinds
            .iter()
            .map(|(prefix, token)| api.route(prefix, token))
            .collect()
    })
    .await;
    let csrf = ("x-csrf", "1");
    // (case, method, headers, signed in, status, code)
    type Row<'a> = (&'a str, Method, Vec<(&'a str, &'a str)>, bool, u16, &'a str);
    let table: Vec<Row> = vec![
        (
            "no header",
            Method::POST,
            vec![],
            true,
            403,
            "csrf_header_required",
        ),
        (
            "no header, signed out",
            Method::POST,
            vec![],
            false,
            403,
            "csrf_header_required",
        ),
        (
            "no header on a GET",
            Method::GET,
            vec![],
            true,
            403,
            "csrf_header_required",
        ),
        (
            "wrong value",
            Method::PUT,
            vec![("x-csrf", "true")],
            true,
            403,
            "csrf_header_required",
        ),
        (
            "foreign Origin",
            Method::POST,
            vec![csrf, ("origin", "https://evil.example")],
            true,
            403,
            "cross_site_request",
        ),
        (
            "cross-site, signed out",
            Method::DELETE,
            vec![csrf, ("sec-fetch-site", "cross-site")],
            false,
            403,
            "cross_site_request",
        ),
    ];
    for (prefix, token) in kinds {
        for (case, method, headers, signed_in, status, code) in &table {
            let case = format!("{token} route: {case}");
            let before = w.before();
            let url = w.proxy.url(&format!("{prefix}/transfer"));
            let mut req = if *signed_in {
                w.victim.request(method.clone(), &url)
            } else {
                reqwest::Client::new().request(method.clone(), &url)
            };
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let res = req.send().await.expect("request");
            w.refused(&case, res, *status, code, before).await;
        }
    }
    // Controls: each route forwards the SPA's own call, signed in and out (so the refusals above
    // are the CSRF rules, not a route that forwards nothing).
    for (prefix, token) in kinds {
        for signed_in in [true, false] {
            let before = w.before();
            let url = w.proxy.url(&format!("{prefix}/transfer"));
            let req = if signed_in {
                w.victim.request(Method::POST, &url)
            } else {
                reqwest::Client::new().request(Method::POST, &url)
            };
            let res = req
                .header("x-csrf", "1")
                .header("sec-fetch-site", "same-origin")
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), 200, "{token} route, signed in: {signed_in}");
            assert_eq!(w.api.hit_count(), before.hits + 1, "{token} route");
        }
    }
}

#[actix_web::test]
async fn custom_names_work_end_to_end_and_the_default_ones_then_do_not() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let redis = RedisServer::start();
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .set("server.auth_prefix", "/bff")
        .set("server.csrf_header", "x-bff-csrf")
        .set("session.cookie_name", "bffsid")
        .route(api.api_route("required"))
        .start()
        .await;
    let csrf = [("x-bff-csrf", "1")];
    let mut b = Browser::new();
    let start = b.start_login_at(&proxy, "/bff/login?return_to=%2F").await;
    assert!(
        start.redirect_uri.ends_with("/bff/callback"),
        "{}",
        start.redirect_uri
    );
    let code = start.code(&idp, Tweak::None);
    let params = [("code", code.as_str()), ("state", start.state.as_str())];
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    // The default callback path is nobody's: the code and state stay unused.
    let res = b.get(&proxy.url(&format!("/auth/callback?{query}"))).await;
    assert_eq!(res.status(), 404, "the default callback path");
    assert_eq!(redis.session_count(), 0);
    let res = b.get(&proxy.url(&format!("/bff/callback?{query}"))).await;
    assert_eq!(res.status(), 302, "login completes");
    assert_eq!(redis.session_count(), 1);
    let names: Vec<&String> = b.cookies.keys().collect();
    assert_eq!(names, ["bffsid", "bffsid-login"], "only the custom names");
    let id = b.cookies["bffsid"].clone();
    assert!(
        b.set_cookie_headers.iter().all(|c| c.starts_with("bffsid")),
        "{:?}",
        b.set_cookie_headers
    );

    let res = b.get_with(&proxy.url("/bff/session"), &csrf).await;
    assert_eq!(res.status(), 200);
    let info: serde_json::Value = res.json().await.expect("json");
    assert_eq!(info["sub"], idp::SUB);
    let logout = info["logout_url"].as_str().expect("logout_url").to_owned();
    assert!(logout.starts_with("/bff/logout?"), "{logout}");
    let seen: serde_json::Value = b
        .get_with(&proxy.url("/api/x"), &csrf)
        .await
        .json()
        .await
        .expect("the echo's JSON");
    assert!(
        seen["headers"]["authorization"]
            .as_str()
            .is_some_and(|a| a.starts_with("Bearer ")),
        "{seen}"
    );
    assert_eq!(api.hit_count(), 1);

    // The default names, one at a time.
    let default_cookie = format!("vestibule={id}");
    let custom_cookie = format!("bffsid={id}");
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a str,
        [(&'a str, &'a str); 1],
        u16,
        &'a str,
    );
    let table: [Row; 6] = [
        (
            "the default header on the session",
            "/bff/session",
            &custom_cookie,
            [("x-csrf", "1")],
            403,
            "csrf_header_required",
        ),
        (
            "the default header on an API call",
            "/api/x",
            &custom_cookie,
            [("x-csrf", "1")],
            403,
            "csrf_header_required",
        ),
        (
            "the default cookie name on the session",
            "/bff/session",
            &default_cookie,
            csrf,
            401,
            "unauthenticated",
        ),
        (
            "the default cookie name on an API call",
            "/api/x",
            &default_cookie,
            csrf,
            401,
            "unauthenticated",
        ),
        (
            "the default session path",
            "/auth/session",
            &custom_cookie,
            csrf,
            404,
            "",
        ),
        (
            "the default logout path with the token",
            &logout.replacen("/bff/", "/auth/", 1),
            &custom_cookie,
            csrf,
            404,
            "",
        ),
    ];
    for (case, path, cookie, headers, status, code) in table {
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
            .get(proxy.url(path))
            .header("cookie", cookie)
            .header(headers[0].0, headers[0].1)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), status, "{case}");
        assert!(res.headers().get("set-cookie").is_none(), "{case}");
        let body = res.text().await.expect("body");
        if code.is_empty() {
            // No code: a path nobody serves, whose 404 is bare (every body contains "", so the
            // emptiness is what is checked).
            assert_eq!(body, "", "{case}: an unserved path's bare 404");
        } else {
            assert!(body.contains(code), "{case}: {body}");
        }
        assert_eq!(api.hit_count(), 1, "{case}: nothing forwarded");
        assert_eq!(redis.session_count(), 1, "{case}: the session stays");
    }

    let res = b.get(&proxy.url(&logout)).await;
    assert_eq!(res.status(), 302, "logout");
    assert!(
        b.set_cookie_headers
            .last()
            .is_some_and(|c| c.starts_with("bffsid=;") || c.contains("Max-Age=0")),
        "{:?}",
        b.set_cookie_headers
    );
    assert!(!b.cookies.contains_key("bffsid"), "cleared");
    assert_eq!(redis.session_count(), 0);
    let mut stale = Browser::new();
    stale.cookies.insert("bffsid".into(), id);
    let res = stale.get_with(&proxy.url("/bff/session"), &csrf).await;
    assert_eq!(res.status(), 401, "ended");
}

//! Requests from other sites: missing or wrong anti-CSRF header, `Sec-Fetch-Site`, foreign
//! `Origin`, a CORS preflight, logout with a leaked token, a cross-site WebSocket.

use reqwest::Method;

use super::World;

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

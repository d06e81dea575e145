//! One path, one decision: every spelling of a path that some server could read as a stricter
//! route's is judged by that route or refused, never forwarded under a looser route's policy.
//! Each row is sent raw (an HTTP client would normalise some of them first), by a signed-in
//! attacker whose session has no `mfa`, with the anti-CSRF header: the rows only differ in the
//! path. The config is docs/proxying.md's and `config/routes.toml`'s: `/api` with `/api/admin` and
//! `/api/payments` nested under it on the same upstream.

use super::World;
use super::raw_http::raw_response;
use crate::common::*;

async fn world() -> World {
    World::with_routes(false, &[], |api| {
        vec![
            api.route("/api/admin", "user")
                .set("require_acr", Raw(r#"["mfa", "hwk"]"#)),
            api.route("/api/payments", "user")
                .set("require_acr", Raw(r#"["mfa"]"#))
                .set("max_auth_age", "5m"),
            TestRoute::new("/pub", &format!("{}/public-api", api.url()), "none")
                .set("strip_prefix", true),
            api.route("/readonly", "user")
                .set("methods", Raw(r#"["GET", "HEAD"]"#)),
        ]
    })
    .await
}

fn request(method: &str, path: &str, cookie: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRF: 1\r\n\
         Sec-Fetch-Site: same-origin\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

const STEP_UP: (u16, &str) = (401, "insufficient_user_authentication");
const BAD: (u16, &str) = (400, "bad_request");

#[actix_web::test]
async fn no_spelling_of_a_path_reaches_a_looser_routes_policy() {
    let mut w = world().await;
    let attacker = w.sign_in().await;
    let cookie = attacker.session_cookie();

    // Controls: the attacker's session forwards on /api, and the nested routes ask for step-up.
    let hits = w.api.hit_count();
    let (status, _) = raw_response(&w.proxy, &request("GET", "/api/x", &cookie, ""));
    assert_eq!(
        (status, w.api.hit_count()),
        (200, hits + 1),
        "control: /api/x"
    );
    for path in ["/api/admin/x", "/api/payments/x"] {
        let before = w.before();
        let (status, body) = raw_response(&w.proxy, &request("GET", path, &cookie, ""));
        assert_eq!(status, STEP_UP.0, "control {path}: {body}");
        w.unchanged(path, before).await;
    }

    let table: &[(&str, (u16, &str))] = &[
        // Case: chosen as the stricter route (its step-up), never the parent's.
        ("/api/ADMIN/x", STEP_UP),
        ("/api/Admin/x", STEP_UP),
        ("/API/admin/x", STEP_UP),
        ("/api/PAYMENTS/x", STEP_UP),
        ("/api/%61dmin/x", STEP_UP),
        ("/api/adm%C4%B1n/x", STEP_UP),
        ("/api/adm%C4%B0n/x", STEP_UP),
        ("/api/payment%C5%BF/x", STEP_UP),
        // Spellings servers read differently: refused before anything is forwarded.
        ("/api//admin/x", BAD),
        ("/api/admin%2Fx", BAD),
        ("/api/admin%2fx", BAD),
        ("/api/payments%2Fx", BAD),
        ("/api/admin%5Cx", BAD),
        ("/api/admin\\x", BAD),
        ("/api/admin;x/x", BAD),
        ("/api/admin;jsessionid=1/x", BAD),
        ("/api/admin./x", BAD),
        ("/api/admin%2e/x", BAD),
        ("/api/admin%20/x", BAD),
        ("/api/x/..%2Fadmin", BAD),
        ("/api/x/..%5Cadmin", BAD),
        ("/api/x/%2e%2e/admin/x", BAD),
        ("/api/x/../admin/x", BAD),
        ("/api/admin%252Fx", BAD),
        ("/api/a%00b", BAD),
        ("/api/%zz", BAD),
        // Found by the fresh-eyes attack: double-encoded letters, overlong UTF-8, encoded
        // query and fragment delimiters.
        ("/api/%2561dmin/x", BAD),
        ("/api/adm%2569n/x", BAD),
        ("/api/%25%36%31dmin/x", BAD),
        ("/api/x/%C0%AE%C0%AE/admin/x", BAD),
        ("/api/admin%C0%AF/x", BAD),
        ("/api/admin%C1%9C/x", BAD),
        ("/api/admin%3F/x", BAD),
        ("/api/admin%23/x", BAD),
        // Out of a route's upstream base path (`/public-api`), for a decoding upstream.
        ("/pub/..%2Fsecret", BAD),
        ("/pub/%2e%2e/secret", BAD),
        ("/PUB/..%2fsecret", BAD),
        ("/pub/%C0%AE%C0%AE/secret", BAD),
    ];
    for (path, (status, code)) in table {
        let before = w.before();
        let (got, body) = raw_response(&w.proxy, &request("GET", path, &cookie, ""));
        assert_eq!(got, *status, "{path}: {body}");
        assert!(body.contains(code), "{path}: names {code}: {body}");
        w.unchanged(path, before).await;
    }
}

#[actix_web::test]
async fn rewrite_and_method_override_headers_never_pass_upstream() {
    let w = world().await;
    let mut attacker = w.sign_in().await;
    let headers = [
        ("x-original-url", "/api/admin/x"),
        ("x-rewrite-url", "/api/admin/x"),
        ("x-original-uri", "/api/admin/x"),
        ("x-forwarded-prefix", "/api/admin"),
        ("x-forwarded-path", "/api/admin/x"),
        ("x-forwarded-uri", "/api/admin/x"),
        ("x-envoy-original-path", "/api/admin/x"),
        ("x-http-method-override", "DELETE"),
        ("x-http-method", "DELETE"),
        ("x-method-override", "DELETE"),
        ("x-forwarded-port", "1"),
        ("x-real-ip", "10.0.0.1"),
        ("x-host", "admin.internal"),
        // Other spellings and names (found by the fresh-eyes attack): CGI reads `_` as `-`.
        ("x_original_url", "/api/admin/x"),
        ("x-original_url", "/api/admin/x"),
        ("x_http_method_override", "DELETE"),
        ("x-original-method", "DELETE"),
        ("x-original-host", "admin.internal"),
        ("x-rewrite-path", "/api/admin/x"),
        ("x-middleware-subrequest", "middleware"),
        ("x-forwarded-scheme", "https"),
        ("true-client-ip", "10.0.0.1"),
        ("cf-connecting-ip", "10.0.0.1"),
    ];
    let seen = attacker.api_seen(&w.proxy, "/api/other", &headers).await;
    for (name, _) in headers {
        assert!(
            seen["headers"].get(name).is_none(),
            "{name} reached the upstream: {seen}"
        );
    }
    assert_eq!(seen["path"], "/api/other");
    // A header that is not one of them still passes (the filter is not "drop everything").
    let seen = attacker
        .api_seen(&w.proxy, "/api/other", &[("x-app-version", "7")])
        .await;
    assert_eq!(seen["headers"]["x-app-version"], "7");
}

#[actix_web::test]
async fn a_route_forwards_only_its_methods() {
    let mut w = world().await;
    let attacker = w.sign_in().await;
    let cookie = attacker.session_cookie();
    let hits = w.api.hit_count();
    let (status, _) = raw_response(&w.proxy, &request("GET", "/readonly/x", &cookie, ""));
    assert_eq!((status, w.api.hit_count()), (200, hits + 1), "control: GET");
    for method in [
        "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "TRACE", "CONNECT",
    ] {
        let before = w.before();
        let (status, body) = raw_response(&w.proxy, &request(method, "/readonly/x", &cookie, ""));
        assert_eq!(status, 405, "{method}: {body}");
        assert!(body.contains("method_not_allowed"), "{method}: {body}");
        assert!(
            body.to_ascii_lowercase().contains("allow: get, head"),
            "{method}: Allow: {body}"
        );
        w.unchanged(method, before).await;
    }
    // An override header cannot turn an allowed GET into something else upstream.
    let before = w.before();
    let (status, body) = raw_response(
        &w.proxy,
        &request(
            "GET",
            "/readonly/x",
            &cookie,
            "X-HTTP-Method-Override: DELETE\r\n",
        ),
    );
    assert_eq!(status, 200);
    assert!(body.contains("\"method\":\"GET\""), "{body}");
    assert!(!body.contains("x-http-method-override"), "{body}");
    assert_eq!(w.api.hit_count(), before.hits + 1);
}

#[actix_web::test]
async fn connect_trace_and_track_are_never_forwarded_even_where_every_method_is() {
    let mut w = world().await;
    let attacker = w.sign_in().await;
    let cookie = attacker.session_cookie();
    for method in ["CONNECT", "TRACE", "TRACK"] {
        let before = w.before();
        let (status, body) = raw_response(&w.proxy, &request(method, "/api/x", &cookie, ""));
        assert_eq!(status, 405, "{method}: {body}");
        assert!(body.contains("method_not_allowed"), "{method}: {body}");
        w.unchanged(method, before).await;
    }
}

//! Forward-auth (`/auth/check`): requests that try to make a gateway's check say yes to a
//! request it would refuse. Every row is sent raw (a client library would tidy some of them),
//! and after each refused row: the status and code, nothing the gateway would copy upstream in
//! the answer (no `Authorization`, no `X-Auth-Request-*`), no session created or ended, the
//! bystander signed in, nothing forwarded, the process serving.
//!
//! - from a peer that is not a trusted proxy (the tests' client is 127.0.0.1, left out of
//!   `trusted_proxies`), whatever the request claims: 400 `untrusted_proxy`; the controls send
//!   the same checks to a replica on the same store that trusts 127.0.0.1;
//! - from a trusted gateway, original requests spelled to reach a looser route or to smuggle a
//!   second account of the request past the first; the controls are what a gateway sends.

use serde_json::json;

use super::World;
use super::raw_http::raw_response;
use crate::common::*;

/// The admins' route (GET only) beside the world's `/api`, and a public-ish one.
fn routes(api: &Upstream) -> Vec<TestRoute> {
    vec![
        api.route("/api/admin", "user")
            .set("allow", r#""admins" in groups && request.method == "GET""#),
        api.route("/api/public", "user"),
    ]
}

async fn world(trusted: &'static str) -> World {
    World::build(false, &[], routes, false, |c| {
        c.set("server.trusted_proxies", Raw(trusted))
    })
    .await
}

/// A browser signed in as `sub` with `claims` in its ID token.
async fn user(w: &World, sub: &'static str, claims: serde_json::Value) -> Browser {
    w.idp.set_claims(claims);
    let mut b = Browser::new();
    let res = b.log_in(&w.proxy, &w.idp, Tweak::Sub(sub), "/").await;
    assert_eq!(res.status(), 302, "{sub} signs in");
    w.idp.set_claims(json!({}));
    b
}

/// One check, raw: `target` on the check endpoint, with these header lines (each ending in
/// CRLF). Its status, head (lower-cased) and body.
fn check(proxy: &Proxy, target: &str, headers: &str) -> (u16, String, String) {
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n");
    let (status, text) = raw_response(proxy, request.as_bytes());
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// `X-Original-URI` (or the name given) and `X-Forwarded-Method` header lines.
fn says(uri: &str, method: &str) -> String {
    format!("X-Original-URI: {uri}\r\nX-Forwarded-Method: {method}\r\n")
}

/// (case, check target, header lines, status, error code; empty for a control).
type Row = (String, String, String, u16, &'static str);

fn cookie_line(b: &Browser) -> String {
    format!("Cookie: {}\r\n", b.session_cookie())
}

impl World {
    /// Runs `rows` of (case, target, headers, status, code) against the world's proxy (or
    /// `other`); `code` empty: a control, which must be let through.
    async fn check_rows(&mut self, other: Option<&Proxy>, rows: &[Row]) {
        for (case, target, headers, status, code) in rows {
            let before = self.before();
            let (got, head, body) = check(other.unwrap_or(&self.proxy), target, headers);
            if code.is_empty() {
                assert_eq!(got, 200, "control {case}: {head}\n{body}");
                assert!(
                    head.contains("\nx-auth-request-user: "),
                    "control {case}: {head}"
                );
                self.unchanged(case, before).await;
                continue;
            }
            assert_eq!(got, *status, "{case}: {head}\n{body}");
            if *status != 431 {
                let refusal = format!(r#""error":"{code}""#);
                assert!(body.contains(&refusal), "{case}: {code} in {body}");
                assert!(head.contains("\ncache-control: no-store"), "{case}: {head}");
            }
            for copied in ["\nauthorization:", "\nx-auth-request-", "\nlocation:"] {
                assert!(!head.contains(copied), "{case}: {copied} in {head}");
            }
            self.unchanged(case, before).await;
        }
    }
}

#[actix_web::test]
async fn an_untrusted_peer_cannot_make_a_check_say_yes() {
    let mut w = world(r#"["192.0.2.10", "10.0.0.0/8"]"#).await;
    let admin = user(&w, "admin-1", json!({"groups": ["admins"]})).await;
    let c = cookie_line(&admin);
    let long = format!("/api/admin/{}", "a".repeat(16 * 1024));
    let untrusted = |case: &str, target: &str, headers: String| {
        (
            case.to_owned(),
            target.to_owned(),
            headers,
            400,
            "untrusted_proxy",
        )
    };
    let rows = vec![
        untrusted(
            "X-Forwarded-Uri",
            "/auth/check",
            format!("{c}X-Forwarded-Uri: /api/public/x\r\nX-Forwarded-Method: GET\r\n"),
        ),
        untrusted(
            "X-Original-URI",
            "/auth/check",
            format!("{c}{}", says("/api/admin/x", "GET")),
        ),
        untrusted(
            "both URI headers",
            "/auth/check",
            format!(
                "{c}{}X-Forwarded-Uri: /api/public/x\r\n",
                says("/api/admin/x", "GET")
            ),
        ),
        untrusted(
            "two X-Forwarded-Uri",
            "/auth/check",
            format!(
                "{c}X-Forwarded-Uri: /api/public/x\r\nX-Forwarded-Uri: /api/admin/x\r\nX-Forwarded-Method: GET\r\n"
            ),
        ),
        untrusted(
            "X-Forwarded-For naming a trusted proxy",
            "/auth/check",
            format!(
                "{c}X-Forwarded-For: 192.0.2.10\r\n{}",
                says("/api/admin/x", "GET")
            ),
        ),
        untrusted(
            "Forwarded and X-Real-IP naming one",
            "/auth/check",
            format!(
                "{c}Forwarded: for=10.0.0.1\r\nX-Real-IP: 10.0.0.1\r\n{}",
                says("/api/admin/x", "GET")
            ),
        ),
        untrusted(
            "the original path in the check's",
            "/auth/check/api/admin/x",
            c.clone(),
        ),
        untrusted("no account of the request", "/auth/check", c.clone()),
        untrusted(
            "a 16 KB URI",
            "/auth/check",
            format!("{c}{}", says(&long, "GET")),
        ),
        untrusted(
            "a method override",
            "/auth/check",
            format!(
                "{c}X-HTTP-Method-Override: GET\r\n{}",
                says("/api/admin/x", "DELETE")
            ),
        ),
        untrusted(
            "without a cookie",
            "/auth/check",
            says("/api/public/x", "GET"),
        ),
    ];
    w.check_rows(None, &rows).await;
    // The controls: the same checks from a trusted peer, to a replica on the same store.
    let trusting = TestConfig::for_idp(&w.idp)
        .redis(&w.redis)
        .set("server.trusted_proxies", Raw(r#"["127.0.0.1"]"#))
        .route(w.api.api_route("required"))
        .route(routes(&w.api).remove(0))
        .route(routes(&w.api).remove(1))
        .start()
        .await;
    let controls: Vec<_> = [&rows[0], &rows[1], &rows[6]]
        .iter()
        .map(|(case, target, headers, _, _)| {
            (case.clone(), target.clone(), headers.clone(), 200, "")
        })
        .collect();
    w.check_rows(Some(&trusting), &controls).await;
}

#[actix_web::test]
async fn a_trusted_gateways_check_is_judged_on_the_request_whatever_its_spelling() {
    let mut w = world(r#"["127.0.0.1"]"#).await;
    let admin = user(&w, "admin-1", json!({"groups": ["admins"]})).await;
    let admin_token = w.idp.last_access_token();
    let mallory = user(&w, "mallory", json!({"groups": ["users"]})).await;
    let (a, m) = (cookie_line(&admin), cookie_line(&mallory));
    let long = format!("/api/admin/{}", "a".repeat(16 * 1024));
    let huge = format!("/api/admin/{}", "a".repeat(40 * 1024));
    let mut forged = admin.session_cookie();
    forged.pop();
    forged.push('x');
    let row = |case: &str, target: &str, headers: String, status: u16, code: &'static str| {
        (case.to_owned(), target.to_owned(), headers, status, code)
    };
    let at = |headers: String, status: u16, code: &'static str, case: &str| {
        row(case, "/auth/check", headers, status, code)
    };
    let rows = vec![
        at(
            format!("{m}{}", says("/api/admin/x", "GET")),
            403,
            "forbidden",
            "the plain path",
        ),
        at(
            format!("{m}{}", says("/api/public/../admin/x", "GET")),
            400,
            "bad_request",
            "`..` from an allowed route",
        ),
        at(
            format!("{m}{}", says("/api/public/..%2Fadmin/x", "GET")),
            400,
            "bad_request",
            "`..%2F`",
        ),
        at(
            format!("{m}{}", says("/api/admin%2Fx", "GET")),
            400,
            "bad_request",
            "`%2F` in the admin route",
        ),
        at(
            format!("{m}{}", says("/api/public%2F..%2F..%2Fapi/admin", "GET")),
            400,
            "bad_request",
            "`%2F..%2F`",
        ),
        at(
            format!("{m}{}", says("/api/admin/x;/../../public", "GET")),
            400,
            "bad_request",
            "`;` parameters",
        ),
        at(
            format!("{m}{}", says("/API/ADMIN/x", "GET")),
            403,
            "forbidden",
            "upper case",
        ),
        at(
            format!("{m}{}", says("/api/%61dmin/x", "GET")),
            403,
            "forbidden",
            "an encoded letter",
        ),
        at(
            format!("{m}{}", says("http://evil.example/api/public/x", "GET")),
            400,
            "bad_forwarded_request",
            "an absolute URI, another host",
        ),
        at(
            format!("{m}{}", says("//evil.example/api/admin/x", "GET")),
            403,
            "no_route",
            "a network-path reference",
        ),
        at(
            format!("{m}{}", says("/api/public/x#/../../admin/x", "GET")),
            400,
            "bad_forwarded_request",
            "a fragment",
        ),
        at(
            format!(
                "{m}{}",
                says("/api/public%0d%0aX-Original-URI:%20/api/admin/x", "GET")
            ),
            400,
            "bad_request",
            "an encoded CRLF",
        ),
        at(
            format!(
                "{m}X-Original-URI: /api/public/x\r\nX-Original-URI: /api/admin/x\r\nX-Forwarded-Method: GET\r\n"
            ),
            400,
            "bad_forwarded_request",
            "a CRLF-injected second URI",
        ),
        at(
            format!(
                "{m}X-Forwarded-Uri: /api/admin/x\r\n{}",
                says("/api/public/x", "GET")
            ),
            400,
            "bad_forwarded_request",
            "X-Forwarded-Uri beside the gateway's X-Original-URI",
        ),
        at(
            format!("{m}X-Original-URI: /api/admin/x\r\n"),
            400,
            "bad_forwarded_request",
            "no method",
        ),
        at(
            format!("{m}{}", says(&long, "GET")),
            403,
            "forbidden",
            "a 16 KB URI",
        ),
        at(
            format!("{m}{}", says(&huge, "GET")),
            431,
            "request_header_too_large",
            "a 40 KB URI",
        ),
        at(
            format!(
                "{a}X-HTTP-Method-Override: GET\r\nX-Original-Method: GET\r\n{}",
                says("/api/admin/x", "DELETE")
            ),
            403,
            "csrf_header_required",
            "a method override (the admin, DELETE)",
        ),
        at(
            format!(
                "{a}X-CSRF: 1\r\nX-HTTP-Method-Override: GET\r\n{}",
                says("/api/admin/x", "DELETE")
            ),
            403,
            "forbidden",
            "a method override with the CSRF header",
        ),
        at(
            format!("{a}{}", says("/api/admin/x", "get")),
            403,
            "csrf_header_required",
            "a lower-case method",
        ),
        at(
            says("/api/admin/x", "GET"),
            401,
            "unauthenticated",
            "no cookie",
        ),
        at(
            format!("Cookie: {forged}\r\n{}", says("/api/admin/x", "GET")),
            401,
            "unauthenticated",
            "a forged cookie",
        ),
        at(
            format!(
                "{m}X-Auth-Request-User: admin-1\r\nX-Auth-Request-Email: ada@example.test\r\n{}",
                says("/api/admin/x", "GET")
            ),
            403,
            "forbidden",
            "another user's identity in headers",
        ),
        at(
            format!(
                "{m}Authorization: Bearer {admin_token}\r\n{}",
                says("/api/admin/x", "GET")
            ),
            403,
            "forbidden",
            "another user's token",
        ),
        row(
            "the original path in the check's, and a URI header",
            "/auth/check/api/admin/x",
            format!("{a}X-Forwarded-Uri: /api/public/x\r\n"),
            400,
            "bad_forwarded_request",
        ),
        row(
            "the original path in the check's, with `..`",
            "/auth/check/api/public/../admin/x",
            m.clone(),
            400,
            "bad_request",
        ),
        row(
            "the original path in the check's, a method override",
            "/auth/check/api/admin/x",
            format!("{a}X-Forwarded-Method: GET\r\n"),
            400,
            "bad_forwarded_request",
        ),
    ];
    w.check_rows(None, &rows).await;
    let controls = vec![
        at(
            format!("{a}{}", says("/api/admin/x", "GET")),
            200,
            "",
            "the admin",
        ),
        at(
            format!("{a}{}", says("/API/Admin/x", "GET")),
            200,
            "",
            "the admin, upper case",
        ),
        at(
            format!("{m}{}", says("/api/public/x?next=/../admin/x", "GET")),
            200,
            "",
            "a query is not the path",
        ),
        row(
            "the admin, Envoy's way",
            "/auth/check/api/admin/x",
            a.clone(),
            200,
            "",
        ),
    ];
    w.check_rows(None, &controls).await;
}

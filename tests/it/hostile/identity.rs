//! The signed identity under attack: identity headers the browser brings (any spelling, any
//! number, on routes with and without an identity, signed in or not), claims the route does not
//! copy, claims named like the ones Vestibule sets, and claims too large for a header.

use serde_json::Value;

use super::World;
use super::raw_http::raw_response;
use crate::common::*;

/// What every forged value contains: it must never appear in what the upstream saw.
const FORGED: &str = "FORGED";

async fn world() -> World {
    World::with_routes(false, &[], |api| {
        vec![
            api.route("/id", "user")
                .set("identity_header", "X-Vestibule-Identity"),
            api.route("/custom", "none")
                .set("identity_header", "X-User-Jwt")
                .set("identity_claims", Raw(r#"["email"]"#)),
            api.route("/plain", "user"),
        ]
    })
    .await
}

/// A GET written byte for byte (header names keep their spelling on the wire); the upstream's
/// echo of what reached it.
fn seen_raw(w: &World, path: &str, cookie: Option<&str>, extra: &str) -> Value {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CSRF: 1\r\n{cookie}{extra}Connection: close\r\n\r\n"
    );
    let (status, text) = raw_response(&w.proxy, request.as_bytes());
    assert_eq!(status, 200, "{path} {extra:?}: {text}");
    let body = text.split_once("\n\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: the echo's JSON: {e}: {body}"))
}

/// The route's identity as the upstream saw it: exactly one, ours, verifying with the JWKS.
fn assert_ours(case: &str, seen: &Value, name: &str, jwks: &Jwks, w: &World, aud: &str) {
    assert!(
        !seen["duplicate_headers"].to_string().contains(name),
        "{case}: one {name}: {seen}"
    );
    let jwt = seen["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: an identity in {name}: {seen}"));
    let claims = jwks
        .verify(jwt, &w.proxy, &format!("{}{aud}", w.proxy.base))
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(claims["sub"], idp::SUB, "{case}");
}

#[actix_web::test]
async fn a_browser_never_brings_its_own_identity() {
    let w = world().await;
    let attacker = w.sign_in().await;
    let cookie = attacker.session_cookie();
    let jwks = Jwks::of(&w.proxy).await;
    let none_jwt = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ2aWN0aW0iLCJGT1JHRUQiOjF9.";
    let forged_cookie = format!("vestibule={}", "A".repeat(43));
    let id = "x-vestibule-identity";
    // (case, path, signed in, header lines, the route's identity header if it has one)
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        String,
        Option<(&'a str, &'a str)>,
    );
    let ours = Some((id, "/id"));
    let custom = Some(("x-user-jwt", "/custom"));
    let table: Vec<Row> = vec![
        (
            "as configured",
            "/id/x",
            Some(&cookie),
            format!("X-Vestibule-Identity: {FORGED}\r\n"),
            ours,
        ),
        (
            "lower case",
            "/id/x",
            Some(&cookie),
            format!("x-vestibule-identity: {FORGED}\r\n"),
            ours,
        ),
        (
            "upper case",
            "/id/x",
            Some(&cookie),
            format!("X-VESTIBULE-IDENTITY: {FORGED}\r\n"),
            ours,
        ),
        (
            "mixed case",
            "/id/x",
            Some(&cookie),
            format!("x-VeStIbUlE-iDeNtItY: {FORGED}\r\n"),
            ours,
        ),
        (
            "twice, in two spellings",
            "/id/x",
            Some(&cookie),
            format!("X-Vestibule-Identity: {FORGED}-1\r\nx-vestibule-identity: {FORGED}-2\r\n"),
            ours,
        ),
        (
            "an unsigned JWT for another sub",
            "/id/x",
            Some(&cookie),
            format!("X-Vestibule-Identity: {none_jwt}\r\n"),
            ours,
        ),
        (
            "underscores",
            "/id/x",
            Some(&cookie),
            format!("X_Vestibule_Identity: {FORGED}\r\n"),
            ours,
        ),
        (
            "a route's own name, twice",
            "/custom/x",
            Some(&cookie),
            format!("X-User-Jwt: {FORGED}-1\r\nX-USER-JWT: {FORGED}-2\r\n"),
            custom,
        ),
        (
            "a route's own name, anonymous",
            "/custom/x",
            None,
            format!("x-user-jwt: {FORGED}\r\n"),
            None,
        ),
        (
            "a route's own name, a forged session cookie",
            "/custom/x",
            Some(&forged_cookie),
            format!("X-User-Jwt: {FORGED}\r\n"),
            None,
        ),
        (
            "the default name where the route uses another, anonymous",
            "/custom/x",
            None,
            format!("X-Vestibule-Identity: {FORGED}\r\n"),
            None,
        ),
        (
            "the default name on a route without identity",
            "/plain/x",
            Some(&cookie),
            format!("X-Vestibule-Identity: {FORGED}\r\n"),
            None,
        ),
        (
            "another route's name on a route without identity",
            "/plain/x",
            Some(&cookie),
            format!("x-user-jwt: {FORGED}\r\n"),
            None,
        ),
        (
            "the default name on the plain /api route",
            "/api/x",
            Some(&cookie),
            format!("X-VESTIBULE-IDENTITY: {FORGED}\r\n"),
            None,
        ),
    ];
    let mut w = w;
    for (case, path, cookie, extra, identity) in table {
        let before = w.before();
        let seen = seen_raw(&w, path, cookie, &extra);
        assert!(
            !seen.to_string().contains(FORGED) && !seen.to_string().contains(none_jwt),
            "{case}: the browser's identity reached the upstream: {seen}"
        );
        match identity {
            Some((name, aud)) => assert_ours(case, &seen, name, &jwks, &w, aud),
            None => {
                for name in [id, "x-user-jwt"] {
                    assert!(
                        seen["headers"].get(name).is_none(),
                        "{case}: no {name}: {seen}"
                    );
                }
            }
        }
        assert_eq!(w.api.hit_count(), before.hits + 1, "{case}: forwarded once");
        assert_eq!(w.redis.session_count(), before.sessions, "{case}");
        assert_eq!(w.victim.session(&w.proxy).await.status(), 200, "{case}");
    }
    // Controls: the SPA's own call gets Vestibule's identity; an ordinary header with the
    // marker does reach the upstream (so the marker check can see headers).
    let seen = seen_raw(&w, "/id/x", Some(&cookie), "");
    assert_ours("control", &seen, id, &jwks, &w, "/id");
    let seen = seen_raw(
        &w,
        "/plain/x",
        Some(&cookie),
        &format!("X-Ordinary: {FORGED}\r\n"),
    );
    assert_eq!(seen["headers"]["x-ordinary"], FORGED);
    w.proxy.assert_still_serving().await;
}

/// A browser signed in with an ID token that carries `claims` too.
async fn signed_in_with(w: &World, claims: &'static str) -> Browser {
    let mut b = Browser::new();
    let res = b.log_in(&w.proxy, &w.idp, Tweak::Claims(claims), "/").await;
    assert_eq!(res.status(), 302, "{claims}");
    b
}

#[actix_web::test]
async fn an_identity_copies_only_its_claims_and_never_an_oversized_one() {
    let mut w = world().await;
    let jwks = Jwks::of(&w.proxy).await;
    // Claims the route does not name, and claims named like the ones Vestibule sets.
    let mut b = signed_in_with(
        &w,
        r#"{"groups": ["admins"], "roles": ["root"], "is_admin": true,
            "x-user-jwt": "FORGED", "jti": "FORGED-jti", "exp": 4102444800, "nbf": 1}"#,
    )
    .await;
    let seen = b.api_seen(&w.proxy, "/custom/x", &[]).await;
    let jwt = seen["headers"]["x-user-jwt"].as_str().expect("an identity");
    let claims = jwks
        .verify(jwt, &w.proxy, &format!("{}/custom", w.proxy.base))
        .expect("verifies");
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["aud", "email", "exp", "iat", "iss", "jti", "sub"],
        "identity_claims = [\"email\"] and Vestibule's own: {claims:?}"
    );
    assert!(!jwt.contains(FORGED) && !serde_json::to_string(&claims).unwrap().contains(FORGED));
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 60);
    assert_eq!(
        claims["iss"],
        w.proxy.base.as_str(),
        "Vestibule's, not the IdP's"
    );
    // Claims too large for a header: refused (500 `identity_too_large`), never cut or sent
    // without them; nothing forwarded.
    let long_name: &'static str =
        Box::leak(format!(r#"{{"name": "{}"}}"#, "n".repeat(10_000)).into_boxed_str());
    let groups: Vec<String> = (0..1000).map(|i| format!("\"group-{i:04}\"")).collect();
    let many_groups: &'static str =
        Box::leak(format!(r#"{{"groups": [{}]}}"#, groups.join(",")).into_boxed_str());
    for (case, claims) in [("a 10 KB name", long_name), ("1000 groups", many_groups)] {
        let mut b = signed_in_with(&w, claims).await;
        let before = w.before();
        let res = b.api_get(&w.proxy, "/id/x", &[]).await;
        w.refused(case, res, 500, "identity_too_large", before)
            .await;
        // Control: a route that copies only `email` serves the same user.
        let seen = b.api_seen(&w.proxy, "/custom/x", &[]).await;
        assert!(seen["headers"]["x-user-jwt"].is_string(), "{case}: control");
    }
}

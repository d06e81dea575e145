//! Per-route tokens and step-up under attack: a route's token sent elsewhere, an `acr` claimed
//! by the browser or forged in the store, a step-up callback replayed.

use super::World;
use super::raw_http::raw;
use crate::common::idp;
use crate::common::*;

const ORDERS: &str = "https://orders.example";

async fn world() -> World {
    World::with_routes(false, &[], |api| {
        vec![
            api.route("/orders", "user").set("resource", ORDERS),
            api.route("/admin", "user")
                .set("require_acr", Raw(r#"["mfa"]"#)),
        ]
    })
    .await
}

#[actix_web::test]
async fn a_routes_token_never_reaches_another_routes_upstream() {
    let mut w = world().await;
    let mut attacker = w.sign_in().await;
    let seen = attacker.api_seen(&w.proxy, "/api/x", &[]).await;
    let login_token = seen["headers"]["authorization"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = attacker.api_seen(&w.proxy, "/orders/x", &[]).await;
    let orders_token = seen["headers"]["authorization"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(login_token, orders_token);
    assert_eq!(
        w.idp.minted_for(&orders_token),
        format!("resource={ORDERS}")
    );
    // The browser's own Authorization never passes: each upstream gets its route's token.
    for (path, theirs, ours) in [
        ("/orders/x", &login_token, &orders_token),
        ("/api/x", &orders_token, &login_token),
    ] {
        let seen = attacker
            .api_seen(&w.proxy, path, &[("authorization", theirs)])
            .await;
        assert_eq!(seen["headers"]["authorization"], ours.as_str(), "{path}");
    }
    // Paths that would climb from one route into another are refused (sent raw: an HTTP client
    // would resolve them before sending).
    let cookie = attacker.session_cookie();
    for path in [
        "/orders/../api/x",
        "/orders/%2e%2e/api/x",
        "/orders/.%2E/api/x",
        "/orders/..\\api/x",
    ] {
        let before = w.before();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRF: 1\r\n\
             Connection: close\r\n\r\n"
        );
        assert_eq!(raw(&w.proxy, request.as_bytes()), [400], "{path}");
        w.unchanged(path, before).await;
    }
}

#[actix_web::test]
async fn a_browser_cannot_claim_the_acr_a_route_asks_for() {
    let mut w = world().await;
    let mut attacker = w.sign_in().await;
    let forged_jwt = "Bearer eyJhbGciOiJub25lIn0.eyJhY3IiOiJtZmEifQ.";
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let table: [Row; 4] = [
        ("acr header", &[("x-acr", "mfa")], "/admin/x"),
        ("acr in the query", &[], "/admin/x?acr=mfa&acr_values=mfa"),
        (
            "a bearer token with acr",
            &[("authorization", forged_jwt)],
            "/admin/x",
        ),
        (
            "forwarded identity headers",
            &[("x-forwarded-user", "admin"), ("x-auth-request-acr", "mfa")],
            "/admin/x",
        ),
    ];
    for (case, headers, path) in table {
        let before = w.before();
        let res = attacker.api_get(&w.proxy, path, headers).await;
        w.refused(case, res, 401, "insufficient_user_authentication", before)
            .await;
    }
}

#[actix_web::test]
async fn a_tampered_session_cannot_claim_an_acr() {
    // No per-replica cache: every call reads the store, where the attacker writes.
    let mut w = World::with_routes(false, &[("cache_ttl", "0s")], |api| {
        vec![
            api.route("/admin", "user")
                .set("require_acr", Raw(r#"["mfa"]"#)),
        ]
    })
    .await;
    let mut mfa_user = Browser::new();
    let res = mfa_user
        .log_in(&w.proxy, &w.idp, Tweak::Acr("mfa"), "/")
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        mfa_user.api_get(&w.proxy, "/admin/x", &[]).await.status(),
        200
    );
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    let key_of =
        |b: &Browser| vestibule::store::storage_key("s", &namespace, &b.cookies["vestibule"]);
    let mfa_value = w.redis.get_raw(&key_of(&mfa_user));
    let mut flipped = mfa_value.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let table = [
        (
            "an mfa session's sealed value under the attacker's key",
            mfa_value,
        ),
        ("a flipped byte", flipped),
    ];
    for (case, forged) in table {
        let mut attacker = w.sign_in().await;
        w.redis.set_raw(&key_of(&attacker), &forged);
        let before = w.before();
        let res = attacker.api_get(&w.proxy, "/admin/x", &[]).await;
        w.assert_damaged_session_refused(res, before, case).await;
    }
    assert_eq!(
        mfa_user.api_get(&w.proxy, "/admin/x", &[]).await.status(),
        200
    );
}

#[actix_web::test]
async fn a_replayed_step_up_callback_upgrades_nothing() {
    let mut w = world().await;
    let mut b = w.sign_in().await;
    let res = b.api_get(&w.proxy, "/admin/x", &[]).await;
    let body: serde_json::Value = res.json().await.unwrap();
    let start = b
        .start_login_at(&w.proxy, body["login_url"].as_str().unwrap())
        .await;
    let code = start.code(&w.idp, Tweak::Acr("mfa"));
    assert_eq!(
        b.call_back(&w.proxy, &code, &start.state).await.status(),
        302
    );
    let upgraded = b.cookies["vestibule"].clone();
    // The same callback again, in this browser and in another.
    let before = w.before();
    let res = b.call_back(&w.proxy, &code, &start.state).await;
    w.refused(
        "replayed step-up callback",
        res,
        400,
        "invalid_state",
        before,
    )
    .await;
    assert_eq!(
        b.cookies["vestibule"], upgraded,
        "the session is the upgraded one"
    );
    let mut other = Browser::new();
    other.cookies = b.cookies.clone();
    other.cookies.remove("vestibule");
    let before = w.before();
    let res = other.call_back(&w.proxy, &code, &start.state).await;
    w.refused(
        "step-up callback replayed elsewhere",
        res,
        400,
        "invalid_state",
        before,
    )
    .await;
    assert_eq!(b.api_get(&w.proxy, "/admin/x", &[]).await.status(), 200);
}

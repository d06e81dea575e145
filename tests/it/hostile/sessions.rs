//! The session lists, the event stream and the admin API under attack: another user's handle, a
//! guessed one, secrets offered as handles, missing CSRF header, cross-site calls, and the admin
//! API without or with a wrong token, or on the public port.

use reqwest::Method;

use super::World;
use crate::common::*;

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef0123456789";

#[actix_web::test]
async fn nobody_ends_a_session_that_is_not_their_own() {
    let mut w = World::new(false, &[]).await;
    let victim_handle = w.victim.own_handle(&w.proxy).await;
    let mut mallory = Browser::new();
    let res = mallory
        .log_in(&w.proxy, &w.idp, Tweak::Sub("mallory"), "/")
        .await;
    assert_eq!(res.status(), 302);
    let victim_cookie = w.victim_id();
    let victim_key = vestibule::store::storage_key(
        "s",
        &format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID),
        &victim_cookie,
    );
    let csrf = [("x-csrf", "1")];
    let cross_site = [("x-csrf", "1"), ("sec-fetch-site", "cross-site")];
    type Row<'a> = (&'a str, String, &'a [(&'a str, &'a str)], u16, &'a str);
    let table: [Row; 8] = [
        (
            "another user's handle",
            victim_handle.clone(),
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "a guessed handle",
            "A".repeat(22),
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "the victim's cookie value as a handle",
            victim_cookie,
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "the victim's store key as a handle",
            victim_key,
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "a traversal-shaped handle",
            "..%2f..%2fsessions".into(),
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "an empty-looking handle",
            "%20".into(),
            &csrf,
            404,
            "session_not_found",
        ),
        (
            "no anti-CSRF header",
            victim_handle.clone(),
            &[],
            403,
            "csrf_header_required",
        ),
        (
            "cross-site",
            victim_handle.clone(),
            &cross_site,
            403,
            "cross_site_request",
        ),
    ];
    for (case, handle, headers, status, code) in table {
        let before = w.before();
        let res = mallory.end_session(&w.proxy, &handle, headers).await;
        w.refused(case, res, status, code, before).await;
    }
    // Ending "others" only ever ends the caller's own user's sessions.
    let before = w.before();
    let res = mallory.end_other_sessions(&w.proxy).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["ended"], 0);
    w.unchanged("end-others by another user", before).await;
    // Without a session at all.
    let before = w.before();
    let res = Browser::new()
        .end_session(&w.proxy, &victim_handle, &csrf)
        .await;
    w.refused("no session", res, 401, "unauthenticated", before)
        .await;
}

#[actix_web::test]
async fn the_session_list_and_the_event_stream_need_the_csrf_rules() {
    let mut w = World::new(false, &[]).await;
    let mut attacker = w.victim.copy();
    let table = [
        ("/auth/sessions", &[][..], 403, "csrf_header_required"),
        ("/auth/events", &[][..], 403, "csrf_header_required"),
        (
            "/auth/sessions",
            &[("x-csrf", "1"), ("origin", "https://evil.example")][..],
            403,
            "cross_site_request",
        ),
        (
            "/auth/events",
            &[("x-csrf", "1"), ("sec-fetch-site", "cross-site")][..],
            403,
            "cross_site_request",
        ),
    ];
    for (path, headers, status, code) in table {
        let before = w.before();
        let res = attacker.get_with(&w.proxy.url(path), headers).await;
        w.refused(path, res, status, code, before).await;
    }
    let before = w.before();
    let req = attacker.request(Method::POST, &w.proxy.url("/auth/sessions/end-others"));
    let res = attacker.send(req).await;
    w.refused(
        "end-others without the header",
        res,
        403,
        "csrf_header_required",
        before,
    )
    .await;
}

#[actix_web::test]
async fn the_admin_api_needs_its_token_and_its_own_listener() {
    let mut w = World::new(false, &[]).await;
    let admin = TestConfig::for_idp(&w.idp)
        .redis(&w.redis)
        .start_with_admin(ADMIN_TOKEN)
        .await;
    let end_all = format!("/admin/sessions?sub={}", idp::SUB);
    let wrong = format!("{ADMIN_TOKEN}x");
    let table: [(&str, Option<&str>, u16, &str); 4] = [
        ("no token", None, 401, "unauthorized"),
        ("a wrong token", Some(wrong.as_str()), 401, "unauthorized"),
        (
            "a prefix of the token",
            Some(&ADMIN_TOKEN[..31]),
            401,
            "unauthorized",
        ),
        ("an empty token", Some(""), 401, "unauthorized"),
    ];
    for (case, token, status, code) in table {
        let before = w.before();
        let res = admin.admin(Method::DELETE, &end_all, token).await;
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{case}");
        w.refused(case, res, status, code, before).await;
    }
    // Neither sub nor sid, or both: nothing is ended.
    for query in ["", "?sub=a&sid=b"] {
        let before = w.before();
        let res = admin
            .admin(
                Method::DELETE,
                &format!("/admin/sessions{query}"),
                Some(ADMIN_TOKEN),
            )
            .await;
        w.refused(query, res, 400, "bad_target", before).await;
    }
    // On the public listener the admin API does not exist, with the right token or without.
    for method in [Method::GET, Method::DELETE] {
        let before = w.before();
        let res = reqwest::Client::new()
            .request(method.clone(), admin.url(&end_all))
            .bearer_auth(ADMIN_TOKEN)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{method} on the public port");
        w.unchanged("admin API on the public port", before).await;
    }
    // An admin listener without a token: the admin API is off.
    let before = w.before();
    let proxy = TestConfig::for_idp(&w.idp)
        .redis(&w.redis)
        .start_with_admin_off()
        .await;
    let res = proxy
        .admin(Method::DELETE, &end_all, Some(ADMIN_TOKEN))
        .await;
    w.refused("admin API off", res, 404, "admin_api_disabled", before)
        .await;
}

#[actix_web::test]
async fn an_unknown_devices_handle_ends_nothing_for_another_user() {
    let mut w = World::new(false, &[]).await;
    // The victim's registry entry does not open (damaged): listed as an unknown device, with a
    // handle derived from its store key.
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    let session_key = vestibule::store::storage_key("s", &namespace, &w.victim_id());
    let entry_key = vestibule::store::storage_key("m", &namespace, &session_key);
    w.redis.garble_registry_entry(&session_key);
    let list = w.victim.sessions(&w.proxy).await;
    assert_eq!(list[0]["device"], "unknown");
    let handle = list[0]["handle"].as_str().unwrap().to_owned();
    let mut mallory = Browser::new();
    let res = mallory
        .log_in(&w.proxy, &w.idp, Tweak::Sub("mallory"), "/")
        .await;
    assert_eq!(res.status(), 302);
    let csrf = [("x-csrf", "1")];
    let table: [(&str, String); 3] = [
        ("another user's unknown-device handle", handle),
        ("the unknown session's store key", session_key.clone()),
        ("its entry's store key", entry_key),
    ];
    for (case, handle) in table {
        let before = w.before();
        let res = mallory.end_session(&w.proxy, &handle, &csrf).await;
        w.refused(case, res, 404, "session_not_found", before).await;
    }
    let before = w.before();
    let res = mallory.end_other_sessions(&w.proxy).await;
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["ended"], 0);
    w.unchanged("end-others beside an unknown device", before)
        .await;
}

#[actix_web::test]
async fn the_admin_api_reveals_nothing_without_its_exact_token() {
    let mut w = World::new(false, &[]).await;
    let admin = TestConfig::for_idp(&w.idp)
        .redis(&w.redis)
        .start_with_admin(ADMIN_TOKEN)
        .await;
    let base = admin.admin_base.clone().expect("admin listener");
    let by_sub = format!("/admin/sessions?sub={}", idp::SUB);
    let endpoints = [
        (Method::GET, by_sub.as_str()),
        (Method::GET, "/admin/sessions/count"),
        (Method::DELETE, by_sub.as_str()),
    ];
    let t = ADMIN_TOKEN;
    let n = t.len();
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("no Authorization", None),
        (
            "another token",
            Some("Bearer admin-token-fedcba9876543210fedcba9876".into()),
        ),
        ("Basic scheme", Some(format!("Basic {t}"))),
        ("Token scheme", Some(format!("Token {t}"))),
        ("no scheme", Some(t.into())),
        ("the scheme alone", Some("Bearer".into())),
        ("two spaces", Some(format!("Bearer  {t}"))),
        (
            "a prefix of the token",
            Some(format!("Bearer {}", &t[..n - 1])),
        ),
        ("a suffix of the token", Some(format!("Bearer {}", &t[1..]))),
        ("the token and more", Some(format!("Bearer {t}0"))),
        ("more and the token", Some(format!("Bearer 0{t}"))),
        (
            "the token in upper case",
            Some(format!("Bearer {}", t.to_uppercase())),
        ),
    ];
    for (method, path) in &endpoints {
        for (credential, header) in &credentials {
            let case = format!("{method} {path}: {credential}");
            let before = w.before();
            let mut req = reqwest::Client::new().request(method.clone(), format!("{base}{path}"));
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            let res = req.send().await.expect("admin request");
            assert_eq!(res.status(), 401, "{case}");
            assert_eq!(res.headers()["www-authenticate"], "Bearer", "{case}");
            assert_eq!(res.headers()["cache-control"], "no-store", "{case}");
            let body = res.text().await.expect("body");
            let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            let keys: Vec<&String> = json.as_object().expect("object").keys().collect();
            assert_eq!(keys, ["error", "error_description"], "{case}: {body}");
            assert_eq!(json["error"], "unauthorized", "{case}");
            for revealing in [&t[..12], idp::SUB, "live", "ended"] {
                assert!(!body.contains(revealing), "{case}: {revealing} in {body}");
            }
            w.unchanged(&case, before).await;
        }
    }
    // Controls: with the token, the same calls answer what the refused ones must not reveal
    // (the last one ends the bystander's session on purpose).
    for (method, path) in endpoints {
        let res = admin.admin(method.clone(), path, Some(ADMIN_TOKEN)).await;
        assert_eq!(res.status(), 200, "{method} {path}");
        let body = res.text().await.expect("body");
        assert!(
            body.contains(idp::SUB) || body.contains("live") || body.contains("ended"),
            "{method} {path}: {body}"
        );
    }
    // The scheme is case-insensitive (RFC 9110 §11.1); the token is not (a row above).
    let res = reqwest::Client::new()
        .get(format!("{base}/admin/sessions/count"))
        .header("authorization", format!("bearer {t}"))
        .send()
        .await
        .expect("admin request");
    assert_eq!(res.status(), 200, "a lower-case scheme");
    assert_eq!(w.victim.session(&w.proxy).await.status(), 401);
}

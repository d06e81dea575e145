//! Back-channel logout tokens that must end nothing: forged, stale, for someone else, malformed,
//! replayed.

use std::time::Instant;

use serde_json::{Value, json};

use super::World;
use crate::common::idp::random;
use crate::common::*;

#[actix_web::test]
async fn bad_logout_tokens_are_refused_and_sessions_stay() {
    let mut w = World::new(false, &[]).await;
    let info = w.victim.session_info(&w.proxy).await;
    let sid = info["claims"]["sid"].as_str().expect("sid").to_owned();
    let idp = &w.idp;
    let valid = || idp.logout_claims(Some(&sid), Some("user-42"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = valid();
        f(&mut c);
        idp.logout_token(c, false)
    };
    let remove = |k: &'static str| {
        move |c: &mut Value| {
            c.as_object_mut().map(|o| o.remove(k));
        }
    };
    let valid_token = idp.logout_token(valid(), false);
    let parts: Vec<&str> = valid_token.split('.').collect();
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let none_header = b64(r#"{"alg":"none","typ":"logout+jwt"}"#);
    let hs_header = b64(r#"{"alg":"HS256","typ":"logout+jwt","kid":"k1"}"#);
    let mut tampered_claims = valid();
    tampered_claims["sub"] = json!("admin");
    let tampered_payload = b64(&tampered_claims.to_string());

    let table: Vec<(&str, String)> = vec![
        ("signed by an unknown key", idp.logout_token(valid(), true)),
        ("wrong aud", with(&|c| c["aud"] = json!("another-client"))),
        (
            "wrong iss",
            with(&|c| c["iss"] = json!("http://evil.example")),
        ),
        ("stale iat", with(&|c| c["iat"] = json!(now - 3600))),
        ("iat in the future", with(&|c| c["iat"] = json!(now + 3600))),
        ("no iat", with(&remove("iat"))),
        ("expired", with(&|c| c["exp"] = json!(now - 10))),
        ("not valid yet", with(&|c| c["nbf"] = json!(now + 3600))),
        ("missing events", with(&remove("events"))),
        (
            "wrong event",
            with(&|c| c["events"] = json!({ "http://schemas.openid.net/event/other": {} })),
        ),
        (
            "event not an object",
            with(&|c| {
                c["events"] = json!({ "http://schemas.openid.net/event/backchannel-logout": "x" })
            }),
        ),
        ("with nonce", with(&|c| c["nonce"] = json!("n"))),
        ("no jti", with(&remove("jti"))),
        (
            "empty sid, no sub",
            with(&|c| {
                c["sid"] = json!("");
                c.as_object_mut().map(|o| o.remove("sub"));
            }),
        ),
        (
            "neither sid nor sub",
            idp.logout_token(idp.logout_claims(None, None), false),
        ),
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "HS256 keyed with the public key",
            format!("{hs_header}.{}.{}", parts[1], parts[2]),
        ),
        (
            "payload swapped under a valid signature",
            format!("{}.{tampered_payload}.{}", parts[0], parts[2]),
        ),
        (
            "signature truncated",
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
        ),
        ("four segments", format!("{valid_token}.x")),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (case, token) in &table {
        let before = w.before();
        let res = w.proxy.backchannel_logout(logout_form(token), FORM).await;
        w.refused(case, res, 400, "invalid_request", before).await;
    }
    // Transport-level faults.
    let transport: Vec<(&str, String, &str)> = vec![
        ("no logout_token", String::new(), FORM),
        (
            "JSON body",
            json!({ "logout_token": valid_token }).to_string(),
            "application/json",
        ),
        (
            "doubled logout_token",
            format!("{}&{}", logout_form(&valid_token), logout_form("x")),
            FORM,
        ),
    ];
    for (case, body, ct) in &transport {
        let before = w.before();
        let res = w.proxy.backchannel_logout(body.clone(), ct).await;
        // Each reads as no token at all: the form is unreadable or has none.
        let page = w.refused(case, res, 400, "invalid_request", before).await;
        assert!(page.contains("missing logout_token"), "{case}: {page}");
    }
    // A replayed token: the first use works (the bystander's session ends), the replay is refused.
    let res = w
        .proxy
        .backchannel_logout(logout_form(&valid_token), FORM)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.victim.session(&w.proxy).await.status(), 401);
    w.victim = w.sign_in().await;
    let before = w.before();
    let res = w
        .proxy
        .backchannel_logout(logout_form(&valid_token), FORM)
        .await;
    w.refused("replayed jti", res, 400, "invalid_request", before)
        .await;
}

#[actix_web::test]
async fn logout_tokens_with_unknown_key_ids_refetch_the_jwks_at_most_once_per_interval() {
    // The endpoint needs no credentials: were every unknown `kid` a JWKS fetch, anyone could
    // make Vestibule hammer the IdP.
    let mut w = World::new(false, &[]).await;
    let jwks_before = w.idp.calls(&w.idp.state.jwks_calls);
    let started = Instant::now();
    for i in 0..30 {
        let claims = w.idp.logout_claims(None, Some("user-42"));
        let kid = random("kid");
        let token = w.idp.logout_token_with_kid(claims, &kid, true);
        let before = w.before();
        let res = w.proxy.backchannel_logout(logout_form(&token), FORM).await;
        w.refused(
            &format!("unknown kid #{i}"),
            res,
            400,
            "invalid_request",
            before,
        )
        .await;
    }
    let refetches = w.idp.calls(&w.idp.state.jwks_calls) - jwks_before;
    // One refetch per 10 s (`JWKS_REFETCH_MIN_INTERVAL`), should this machine be that slow.
    let allowed = 1 + started.elapsed().as_secs() / 10;
    assert!(refetches >= 1, "an unknown kid does refetch the JWKS");
    assert!(
        refetches as u64 <= allowed,
        "{refetches} JWKS fetches for 30 unknown kids (at most {allowed})"
    );
}

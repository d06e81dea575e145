//! Rules per route (`allow`): claims shaped to slip past a rule, claims a rule fails on, and
//! spellings of a path. Every row signs in a user whose ID token (or userinfo answer) carries
//! the row's claims, makes one call, and must get 403 `forbidden` (or 400 for a path refused
//! before any rule), with nothing forwarded, no session created or ended, the process serving.
//! A rule that fails (a missing claim, a claim of another type) refuses: the metric tells those
//! apart (`outcome="error"`), and the table counts them. The controls show the same calls, made
//! by users the rules do allow, get through.

use serde_json::{Value, json};

use super::World;
use super::raw_http::raw_response;
use crate::common::idp;
use crate::common::*;

/// The rules under attack, each on its own route beside the world's `/api`.
fn routes(api: &Upstream) -> Vec<TestRoute> {
    vec![
        api.route("/api/admin", "user")
            .set("allow", r#""admins" in groups"#),
        api.route("/api/verified", "user")
            .set("allow", "claims.email_verified"),
        api.route("/api/mfa", "user")
            .set("allow", "claims.mfa_enrolled"),
        api.route("/api/gold", "user")
            .set("allow", r#"claims.org.tier == "gold""#),
        // On the canonical path: every spelling of `/api/reports/admin` meets the same rule.
        api.route("/api/reports", "user").set(
            "allow",
            r#"!request.path.startsWith("/api/reports/admin") || "admins" in groups"#,
        ),
    ]
}

/// A world on Redis with the rules' routes, `oidc` keys set as given.
async fn world(oidc: &[(&str, &str)]) -> World {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let redis = RedisServer::start();
    let mut config = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("user"));
    for r in routes(&api) {
        config = config.route(r);
    }
    for (k, v) in oidc {
        config = config.set(&format!("oidc.{k}"), Raw(v));
    }
    let proxy = config.start().await;
    World::signed_in(idp, api, redis, proxy, "vestibule").await
}

/// Refused by a rule (`deny`), or refused because the rule failed (`error`), or let through.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    Deny,
    Error,
    Allow,
}

/// One GET, sent raw (a client would normalise some paths first), with `b`'s session.
fn get(w: &World, b: &Browser, path: &str) -> (u16, String) {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\nX-CSRF: 1\r\n\
         Sec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n",
        b.session_cookie()
    );
    raw_response(&w.proxy, request.as_bytes())
}

impl World {
    /// A new user (a `sub` of their own: one user's sessions are capped) whose ID token carries
    /// `claims`, and userinfo `info` when the IdP is asked.
    async fn user_with(&self, claims: &Value, info: &Value) -> Browser {
        let sub: &'static str = Box::leak(idp::random("rules-user").into_boxed_str());
        self.idp.set_claims(claims.clone());
        let mut info = info.clone();
        info["sub"] = json!(sub);
        self.idp.set_userinfo_claims(info);
        let mut b = Browser::new();
        let res = b.log_in(&self.proxy, &self.idp, Tweak::Sub(sub), "/").await;
        assert_eq!(
            res.status(),
            302,
            "sign-in completes with {claims}: {}",
            res.text().await.unwrap_or_default()
        );
        b
    }

    /// Runs `rows`: each signs a user in with its claims and calls its path.
    async fn rule_rows(&mut self, rows: &[(&str, Value, Value, &str, Expect)]) {
        for (case, claims, info, path, expect) in rows {
            let b = self.user_with(claims, info).await;
            let before = self.before();
            let (status, body) = get(self, &b, path);
            if *expect == Expect::Allow {
                assert_eq!(status, 200, "control {case}: {body}");
                assert_eq!(self.api.hit_count(), before.hits + 1, "control {case}");
                continue;
            }
            assert_eq!(status, 403, "{case}: {body}");
            assert!(body.contains(r#""error":"forbidden""#), "{case}: {body}");
            self.unchanged(case, before).await;
        }
    }

    /// `vestibule_rule_decisions_total` of `route` for `outcome`.
    async fn decisions(&self, route: &str, outcome: &str) -> u64 {
        let (_, metrics) = self.proxy.metrics().await;
        let line =
            format!(r#"vestibule_rule_decisions_total{{outcome="{outcome}",route="{route}"}} "#);
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The metric counted each row's outcome on its route.
    async fn counted(&self, rows: &[(&str, Value, Value, &str, Expect)]) {
        for route in [
            "/api/admin",
            "/api/verified",
            "/api/mfa",
            "/api/gold",
            "/api/reports",
        ] {
            for (expect, outcome) in [(Expect::Deny, "deny"), (Expect::Error, "error")] {
                let n = rows
                    .iter()
                    .filter(|(_, _, _, path, e)| *e == expect && path.starts_with(route))
                    .count() as u64;
                assert_eq!(self.decisions(route, outcome).await, n, "{route} {outcome}");
            }
        }
    }
}

fn groups(v: Value) -> Value {
    json!({ "groups": v })
}

#[actix_web::test]
async fn claims_shaped_to_slip_past_a_rule_are_refused() {
    use Expect::*;
    let mut w = world(&[]).await;
    let none = json!({});
    let many: Vec<String> = (0..5000).map(|i| format!("group-{i}")).collect();
    let mut many_with_admins = many.clone();
    many_with_admins.push("admins".into());
    let admin = "/api/admin/x";
    let rows: Vec<(&str, Value, Value, &str, Expect)> = vec![
        (
            "admins only in other claims",
            json!({"groups": ["users"], "roles": ["admins"], "group": "admins", "admins": true,
                   "name": "admins", "realm_access": {"roles": ["admins"]}}),
            none.clone(),
            admin,
            Deny,
        ),
        ("no groups claim", json!({}), none.clone(), admin, Deny),
        (
            "groups: null",
            groups(json!(null)),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: comma-joined string",
            groups(json!("admins,users")),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: space-joined string",
            groups(json!("users admins")),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: a number",
            groups(json!(7)),
            none.clone(),
            admin,
            Error,
        ),
        (
            "groups: an object",
            groups(json!({"admins": true})),
            none.clone(),
            admin,
            Error,
        ),
        (
            "groups: a nested list",
            groups(json!([["admins"]])),
            none.clone(),
            admin,
            Error,
        ),
        (
            "groups: a number among them",
            groups(json!([1, "admins"])),
            none.clone(),
            admin,
            Error,
        ),
        (
            "groups: Admins",
            groups(json!(["Admins"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: Cyrillic а",
            groups(json!(["\u{430}dmins"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: zero-width space",
            groups(json!(["admins\u{200b}"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: trailing space",
            groups(json!(["admins "])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: fullwidth",
            groups(json!(["ａｄｍｉｎｓ"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: a prefix",
            groups(json!(["admin"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: a wildcard",
            groups(json!(["*"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: empty name",
            groups(json!([""])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: 5000 others",
            groups(json!(many)),
            none.clone(),
            admin,
            Deny,
        ),
        // (A standard claim of the wrong type, `email_verified: "true"`, fails the ID token's
        // validation at sign-in; userinfo's are the other world's rows.)
        (
            "email_verified missing",
            json!({}),
            none.clone(),
            "/api/verified/x",
            Error,
        ),
        (
            "mfa_enrolled missing",
            json!({}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "mfa_enrolled: \"true\"",
            json!({"mfa_enrolled": "true"}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "mfa_enrolled: 1",
            json!({"mfa_enrolled": 1}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "mfa_enrolled: null",
            json!({"mfa_enrolled": null}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "mfa_enrolled: [true]",
            json!({"mfa_enrolled": [true]}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "mfa_enrolled: {}",
            json!({"mfa_enrolled": {}}),
            none.clone(),
            "/api/mfa/x",
            Error,
        ),
        (
            "org missing (nested path absent)",
            json!({}),
            none.clone(),
            "/api/gold/x",
            Error,
        ),
        (
            "org: a string",
            json!({"org": "gold"}),
            none.clone(),
            "/api/gold/x",
            Error,
        ),
        (
            "org: no tier",
            json!({"org": {}}),
            none.clone(),
            "/api/gold/x",
            Error,
        ),
        (
            "org.tier: a number",
            json!({"org": {"tier": 3}}),
            none.clone(),
            "/api/gold/x",
            Deny,
        ),
        // Controls.
        (
            "admins",
            groups(json!(["users", "admins"])),
            none.clone(),
            admin,
            Allow,
        ),
        (
            "admins as one string",
            groups(json!("admins")),
            none.clone(),
            admin,
            Allow,
        ),
        (
            "admins last of 5001",
            groups(json!(many_with_admins)),
            none.clone(),
            admin,
            Allow,
        ),
        (
            "email_verified: true",
            json!({"email_verified": true}),
            none.clone(),
            "/api/verified/x",
            Allow,
        ),
        (
            "mfa_enrolled: true",
            json!({"mfa_enrolled": true}),
            none.clone(),
            "/api/mfa/x",
            Allow,
        ),
        (
            "org.tier: gold",
            json!({"org": {"tier": "gold"}}),
            none.clone(),
            "/api/gold/x",
            Allow,
        ),
    ];
    w.rule_rows(&rows).await;
    w.counted(&rows).await;
}

#[actix_web::test]
async fn every_spelling_of_a_path_meets_the_rule_alike() {
    let mut w = world(&[]).await;
    let user = w.user_with(&groups(json!(["users"])), &json!({})).await;
    let admin = w.user_with(&groups(json!(["admins"])), &json!({})).await;
    // (path, what a non-admin gets): the route's rule, or 400 before any rule.
    let table: &[(&str, u16)] = &[
        ("/api/admin", 403),
        ("/api//admin", 400),
        ("/api/./admin", 400),
        ("/api/%61dmin", 403),
        ("/API/admin", 403),
        ("/api/ADMIN/x", 403),
        ("/api/admin/", 403),
        ("/api/admin%2Fx", 400),
        // The rule reads `request.path`: its canonical reading, whatever the spelling.
        ("/api/reports/admin/x", 403),
        ("/api/reports/ADMIN/x", 403),
        ("/API/Reports/Admin/x", 403),
        ("/api/reports/%61dmin/x", 403),
        ("/api/reports/admin/", 403),
        ("/api/reports//admin/x", 400),
        ("/api/reports/x/../admin/x", 400),
    ];
    for (path, status) in table {
        let before = w.before();
        let (got, body) = get(&w, &user, path);
        assert_eq!(got, *status, "{path}: {body}");
        let code = if *status == 403 {
            "forbidden"
        } else {
            "bad_request"
        };
        assert!(body.contains(code), "{path}: {body}");
        w.unchanged(path, before).await;
    }
    // Controls: the admin gets through on every accepted spelling; the user elsewhere.
    for path in [
        "/api/admin",
        "/api/%61dmin",
        "/API/admin",
        "/api/admin/",
        "/API/Reports/Admin/x",
    ] {
        let hits = w.api.hit_count();
        let (got, body) = get(&w, &admin, path);
        assert_eq!(
            (got, w.api.hit_count()),
            (200, hits + 1),
            "control {path}: {body}"
        );
    }
    let hits = w.api.hit_count();
    let (got, body) = get(&w, &user, "/api/reports/x");
    assert_eq!((got, w.api.hit_count()), (200, hits + 1), "control: {body}");
}

#[actix_web::test]
async fn a_nested_groups_claim_is_only_where_the_path_says() {
    use Expect::*;
    let mut w = world(&[("groups_claim", r#""realm_access.roles""#)]).await;
    let none = json!({});
    let admin = "/api/admin/x";
    let rows: Vec<(&str, Value, Value, &str, Expect)> = vec![
        ("realm_access missing", json!({}), none.clone(), admin, Deny),
        (
            "realm_access: {}",
            json!({"realm_access": {}}),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "realm_access: a string",
            json!({"realm_access": "admins"}),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "roles: an object",
            json!({"realm_access": {"roles": {"admins": 1}}}),
            none.clone(),
            admin,
            Error,
        ),
        (
            "a top-level claim named realm_access.roles",
            json!({"realm_access.roles": ["admins"]}),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "groups: [admins]",
            groups(json!(["admins"])),
            none.clone(),
            admin,
            Deny,
        ),
        (
            "resource_access roles",
            json!({"resource_access": {"app": {"roles": ["admins"]}}}),
            none.clone(),
            admin,
            Deny,
        ),
        // Control.
        (
            "realm_access.roles: [admins]",
            json!({"realm_access": {"roles": ["admins"]}}),
            none.clone(),
            admin,
            Allow,
        ),
    ];
    w.rule_rows(&rows).await;
    w.counted(&rows).await;
}

#[actix_web::test]
async fn userinfo_never_overrides_the_id_tokens_groups() {
    use Expect::*;
    let mut w = world(&[("userinfo", "true")]).await;
    let admin = "/api/admin/x";
    let info = json!({"groups": ["admins"]});
    let rows: Vec<(&str, Value, Value, &str, Expect)> = vec![
        (
            "ID token [users], userinfo [admins]",
            groups(json!(["users"])),
            info.clone(),
            admin,
            Deny,
        ),
        (
            "ID token [], userinfo [admins]",
            groups(json!([])),
            info.clone(),
            admin,
            Deny,
        ),
        (
            "ID token null, userinfo [admins]",
            groups(json!(null)),
            info.clone(),
            admin,
            Deny,
        ),
        (
            "ID token \"users\", userinfo [admins]",
            groups(json!("users")),
            info.clone(),
            admin,
            Deny,
        ),
        // Userinfo is not type-checked as the ID token is: its wrong types fail the rule.
        (
            "userinfo email_verified: \"true\"",
            json!({}),
            json!({"email_verified": "true"}),
            "/api/verified/x",
            Error,
        ),
        (
            "userinfo email_verified: 1",
            json!({}),
            json!({"email_verified": 1}),
            "/api/verified/x",
            Error,
        ),
        (
            "userinfo groups: a number",
            json!({}),
            json!({"groups": 7}),
            admin,
            Error,
        ),
        // Control: an ID token without the claim takes it from userinfo (documented).
        (
            "no ID token groups, userinfo [admins]",
            json!({}),
            info.clone(),
            admin,
            Allow,
        ),
    ];
    w.rule_rows(&rows).await;
    w.counted(&rows).await;
}

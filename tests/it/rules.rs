//! Rules per route (`allow`, CEL over the user's claims and the request): who gets through,
//! the 403 and what it names, the metric, the decision log, and what `check-config` refuses.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::*;

const ADMIN_RULE: &str = r#""admins" in groups && claims.email_verified"#;

/// `/api` for every signed-in user, `/api/admin` for the admins group.
async fn admin_world(extra: impl FnOnce(TestConfig) -> TestConfig) -> (TestIdp, Upstream, Proxy) {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.route("/api", "user"))
        .route(api.route("/api/admin", "user").set("allow", ADMIN_RULE));
    let proxy = extra(config).start().await;
    (idp, api, proxy)
}

/// A browser signed in as `sub`, whose ID token carries `claims` too.
async fn signed_in_with(proxy: &Proxy, idp: &TestIdp, sub: &'static str, claims: Value) -> Browser {
    idp.set_claims(claims);
    let mut b = Browser::new();
    assert_eq!(
        b.log_in(proxy, idp, Tweak::Sub(sub), "/").await.status(),
        302
    );
    b
}

/// A 403 from a rule: its body names the route, and nothing reached the upstream.
async fn assert_refused(res: reqwest::Response, rule: &str, api: &Upstream, hits: usize) {
    assert_eq!(res.status(), 403);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "forbidden", "{body}");
    assert_eq!(body["rule"], rule, "{body}");
    assert_eq!(api.hit_count(), hits, "nothing forwarded");
}

#[actix_web::test]
async fn an_admin_route_lets_the_admins_group_through_and_refuses_others_with_403() {
    let (idp, api, proxy) = admin_world(|c| c).await;
    let mut admin = signed_in_with(
        &proxy,
        &idp,
        "admin-1",
        json!({"groups": ["users", "admins"], "email_verified": true}),
    )
    .await;
    let mut user = signed_in_with(
        &proxy,
        &idp,
        "user-2",
        json!({"groups": ["users"], "email_verified": true}),
    )
    .await;
    let seen = admin.api_seen(&proxy, "/api/admin/users", &[]).await;
    assert_eq!(seen["path"], "/api/admin/users");
    for method in [
        reqwest::Method::GET,
        reqwest::Method::POST,
        reqwest::Method::DELETE,
    ] {
        let hits = api.hit_count();
        let req = user
            .request(method.clone(), &proxy.url("/api/admin/users"))
            .header("x-csrf", "1");
        let res = user.send(req).await;
        assert_refused(res, "/api/admin", &api, hits).await;
    }
    // The user's other routes are untouched.
    assert_eq!(user.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    // Signed out: 401 as ever, before any rule.
    let hits = api.hit_count();
    let res = Browser::new()
        .api_get(&proxy, "/api/admin/users", &[])
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(api.hit_count(), hits);

    let (_, metrics) = proxy.metrics().await;
    for line in [
        r#"vestibule_rule_decisions_total{outcome="allow",route="/api/admin"} 1"#,
        r#"vestibule_rule_decisions_total{outcome="deny",route="/api/admin"} 3"#,
        r#"vestibule_rule_decisions_total{outcome="error",route="/api/admin"} 0"#,
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
}

#[actix_web::test]
async fn a_websocket_upgrade_meets_the_rule_too() {
    let (idp, api, proxy) = admin_world(|c| c).await;
    let user = signed_in_with(&proxy, &idp, "user-2", json!({"groups": ["users"]})).await;
    let hits = api.hit_count();
    let mut req = proxy
        .url("/api/admin/ws")
        .replace("http://", "ws://")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("cookie", user.session_cookie().parse().expect("header"));
    req.headers_mut()
        .insert("origin", proxy.base.parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("refused, got {:?}", other.map(|_| ())),
    }
    assert_eq!(
        api.hit_count(),
        hits,
        "the upstream's WebSocket never reached"
    );
}

#[actix_web::test]
async fn a_keycloak_style_nested_roles_claim_is_what_groups_means() {
    let (idp, api, proxy) = admin_world(|c| c.set("oidc.groups_claim", "realm_access.roles")).await;
    let mut admin = signed_in_with(
        &proxy,
        &idp,
        "admin-1",
        json!({"realm_access": {"roles": ["admins"]}, "email_verified": true}),
    )
    .await;
    assert_eq!(
        admin.api_get(&proxy, "/api/admin/x", &[]).await.status(),
        200
    );
    // A top-level `groups` claim is not where this IdP's groups are.
    let mut other = signed_in_with(
        &proxy,
        &idp,
        "user-2",
        json!({"realm_access": {"roles": ["users"]}, "groups": ["admins"], "email_verified": true}),
    )
    .await;
    let hits = api.hit_count();
    let res = other.api_get(&proxy, "/api/admin/x", &[]).await;
    assert_refused(res, "/api/admin", &api, hits).await;
}

#[actix_web::test]
async fn a_rule_on_a_route_without_the_users_token_still_needs_a_user_it_allows() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/hr", "none").set(
            "allow",
            r#"claims.email.endsWith("@example.test") && request.method == "GET""#,
        ))
        .start()
        .await;
    let hits = api.hit_count();
    let res = Browser::new().api_get(&proxy, "/hr/x", &[]).await;
    assert_eq!(res.status(), 401, "anonymous: the rule has no one to judge");
    assert_eq!(api.hit_count(), hits);
    let mut staff = signed_in_with(&proxy, &idp, "staff-1", json!({})).await;
    let seen = staff.api_seen(&proxy, "/hr/x", &[]).await;
    assert!(
        seen["headers"].get("authorization").is_none(),
        "token = \"none\" sends no token: {seen}"
    );
    let hits = api.hit_count();
    let req = staff
        .request(reqwest::Method::POST, &proxy.url("/hr/x"))
        .header("x-csrf", "1");
    assert_refused(staff.send(req).await, "/hr", &api, hits).await;
    let mut outsider =
        signed_in_with(&proxy, &idp, "ext-1", json!({"email": "eve@evil.example"})).await;
    let res = outsider.api_get(&proxy, "/hr/x", &[]).await;
    assert_refused(res, "/hr", &api, hits).await;
}

#[actix_web::test]
async fn the_decision_log_has_one_json_line_per_decision_and_no_claim_value() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.route("/api/admin", "user").set("allow", ADMIN_RULE))
        .set("telemetry.decision_log", true);
    // Even with the ordinary log at `warn`: an audit trail is not a level of detail.
    let bin = Binary::spawn(config, &[("RUST_LOG", "warn")]);
    let proxy = bin.ready().await;
    let secret_group = "grp-7f3a-payroll-admins";
    let mut admin = signed_in_with(
        &proxy,
        &idp,
        "admin-1",
        json!({"groups": ["admins", secret_group], "email_verified": true, "email": "x7@corp.test"}),
    )
    .await;
    let mut user = signed_in_with(
        &proxy,
        &idp,
        "user-2",
        json!({"groups": [secret_group], "email_verified": true, "email": "y8@corp.test"}),
    )
    .await;
    assert_eq!(
        admin.api_get(&proxy, "/api/admin/x", &[]).await.status(),
        200
    );
    assert_eq!(
        user.api_get(&proxy, "/api/admin/x", &[]).await.status(),
        403
    );
    let decisions = || -> Vec<Value> {
        bin.logs()
            .lines()
            .filter(|l| l.contains("vestibule::decision"))
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    eventually("two decision lines", Duration::from_secs(5), async || {
        decisions().len() >= 2
    })
    .await;
    let lines = decisions();
    assert_eq!(lines.len(), 2, "one line per decision: {lines:?}");
    let expected = [("admin-1", "allow"), ("user-2", "deny")];
    for (line, (sub, outcome)) in lines.iter().zip(expected) {
        assert_eq!(line["target"], "vestibule::decision", "{line}");
        assert_eq!(line["route"], "/api/admin", "{line}");
        assert_eq!(line["sub"], sub, "{line}");
        assert_eq!(line["outcome"], outcome, "{line}");
        assert!(line["latency_us"].as_u64().is_some(), "{line}");
    }
    let logs = bin.logs();
    for value in [
        secret_group,
        "x7@corp.test",
        "y8@corp.test",
        "email_verified",
    ] {
        assert!(!logs.contains(value), "{value} in the logs:\n{logs}");
    }
    for token in idp.state.issued.lock().expect("issued").iter() {
        assert!(!logs.contains(token.as_str()), "a token in the logs");
    }
}

/// `check-config` on the admin world's config with `allow` (and more) set; the exit code and
/// what it printed.
fn check(allow: &str, extra: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut route = TestRoute::new("/api/admin", "http://127.0.0.1:9", "user").set("allow", allow);
    for (k, v) in extra {
        route = route.set(k, Raw(v));
    }
    let config = TestConfig::new("http://127.0.0.1:9").route(route);
    binary::command(&["check-config"], &config.toml(), &[])
}

#[test]
fn check_config_refuses_a_rule_that_does_not_parse_and_names_the_route_and_the_position() {
    let (code, out) = check(r#""admins" in groups &&"#, &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("routes.allow"), "{out}");
    assert!(
        out.contains(r#"route "/api/admin": line 1, column "#),
        "{out}"
    );
    let (code, out) = check("groups.exists(g, g == \"a\"", &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(r#"route "/api/admin": line 1, column "#),
        "{out}"
    );
    let (code, out) = check(ADMIN_RULE, &[]);
    assert_eq!(code, Some(0), "a good rule passes: {out}");
}

#[test]
fn check_config_refuses_unknown_variables_fields_and_functions_by_name() {
    let rows = [
        (
            r#""admins" in group"#,
            "line 1, column 13: unknown variable `group`",
        ),
        (
            "claim.email_verified",
            "line 1, column 1: unknown variable `claim`",
        ),
        (r#"request.url == "/""#, "unknown field `request.url`"),
        ("session.amr == 1", "unknown field `session.amr`"),
        ("now() > 0", "unknown function `now`"),
        (
            r#"claims.email.lowerAscii() == "a""#,
            "unknown function `lowerAscii`",
        ),
        ("groups.all(g, g == other)", "unknown variable `other`"),
    ];
    for (allow, what) in rows {
        let (code, out) = check(allow, &[]);
        assert_eq!(code, Some(2), "{allow}: {out}");
        assert!(out.contains(r#"route "/api/admin""#), "{allow}: {out}");
        assert!(out.contains(what), "{allow}: {what}: {out}");
    }
}

#[test]
fn check_config_refuses_a_rule_on_a_route_that_serves_anonymous_callers_and_a_bad_groups_claim() {
    for token in ["optional", "user_or_client"] {
        let (code, out) = check(ADMIN_RULE, &[("token", &format!("\"{token}\""))]);
        assert_eq!(code, Some(2), "{token}: {out}");
        assert!(out.contains("a rule needs a signed-in user"), "{out}");
    }
    let config =
        TestConfig::new("http://127.0.0.1:9").set("oidc.groups_claim", "realm_access..roles");
    let (code, out) = binary::command(&["check-config"], &config.toml(), &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("groups_claim"), "{out}");
}

use super::*;

fn config(allow: &str) -> Config {
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"a-secret-of-16-chars\"\n\
         groups_claim = \"realm_access.roles\"\n\
         [[routes]]\nprefix = \"/api/admin\"\nupstream = \"http://127.0.0.1:9200\"\nallow = '{allow}'\n"
    );
    Config::from_toml_str(&toml, "test.toml").expect("valid")
}

fn session(claims: serde_json::Value) -> Session {
    serde_json::from_value(serde_json::json!({
        "sub": "user-1", "sid": null, "claims": claims, "id_token": "", "access_token": "",
        "refresh_token": null, "access_expires_at": null, "created_at": 0, "logout_token": "",
    }))
    .expect("a session")
}

#[test]
fn every_spelling_of_a_path_reaches_the_rule_alike() {
    let c = config(r#"request.path.startsWith("/api/admin/users")"#);
    let rule = RouteRule::for_route(&c.routes[0], &c)
        .expect("compiles")
        .expect("a rule");
    let s = session(serde_json::json!({}));
    for path in [
        "/api/admin/users",
        "/API/Admin/users/",
        "/api/%61dmin/users/7",
    ] {
        assert_eq!(
            rule.decide("/api/admin", &s, "GET", path),
            Outcome::Allow,
            "{path}"
        );
    }
    assert_eq!(
        rule.decide("/api/admin", &s, "GET", "/api/admin/x"),
        Outcome::Deny
    );
}

#[test]
fn groups_come_from_the_configured_claim_path() {
    let c = config(r#""admins" in groups"#);
    let rule = RouteRule::for_route(&c.routes[0], &c)
        .expect("compiles")
        .expect("a rule");
    let admin = session(serde_json::json!({"realm_access": {"roles": ["admins"]}}));
    let other = session(serde_json::json!({"groups": ["admins"]}));
    let broken = session(serde_json::json!({"realm_access": {"roles": 7}}));
    assert_eq!(
        rule.decide("/api/admin", &admin, "GET", "/api/admin"),
        Outcome::Allow
    );
    assert_eq!(
        rule.decide("/api/admin", &other, "GET", "/api/admin"),
        Outcome::Deny
    );
    assert_eq!(
        rule.decide("/api/admin", &broken, "GET", "/api/admin"),
        Outcome::Error("undeclared_reference")
    );
}

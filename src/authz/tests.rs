use serde_json::json;

use super::*;

fn claims(v: serde_json::Value) -> RuleClaims {
    let serde_json::Value::Object(map) = v else {
        panic!("an object")
    };
    RuleClaims::new(&map, &ClaimPath::default())
}

fn eval(rule: &str, c: &RuleClaims) -> Result<bool, RuleError> {
    let input = RuleInput {
        claims: c,
        method: "GET",
        path: "/api/admin/x",
    };
    Rule::compile(rule).expect("compiles").allows(&input)
}

#[test]
fn a_typical_rule_reads_groups_and_claims() {
    let admin = claims(json!({"groups": ["users", "admins"], "email_verified": true}));
    let user = claims(json!({"groups": ["users"], "email_verified": true}));
    let rule = r#""admins" in groups && claims.email_verified"#;
    assert_eq!(eval(rule, &admin), Ok(true));
    assert_eq!(eval(rule, &user), Ok(false));
    let macro_rule = r#"claims.groups.exists(g, g == "admins")"#;
    assert_eq!(eval(macro_rule, &admin), Ok(true));
    assert_eq!(eval(macro_rule, &user), Ok(false));
}

#[test]
fn the_request_and_the_session_are_there() {
    let c = claims(json!({"acr": "mfa", "auth_time": 1_700_000_000}));
    assert_eq!(eval(r#"request.method == "GET""#, &c), Ok(true));
    assert_eq!(
        eval(r#"request.path.startsWith("/api/admin")"#, &c),
        Ok(true)
    );
    assert_eq!(eval(r#"request["path"] == "/api/admin/x""#, &c), Ok(true));
    assert_eq!(eval(r#"session.acr == "mfa""#, &c), Ok(true));
    assert_eq!(eval("session.auth_time > 1600000000", &c), Ok(true));
    let none = claims(json!({}));
    assert_eq!(eval("session.acr == null", &none), Ok(true));
}

#[test]
fn a_rule_that_fails_gives_no_answer() {
    let c = claims(json!({"groups": "admins", "email_verified": "true", "level": 3}));
    assert_eq!(
        eval(r#""admins" in groups"#, &c),
        Ok(true),
        "one string, one group"
    );
    assert!(
        eval("claims.email_verified", &c).is_err(),
        "a string is no bool"
    );
    assert!(eval("claims.missing == 1", &c).is_err(), "a missing claim");
    assert!(
        eval("!(claims.missing == 1)", &c).is_err(),
        "negated, still no answer"
    );
    assert!(eval("claims.level", &c).is_err(), "not a bool");
    assert!(
        eval(r#"claims.level > "2""#, &c).is_err(),
        "int against string"
    );
    let numeric = claims(json!({"groups": 7}));
    assert!(eval(r#""admins" in groups"#, &numeric).is_err());
    let mixed = claims(json!({"groups": [1, "admins"]}));
    assert!(eval(r#""admins" in groups"#, &mixed).is_err());
    let absent = claims(json!({}));
    assert_eq!(eval(r#""admins" in groups"#, &absent), Ok(false));
}

#[test]
fn a_nested_groups_claim_is_found_by_its_path() {
    let path = ClaimPath::parse("realm_access.roles").expect("path");
    let v = json!({"realm_access": {"roles": ["admins"]}, "realm_access.roles": ["x"]});
    let c = RuleClaims::new(v.as_object().expect("object"), &path);
    assert_eq!(eval(r#""admins" in groups"#, &c), Ok(true));
    assert_eq!(eval(r#""x" in groups"#, &c), Ok(false));
    let dotted = ClaimPath::parse(r"https://example\.com/roles").expect("path");
    let v = json!({"https://example.com/roles": ["admins"]});
    let c = RuleClaims::new(v.as_object().expect("object"), &dotted);
    assert_eq!(eval(r#""admins" in groups"#, &c), Ok(true));
    assert_eq!(dotted.to_string(), r"https://example\.com/roles");
    for bad in ["", ".", "a..b", "a.", ".a"] {
        assert_eq!(ClaimPath::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn unknown_names_are_refused_with_their_position() {
    let cases = [
        ("claim.email", "unknown variable `claim`", (1, 1)),
        (
            r#""a" in groups && reqest.path == "/""#,
            "unknown variable `reqest`",
            (1, 18),
        ),
        (
            "request.pth == \"/\"",
            "unknown field `request.pth`",
            (1, 8),
        ),
        ("session.amr == 1", "unknown field `session.amr`", (1, 8)),
        ("sizeof(groups) > 0", "unknown function `sizeof`", (1, 7)),
        // A regular expression would be compiled on every call: not offered.
        (
            r#"claims.email.matches("^[a-z]+@example[.]com$")"#,
            "unknown function `matches`",
            (1, 21),
        ),
        ("true &&\n  now > 1", "unknown variable `now`", (2, 3)),
        ("groups.all(g, x == g)", "unknown variable `x`", (1, 15)),
    ];
    for (rule, what, (line, column)) in cases {
        let e = Rule::compile(rule).expect_err(rule);
        let text = e.to_string();
        assert!(text.contains(what), "{rule}: {text}");
        assert!(
            text.starts_with(&format!("line {line}, column {column}:")),
            "{rule}: {text}"
        );
    }
    let e = Rule::compile(r#""admins" in groups &&"#).expect_err("syntax");
    assert!(matches!(e, CompileError::Syntax { line: 1, .. }), "{e}");
    // Macro variables shadow, and are known only inside their macro.
    assert!(Rule::compile("groups.exists(request, request == \"x\")").is_ok());
    assert!(Rule::compile("claims.groups.filter(g, g.startsWith(\"a\")).size() > 0").is_ok());
}

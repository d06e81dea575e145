//! Bench-only: what a route's `allow` rule costs per call. Times a million evaluations of a
//! typical rule on a typical ID token's claims, and the whole decision the proxy makes per call
//! (the path's canonical reading, the evaluation, the metric), and what preparing a session's
//! claims costs (once per loaded session). Prints nanoseconds per operation.
//!
//!   cargo run --release --example rule_bench

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use serde_json::json;
use vestibule::authz::{ClaimPath, Rule, RuleClaims, RuleInput};
use vestibule::config::Config;
use vestibule::proxy::RouteRule;
use vestibule::session::Session;

const RULE: &str = r#""admins" in groups && claims.email_verified"#;
const N: u32 = 1_000_000;

/// An ID token's claims as IdPs send them: the standard ones, a profile, ten groups.
fn claims() -> serde_json::Value {
    json!({
        "iss": "https://idp.example.com/realms/acme", "sub": "5f0c2a4e-8b1d-4c6e-9a3f-2b7d1e0c9a8b",
        "aud": "vestibule", "exp": 1_900_000_300, "iat": 1_900_000_000, "auth_time": 1_900_000_000,
        "nonce": "n-0S6_WzA2Mj", "sid": "c1d2e3f4", "acr": "1", "azp": "vestibule",
        "name": "Ada Lovelace", "email": "ada@example.com", "email_verified": true,
        "preferred_username": "ada", "given_name": "Ada", "family_name": "Lovelace",
        "groups": ["staff", "engineering", "on-call", "reviewers", "london", "payments-read",
                   "payments-write", "admins", "beta", "mentors"],
    })
}

fn per_op(label: &str, n: u32, mut op: impl FnMut() -> bool) -> Result<(), String> {
    for _ in 0..n / 10 {
        black_box(op());
    }
    let start = Instant::now();
    for _ in 0..n {
        if !black_box(op()) {
            return Err(format!("{label}: the rule said no"));
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("{label:<48} {ns:>8.0} ns/op  ({n} runs)");
    Ok(())
}

fn run() -> Result<(), String> {
    let claims = claims();
    let map = claims.as_object().ok_or("claims are an object")?;
    let rule = Rule::compile(RULE).map_err(|e| e.to_string())?;
    let prepared = RuleClaims::new(map, &ClaimPath::default());
    let input = RuleInput {
        claims: &prepared,
        method: "GET",
        path: "/api/admin/users",
    };
    println!("rule: {RULE}");
    per_op("Rule::allows (claims prepared)", N, || {
        rule.allows(&input) == Ok(true)
    })?;
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\n\
         client_secret = \"a-secret-of-16-chars\"\n\
         [[routes]]\nprefix = \"/api/admin\"\nupstream = \"http://127.0.0.1:9200\"\nallow = '{RULE}'\n"
    );
    let config = Config::from_toml_str(&toml, "bench.toml").map_err(|e| e.to_string())?;
    let route_rule = RouteRule::for_route(&config.routes[0], &config)
        .map_err(|e| e.to_string())?
        .ok_or("a rule")?;
    let session: Session = serde_json::from_value(json!({
        "sub": "5f0c2a4e", "sid": null, "claims": claims, "id_token": "", "access_token": "",
        "refresh_token": null, "access_expires_at": null, "created_at": 0, "logout_token": "",
    }))
    .map_err(|e| e.to_string())?;
    per_op("RouteRule::decide (the proxy's whole decision)", N, || {
        route_rule
            .decide("/api/admin", &session, "GET", "/api/admin/users")
            .allows()
    })?;
    per_op("RuleClaims::new (once per loaded session)", N / 10, || {
        black_box(RuleClaims::new(map, &ClaimPath::default()));
        true
    })?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rule_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

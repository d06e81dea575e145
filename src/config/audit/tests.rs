use super::*;

fn config(extra: &str) -> Config {
    config_at("https://app.example.com", extra)
}

/// `extra` is TOML appended after `[oidc]`'s keys (so it may add keys there, then sections).
fn config_at(public_url: &str, extra: &str) -> Config {
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"{public_url}\"\n\
         [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\n{extra}"
    );
    Config::from_toml_str(&toml, "test").expect("valid config")
}

fn outcome(report: &Report, check: &str) -> (Outcome, &'static str) {
    let c = report
        .checks
        .iter()
        .find(|c| c.check == check)
        .unwrap_or_else(|| panic!("no check {check} in\n{report}"));
    (c.outcome.clone(), c.cites)
}

#[test]
fn a_default_https_config_is_flagged_for_lax_cookies_and_a_shared_secret_only() {
    let report = audit(&config("client_secret = \"test-client-secret-0123\"\n"));
    let found: Vec<_> = report
        .findings()
        .map(|c| (c.check, c.outcome.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("cookie-same-site", Outcome::Finding(Severity::Medium)),
            ("client-auth", Outcome::Finding(Severity::Low)),
        ],
        "{report}"
    );
    assert_eq!(
        outcome(&report, "session-lifetime").0,
        Outcome::NotChecked,
        "unknown refresh token lifetime is not a finding"
    );
    assert_eq!(outcome(&report, "cookie-same-site").1, "RFC 10017 §6.1.3.2");
    assert!(
        report
            .to_string()
            .ends_with("2 finding(s): 0 high, 1 medium, 1 low")
    );
}

#[test]
fn a_hardened_config_is_clean() {
    let key = format!(
        "{}/tests/fixtures/client-ec.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let report = audit(&config(&format!(
        "client_auth = \"private_key_jwt\"\nprivate_key_file = \"{key}\"\n\
         private_key_alg = \"ES256\"\nrefresh_token_lifetime = \"24h\"\n\
         [session]\nsame_site = \"strict\"\ncookie_prefix = \"__Host-Http-\"\n\
         absolute_timeout = \"12h\"\n\
         [[routes]]\nprefix = \"/api\"\nupstream = \"https://api.internal\"\n\
         [[routes]]\nprefix = \"/local\"\nupstream = \"http://127.0.0.1:9000\"\n"
    )));
    assert!(report.is_clean(), "{report}");
    assert!(
        report.checks.iter().all(|c| c.outcome == Outcome::Passed),
        "{report}"
    );
}

#[test]
fn plain_http_off_loopback_anywhere_is_a_high_finding_citing_its_rfc() {
    let toml = "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://app.example.com\"\n\
         allow_insecure_http = true\ncsrf_header = \"Content-Type\"\n\
         [oidc]\nissuer = \"http://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n\
         [oidc.endpoints]\ntoken = \"http://login.example.com/token\"\n\
         [[routes]]\nprefix = \"/api\"\nupstream = \"http://api.internal\"\n\
         [[routes]]\nprefix = \"/any\"\nupstream = \"http://0.0.0.0:9000\"\n";
    let report = audit(&Config::from_toml_str(toml, "test").expect("valid config"));
    for (check, cites) in [
        ("cookie-prefix", "RFC 10017 §6.1.3.2"),
        ("csrf-header", "RFC 10017 §6.1.3.3"),
        ("upstream-transport", "RFC 6750 §5.3"),
        ("idp-transport", "RFC 6749 §3.1, §3.2"),
        ("insecure-http", "RFC 6749 §3.1, §3.2"),
    ] {
        assert_eq!(
            outcome(&report, check),
            (Outcome::Finding(Severity::High), cites),
            "{report}"
        );
    }
    let text = report.to_string();
    assert!(
        text.contains("/api → http://api.internal/ carries bearer tokens"),
        "{text}"
    );
    assert!(
        text.contains("/any → http://0.0.0.0:9000/ is not an explicit host"),
        "{text}"
    );
}

#[test]
fn loopback_http_is_only_a_low_finding() {
    let report = audit(&config_at(
        "http://127.0.0.1:8080",
        "client_secret = \"test-client-secret-0123\"\n",
    ));
    assert_eq!(
        outcome(&report, "cookie-prefix").0,
        Outcome::Finding(Severity::Low),
        "{report}"
    );
}

#[test]
fn a_session_outliving_the_refresh_token_is_a_finding() {
    let report = audit(&config(
        "client_secret = \"test-client-secret-0123\"\nrefresh_token_lifetime = \"8h\"\n\
         [session]\nabsolute_timeout = \"12h\"\n",
    ));
    assert_eq!(
        outcome(&report, "session-lifetime"),
        (Outcome::Finding(Severity::Medium), "RFC 9700 §4.14.2"),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("(12h) outlives the IdP's refresh tokens (8h)")
    );
}

//! The `vestibule` binary: config checking, environment overrides, and logs that never contain
//! a token, a code, a cookie value or the client secret (even at `trace`).

use std::process::Command;
use std::time::Duration;

use crate::common::binary::{self, BIN};
use crate::common::*;

fn check_config(toml: &str, env: &[(&str, &str)]) -> (i32, String) {
    let (code, out) = binary::command(&["check-config"], toml, env);
    (code.unwrap_or(-1), out)
}

/// A valid config for checking (nothing is started).
fn valid() -> TestConfig {
    TestConfig::new("http://127.0.0.2:9100")
}

/// The documented example configs in `config/`.
const EXAMPLES: [&str; 7] = [
    "apps.toml",
    "development.toml",
    "production.toml",
    "github.toml",
    "sentinel.toml",
    "cluster.toml",
    "routes.toml",
];

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/config/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("example config")
}

#[test]
fn the_example_configs_are_valid() {
    for name in EXAMPLES {
        // The production example takes its secret from the environment, as documented; its SPA
        // directory (/srv/spa) exists only in the container, so point it at the demo SPA.
        let env = [
            ("VESTIBULE_OIDC__CLIENT_SECRET", "from-env-0123456789"),
            ("VESTIBULE_SESSION__ENCRYPTION_KEY", config::ENCRYPTION_KEY),
            ("VESTIBULE_SPA__DIR", "demo/spa"),
        ];
        let toml = crate::common::apps::with_secret_files(&example(name));
        let env = crate::common::apps::env_for(&toml, &env);
        let (code, out) = check_config(&toml, &env);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("configuration is valid"));
    }
}

/// The config embedded in deploy/kubernetes/configmap.yaml is valid too.
#[test]
fn the_kubernetes_configmap_config_is_valid() {
    let yaml = std::fs::read_to_string(format!(
        "{}/deploy/kubernetes/configmap.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("configmap");
    let toml: String = yaml
        .lines()
        .skip_while(|l| !l.contains("vestibule.toml: |"))
        .skip(1)
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    assert!(toml.contains("[server]"), "{toml}");
    let (code, out) = check_config(
        &toml,
        &[
            ("VESTIBULE_OIDC__CLIENT_SECRET", "from-secret-0123456789"),
            ("VESTIBULE_SESSION__ENCRYPTION_KEY", config::ENCRYPTION_KEY),
        ],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn an_unknown_key_exits_2_naming_the_file_and_the_key() {
    let cfg = valid().set("session.idle_timout", "5m");
    let (code, out) = check_config(&cfg.toml(), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("session.idle_timout") && out.contains(".toml"),
        "{out}"
    );
}

#[test]
fn bad_values_are_named() {
    for (broken, key) in [
        (valid().set("oidc.issuer", "::not a url::"), "oidc.issuer"),
        (valid().set("server.listen", "nowhere"), "server.listen"),
        (
            valid().set("session.idle_timeout", "forever"),
            "session.idle_timeout",
        ),
        (valid().set("session.store", "redis"), "session.redis_url"),
        (valid().set("session.store", "mongo"), "session.store"),
        (
            valid().set("oidc.post_logout_path", "https://evil.example/"),
            "oidc.post_logout_path",
        ),
    ] {
        let (code, out) = check_config(&broken.toml(), &[]);
        assert_eq!(code, 2, "{key}: {out}");
        assert!(out.contains(key), "{key}: {out}");
    }
}

#[test]
fn a_short_admin_token_from_the_environment_stops_start_up() {
    let short = "admin-token-from-env-0123456789"; // 31 characters
    let (code, out) = check_config(&valid().toml(), &[("VESTIBULE_SERVER__ADMIN_TOKEN", short)]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("admin_token") && out.contains("32"), "{out}");
    assert!(!out.contains(short), "the token is not echoed: {out}");
    let long = format!("{short}x");
    let (code, out) = check_config(&valid().toml(), &[("VESTIBULE_SERVER__ADMIN_TOKEN", &long)]);
    assert_eq!(code, 0, "32 characters: {out}");
}

#[test]
fn environment_overrides_the_file() {
    let cfg = valid().toml();
    let without_secret = valid().unset("oidc.client_secret").toml();
    let (code, out) = check_config(&without_secret, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("client_secret"), "{out}");
    let (code, out) = check_config(
        &without_secret,
        &[("VESTIBULE_OIDC__CLIENT_SECRET", "from-env-0123456789")],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = check_config(&cfg, &[("VESTIBULE_SESSION__IDLE_TIMEOUT", "soon")]);
    assert_eq!(code, 2);
    assert!(
        out.contains("VESTIBULE_SESSION__IDLE_TIMEOUT") || out.contains("session.idle_timeout"),
        "{out}"
    );
}

#[test]
fn a_key_missing_from_the_file_is_blamed_on_the_file_not_on_a_variable_of_its_section() {
    let without_client_id = valid().unset("oidc.client_id").toml();
    let env = [("VESTIBULE_OIDC__CLIENT_SECRET", "from-env-0123456789")];
    let (code, out) = check_config(&without_client_id, &env);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("missing field `client_id`"), "{out}");
    assert!(!out.contains("environment variable"), "{out}");
    assert!(
        out.contains(".toml: key `oidc`"),
        "the file is named: {out}"
    );
}

#[test]
fn a_secret_from_the_environment_is_taken_verbatim_whatever_it_looks_like() {
    let without_secret = valid().unset("oidc.client_secret").toml();
    // Each was once parsed as a TOML value: a number, a float, an array (all refused as not a
    // string), and a quoted string that lost its quotes (then 15 characters: too short).
    for secret in [
        "12345678901234567890",
        "1234567.890123456",
        "[1, 2, 3, 4, 5, 6, 7]",
        "\"0123456789abcde\"",
    ] {
        let (code, out) = check_config(
            &without_secret,
            &[("VESTIBULE_OIDC__CLIENT_SECRET", secret)],
        );
        assert_eq!(code, 0, "{secret}: {out}");
        assert!(!out.contains(secret), "the secret is not echoed: {out}");
    }
    let token = "1234567.8901234567890123456789012"; // 33 characters, once a float
    let (code, out) = check_config(&valid().toml(), &[("VESTIBULE_SERVER__ADMIN_TOKEN", token)]);
    assert_eq!(code, 0, "the admin token: {out}");
}

#[test]
fn a_missing_config_is_a_clear_error() {
    let out = Command::new(BIN)
        .env_remove("VESTIBULE_CONFIG")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    let out = Command::new(BIN)
        .args(["--config", "/nonexistent.toml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.toml"));
}

/// What one run of the binary left behind: its log (at `trace`), every span it exported, and
/// every secret it was given or handled, named.
struct Leftovers {
    logs: String,
    spans: String,
    secrets: Vec<(String, String)>,
}

/// A run of the binary with every secret-bearing feature on: Redis with a password (TLS, ACL
/// user; the password in the URL or, with `private_key_jwt`, in its own key), OTLP export with an `Authorization` header, PAR, a session store encryption key, the
/// admin API; the client authenticates with `client_secret_basic` (text log lines) or, when
/// `private_key_jwt`, with a signed assertion (key inline, as from `VESTIBULE_OIDC__PRIVATE_KEY`;
/// JSON log lines, whose escaping a secret must not slip through either). It logs in, calls
/// an API (a refresh), lists sessions, reads the event stream, uses the admin API, takes a
/// back-channel logout for a second session, and logs out (a revocation).
async fn a_run_with_every_secret(private_key_jwt: bool) -> Leftovers {
    const ADMIN_TOKEN: &str = "admin-token-for-the-log-test-0123456789";
    const OTLP_TOKEN: &str = "otlp-api-key-for-the-log-test-7f3a9c";
    let client_auth = if private_key_jwt {
        idp::ClientAuthCheck::PrivateKeyJwt {
            public_key: "client-rsa.pub.pem",
            alg: jsonwebtoken::Algorithm::RS256,
        }
    } else {
        idp::ClientAuthCheck::Secret
    };
    let idp = TestIdp::start_quirky(idp::Quirks {
        par: true,
        client_auth,
        ..idp::Quirks::default()
    })
    .await;
    // The login's access token is expired at once, so the API call below refreshes it too.
    idp.state
        .login_expires_in
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let api = Upstream::start().await;
    let tls = TestTls::new();
    let redis = RedisServer::start_tls(&tls);
    let collector = Collector::start().await;
    let admin_port = binary::free_port();
    let private_key = std::fs::read_to_string(format!(
        "{}/tests/fixtures/client-rsa.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let mut config = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .redis_tls(&redis, &tls)
        .set("oidc.par", "required")
        .set("server.admin_listen", format!("127.0.0.1:{admin_port}"))
        .set("telemetry.otlp.endpoint", collector.url())
        .set("telemetry.otlp.export_interval", "100ms")
        .set(
            "telemetry.otlp.headers",
            Raw(&format!(r#"{{ authorization = "Bearer {OTLP_TOKEN}" }}"#)),
        );
    let mut env = vec![
        ("RUST_LOG", "trace"),
        ("VESTIBULE_SERVER__ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    if !private_key_jwt {
        // The other way to give Redis its credentials: inside the URL.
        let url = format!(
            "rediss://{}:{}@localhost:{}",
            redis::ACL_USER,
            redis::ACL_PASSWORD,
            redis.port
        );
        config = config
            .set("session.redis.url", url)
            .unset("session.redis.username")
            .unset("session.redis.password");
    }
    if private_key_jwt {
        config = config
            .unset("oidc.client_secret")
            .set("oidc.client_auth", "private_key_jwt")
            .set("oidc.private_key_alg", "RS256")
            .set("oidc.private_key_id", "vestibule-1")
            .set("telemetry.format", "json");
        env.push(("VESTIBULE_OIDC__PRIVATE_KEY", private_key.as_str()));
    }
    // Stopped by SIGTERM at the end, to read every line; no need to wait out a load balancer.
    let config = config.set("server.shutdown_delay", "0s");
    let mut bin = Binary::spawn(config, &env);
    let proxy = bin.ready().await;

    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    assert!(
        start
            .location
            .query()
            .unwrap_or_default()
            .contains("request_uri="),
        "the login was pushed (PAR)"
    );
    let code = start.code(&idp, Tweak::None);
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    let api_call = b.api_get(&proxy, "/api/x", &[]).await;
    assert_eq!(api_call.status(), 200);
    assert_eq!(
        idp.state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the API call refreshed"
    );
    let logout_url = b.logout_url(&proxy).await;
    let logout_token = logout_url
        .split("token=")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    // The session list, the event stream and the admin API are logged without secrets too.
    assert_eq!(b.sessions(&proxy).await.len(), 1);
    drop(b.events(&proxy).await);
    let admin = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{admin_port}/admin/sessions?sub={}",
            idp::SUB
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin API");
    assert_eq!(admin.status(), 200);
    // A second session, ended by the IdP over the back channel.
    let mut other = Browser::new();
    assert_eq!(
        other.log_in(&proxy, &idp, Tweak::None, "/").await.status(),
        302
    );
    let sid = other.session_info(&proxy).await["claims"]["sid"]
        .as_str()
        .expect("sid claim")
        .to_owned();
    let backchannel_token = idp.logout_token(idp.logout_claims(Some(&sid), Some(idp::SUB)), false);
    let res = proxy
        .backchannel_logout(logout_form(&backchannel_token), FORM)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(other.session(&proxy).await.status(), 401);
    assert_eq!(b.get(&proxy.url(&logout_url)).await.status(), 302);
    assert_eq!(idp.state.revoked.lock().expect("revoked").len(), 1);

    let path_seen = |spans: &[collector::ReceivedSpan], p: &str| {
        spans.iter().any(|s| s.attr("url.path") == Some(p))
    };
    let spans = collector
        .wait_until(
            |s| {
                path_seen(s, "/auth/logout")
                    && path_seen(s, "/auth/backchannel-logout")
                    && s.iter().filter(|s| s.name == "idp.token").count() >= 3
            },
            Duration::from_secs(20),
        )
        .await;
    assert!(
        collector
            .headers()
            .iter()
            .any(|h| h == &format!("authorization: Bearer {OTLP_TOKEN}")),
        "the exports carried the configured header"
    );
    let spans: String = spans.iter().map(|s| s.all_text()).collect();
    bin.stop();
    let logs = bin.logs();
    assert!(
        logs.contains("login callback")
            && logs.contains("token refresh")
            && logs.contains("admin action")
            && logs.contains("list_sessions")
            && logs.contains("back-channel logout")
            && logs.contains("TRACE"),
        "the logs are there, at trace: {logs}"
    );

    let named = secrets::named;
    let mut secrets = secrets::of_login(&code, &start);
    secrets.extend([
        named("the logout URL's token", &logout_token),
        named("the back-channel logout token", &backchannel_token),
        named("the admin token", ADMIN_TOKEN),
        named("the OTLP header's token", OTLP_TOKEN),
        named("the Redis password", redis::ACL_PASSWORD),
        named("the encryption key", config::ENCRYPTION_KEY),
    ]);
    let key_bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        config::ENCRYPTION_KEY,
    )
    .expect("base64 key");
    secrets.push(named(
        "the encryption key's bytes",
        &String::from_utf8(key_bytes).expect("the test key is text"),
    ));
    if private_key_jwt {
        secrets.push(named("the private key", &private_key));
        // A log could hold one line of it.
        for line in private_key.lines().filter(|l| !l.starts_with("-----")) {
            secrets.push(named("a line of the private key", line));
        }
        assert!(
            !idp.state.assertions.lock().expect("assertions").is_empty(),
            "the client authenticated with assertions"
        );
    } else {
        secrets.extend(secrets::of_client_secret());
    }
    secrets.extend(secrets::handled_by(&idp));
    secrets.extend(secrets::cookies_of(&b));
    secrets.extend(secrets::cookies_of(&other));
    assert!(
        idp.state.received_secrets.lock().expect("received").len() >= 2,
        "the verifiers (and assertions) are among the secrets"
    );
    Leftovers {
        logs,
        spans,
        secrets,
    }
}

#[actix_web::test]
async fn trace_logs_and_spans_hold_no_secret_in_any_form_with_client_secret_basic() {
    let run = a_run_with_every_secret(false).await;
    secrets::assert_none_in("the log", &run.logs, &run.secrets);
    secrets::assert_none_in("the spans", &run.spans, &run.secrets);
}

#[actix_web::test]
async fn trace_logs_and_spans_hold_no_secret_in_any_form_with_private_key_jwt() {
    let run = a_run_with_every_secret(true).await;
    secrets::assert_none_in("the log", &run.logs, &run.secrets);
    secrets::assert_none_in("the spans", &run.spans, &run.secrets);
}

#[actix_web::test]
async fn refused_logins_refreshes_and_logouts_log_no_secret_in_any_form() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .set("server.shutdown_delay", "0s");
    let mut bin = Binary::spawn(config, &[("RUST_LOG", "trace")]);
    let proxy = bin.ready().await;
    let named = secrets::named;
    let mut secrets = secrets::of_client_secret();

    // ID tokens refused for each reason an error message might quote a value from.
    for tweak in [
        Tweak::WrongNonce,
        Tweak::WrongAud,
        Tweak::Expired,
        Tweak::TamperedSignature,
        Tweak::AlgNone,
        Tweak::UnknownKid,
    ] {
        let mut b = Browser::new();
        let start = b.start_login(&proxy, "/").await;
        let code = start.code(&idp, tweak);
        let res = b.call_back(&proxy, &code, &start.state).await;
        assert!(res.status().is_client_error(), "{}", res.status());
        secrets.extend([
            named("a refused login's code", &code),
            named("a refused login's state", &start.state),
            named("a refused login's nonce", &start.nonce),
        ]);
        secrets.extend(
            b.cookies
                .values()
                .map(|v| named("a refused login's cookie", v)),
        );
    }
    // A code used twice: the second exchange is refused by the IdP.
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    let again = b.start_login(&proxy, "/").await;
    assert!(
        b.call_back(&proxy, &code, &again.state)
            .await
            .status()
            .is_client_error()
    );
    secrets.extend([
        named("the reused code", &code),
        named("the state", &again.state),
    ]);
    // A refresh the IdP refuses (the session ends), after a login whose token is expired.
    idp.state
        .login_expires_in
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let mut refused = Browser::new();
    assert_eq!(
        refused
            .log_in(&proxy, &idp, Tweak::None, "/")
            .await
            .status(),
        302
    );
    idp.state
        .refuse_refresh
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(refused.api_get(&proxy, "/api/x", &[]).await.status(), 401);
    // Logouts refused: a wrong logout-URL token, a forged and a replayed back-channel token.
    let logout_url = b.logout_url(&proxy).await;
    let wrong = format!("{}x", logout_url.split("token=").nth(1).unwrap_or_default());
    assert_eq!(
        b.get(&proxy.url(&format!("/auth/logout?token={wrong}")))
            .await
            .status(),
        403
    );
    let forged = idp.logout_token(idp.logout_claims(None, Some(idp::SUB)), true);
    let res = proxy.backchannel_logout(logout_form(&forged), FORM).await;
    assert_eq!(res.status(), 400);
    let good = idp.logout_token(idp.logout_claims(None, Some(idp::SUB)), false);
    for expected in [200, 400] {
        let res = proxy.backchannel_logout(logout_form(&good), FORM).await;
        assert_eq!(res.status(), expected);
    }
    secrets.extend([
        named("the wrong logout-URL token", &wrong),
        named("the forged logout token", &forged),
        named("the replayed logout token", &good),
    ]);
    secrets.extend(secrets::cookies_of(&b));
    secrets.extend(secrets::cookies_of(&refused));
    secrets.extend(secrets::handled_by(&idp));

    bin.stop();
    let logs = bin.logs();
    assert!(
        logs.contains("login callback")
            && logs.contains("token refresh")
            && logs.contains("back-channel logout refused"),
        "the refusals are logged: {logs}"
    );
    secrets::assert_none_in("the log", &logs, &secrets);
}

/// What Kubernetes injects into every pod of a namespace that has a Service named `vestibule`.
const SERVICE_LINKS: &[(&str, &str)] = &[
    ("VESTIBULE_PORT", "tcp://10.96.0.12:8080"),
    ("VESTIBULE_PORT_8080_TCP", "tcp://10.96.0.12:8080"),
    ("VESTIBULE_PORT_8080_TCP_ADDR", "10.96.0.12"),
    ("VESTIBULE_PORT_8080_TCP_PORT", "8080"),
    ("VESTIBULE_PORT_8080_TCP_PROTO", "tcp"),
    ("VESTIBULE_SERVICE_HOST", "10.96.0.12"),
    ("VESTIBULE_SERVICE_PORT", "8080"),
    ("VESTIBULE_SERVICE_PORT_HTTP", "8080"),
];

#[actix_web::test]
async fn kubernetes_service_link_variables_do_not_stop_start_up() {
    let (code, out) = check_config(&valid().toml(), SERVICE_LINKS);
    assert_eq!(code, 0, "{out}");

    let idp = TestIdp::start().await;
    let mut env = SERVICE_LINKS.to_vec();
    env.push(("RUST_LOG", "vestibule=debug"));
    let bin = Binary::spawn(TestConfig::for_idp(&idp), &env);
    let proxy = bin.ready().await;
    assert_eq!(proxy.healthz().await, 200);
    let logs = bin
        .logs_when("the ignored variables", |l| {
            SERVICE_LINKS.iter().all(|(name, _)| l.contains(name))
        })
        .await;
    for (name, _) in SERVICE_LINKS {
        assert!(
            logs.lines()
                .any(|l| l.contains(name) && l.contains("ignored")),
            "{name} is logged as ignored: {logs}"
        );
    }
    assert!(!logs.contains("10.96.0.12"), "values are never logged");
}

#[test]
fn a_misspelt_config_variable_is_still_an_error_naming_it() {
    let (code, out) = check_config(
        &valid().toml(),
        &[("VESTIBULE_OIDC__CLIENT_SECRT", "s3cret")],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("VESTIBULE_OIDC__CLIENT_SECRT"), "{out}");
    assert!(out.contains("unknown field"), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
}

#[test]
fn a_private_key_can_come_from_the_environment() {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/fixtures/client-ec.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let config = valid()
        .unset("oidc.client_secret")
        .set("oidc.client_auth", "private_key_jwt")
        .set("oidc.private_key_alg", "ES256");
    let (code, out) = check_config(
        &config.toml(),
        &[("VESTIBULE_OIDC__PRIVATE_KEY", pem.as_str())],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("PRIVATE KEY"),
        "the key is never printed: {out}"
    );
}

#[test]
fn the_audit_exits_1_listing_each_finding_with_its_severity_and_section() {
    let (code, out) = binary::command(&["check-config", "--audit"], &valid().toml(), &[]);
    assert_eq!(code, Some(1), "{out}");
    let line = |check: &str| {
        out.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(check))
            .unwrap_or_else(|| panic!("no {check} line in\n{out}"))
            .to_owned()
    };
    assert!(line("cookie-same-site").starts_with("MEDIUM"), "{out}");
    assert!(
        line("cookie-same-site").contains("[RFC 10017 §6.1.3.2]"),
        "{out}"
    );
    assert!(line("client-auth").starts_with("LOW"), "{out}");
    assert!(line("csrf-header").starts_with("ok"), "{out}");
    assert!(line("session-lifetime").starts_with("skipped"), "{out}");
    assert!(out.trim_end().ends_with("0 high, 1 medium, 2 low"), "{out}");
    assert!(
        !out.contains(idp::CLIENT_SECRET),
        "the secret is never printed: {out}"
    );
}

#[test]
fn the_audit_of_a_hardened_config_exits_0() {
    let pem = format!(
        "{}/tests/fixtures/client-ec.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let config = valid()
        .set("server.public_url", "https://app.example.com")
        .set("session.same_site", "strict")
        .set("session.cookie_prefix", "__Host-Http-")
        .unset("oidc.client_secret")
        .set("oidc.client_auth", "private_key_jwt")
        .set("oidc.private_key_alg", "ES256")
        .set("oidc.private_key_file", pem.as_str())
        .set("oidc.refresh_token_lifetime", "1d");
    let (code, out) = binary::command(&["check-config", "--audit"], &config.toml(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 finding(s)"), "{out}");
    // Without --audit the same weak config still just checks validity.
    assert_eq!(check_config(&valid().toml(), &[]).0, 0);
}

#[test]
fn the_production_example_audits_as_the_manual_shows() {
    let env = [
        ("VESTIBULE_OIDC__CLIENT_SECRET", "from-env-0123456789"),
        ("VESTIBULE_SESSION__ENCRYPTION_KEY", config::ENCRYPTION_KEY),
        ("VESTIBULE_SPA__DIR", "demo/spa"),
    ];
    let (code, out) = binary::command(
        &["check-config", "--audit"],
        &example("production.toml"),
        &env,
    );
    assert_eq!(code, Some(1), "{out}");
    let findings: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("HIGH") || l.starts_with("MEDIUM") || l.starts_with("LOW"))
        .collect();
    assert_eq!(findings.len(), 1, "{out}");
    assert!(findings[0].starts_with("LOW      client-auth"), "{out}");
    // Every check's line, passed or not, stands in the manual's sample as the binary prints it.
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    for line in out
        .lines()
        .filter(|l| l.starts_with("ok ") || findings.contains(l))
    {
        assert!(
            page.contains(line),
            "docs/configuration.md's audit sample lacks: {line}"
        );
    }
}

/// The JSON Schema `vestibule config-schema` prints.
fn config_schema() -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("config-schema")
        .env_remove("VESTIBULE_CONFIG")
        .output()
        .expect("run vestibule");
    assert!(out.status.success(), "config-schema needs no config file");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_config_schema_accepts_every_example_and_flags_mistakes_as_the_loader_does() {
    let schema = config_schema();
    assert_eq!(schema["title"], "Vestibule configuration (vestibule.toml)");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let as_json = |toml_text: &str| -> serde_json::Value {
        let value: toml::Value = toml::from_str(toml_text).expect("TOML");
        serde_json::to_value(value).expect("JSON")
    };
    for name in EXAMPLES {
        let doc = as_json(&example(name));
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    // What check-config refuses, the schema flags too (an editor shows it while typing).
    let base = valid().toml();
    for (broken, why) in [
        (
            valid().set("session.idel_timeout", "5m").toml(),
            "a misspelt key",
        ),
        (
            valid().set("session.store", "mongodb").toml(),
            "an unknown store",
        ),
        (
            valid()
                .route(TestRoute::new("/x", "http://127.0.0.1:9", "admin"))
                .toml(),
            "an unknown token kind",
        ),
        (
            format!("{base}[[routes]]\nprefix = \"/x\"\n"),
            "a route without upstream",
        ),
    ] {
        assert!(
            !validator.is_valid(&as_json(&broken)),
            "{why} passes the schema"
        );
        let (code, _) = check_config(&broken, &[]);
        assert_eq!(code, 2, "{why} is refused by check-config too");
    }
}

//! The `vestibule` binary: config checking, environment overrides, and logs that never contain
//! a token, a code, a cookie value or the client secret (even at `trace`).

mod common;

use std::process::{Command, Stdio};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_vestibule");

fn check_config(contents: &str, env: &[(&str, &str)]) -> (i32, String) {
    let path = temp_file("toml", contents);
    let mut cmd = Command::new(BIN);
    cmd.args(["check-config", "--config"])
        .arg(&path)
        .env_remove("VESTIBULE_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run vestibule");
    let _ = std::fs::remove_file(&path);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("{}/config/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("example config")
}

#[test]
fn example_configs_are_valid() {
    for name in ["development.toml", "production.toml"] {
        // The production example takes its secret from the environment, as documented; its SPA
        // directory (/srv/spa) exists only in the container, so point it at the demo SPA.
        let env = [
            ("VESTIBULE_OIDC__CLIENT_SECRET", "from-env"),
            ("VESTIBULE_SPA__DIR", "demo/spa"),
        ];
        let (code, out) = check_config(&example(name), &env);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("configuration is valid"));
    }
}

/// The config embedded in deploy/kubernetes/configmap.yaml is valid too.
#[test]
fn kubernetes_configmap_config_is_valid() {
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
    let (code, out) = check_config(&toml, &[("VESTIBULE_OIDC__CLIENT_SECRET", "from-secret")]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn unknown_key_exits_2_naming_file_and_key() {
    let cfg = config_toml(
        8080,
        "http://127.0.0.2:9100",
        &Store::Memory,
        "idle_timout = \"5m\"\n",
    );
    let (code, out) = check_config(&cfg, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("session.idle_timout") && out.contains(".toml"),
        "{out}"
    );
}

#[test]
fn bad_values_are_named() {
    let base = config_toml(8080, "http://127.0.0.2:9100", &Store::Memory, "");
    for (broken, key) in [
        (
            base.replace("http://127.0.0.2:9100", "::not a url::"),
            "oidc.issuer",
        ),
        (
            base.replace("listen = \"127.0.0.1:8080\"", "listen = \"nowhere\""),
            "server.listen",
        ),
        (
            format!("{base}idle_timeout = \"forever\"\n"),
            "session.idle_timeout",
        ),
        (
            base.replace("store = \"memory\"", "store = \"redis\""),
            "session.redis_url",
        ),
        (
            base.replace("store = \"memory\"", "store = \"mongo\""),
            "session.store",
        ),
        (
            base.replace(
                "scopes =",
                "post_logout_path = \"https://evil.example/\"\nscopes =",
            ),
            "oidc.post_logout_path",
        ),
    ] {
        let (code, out) = check_config(&broken, &[]);
        assert_eq!(code, 2, "{key}: {out}");
        assert!(out.contains(key), "{key}: {out}");
    }
}

#[test]
fn environment_overrides_the_file() {
    let cfg = config_toml(8080, "http://127.0.0.2:9100", &Store::Memory, "");
    let without_secret: String = cfg
        .lines()
        .filter(|l| !l.starts_with("client_secret"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (code, out) = check_config(&without_secret, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("client_secret"), "{out}");
    let (code, out) = check_config(
        &without_secret,
        &[("VESTIBULE_OIDC__CLIENT_SECRET", "s3cret")],
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
fn missing_config_is_a_clear_error() {
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

/// Kills the child when dropped, so a failing assertion leaves no process behind.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[actix_web::test]
async fn trace_logs_hold_no_secrets() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    // The login's access token is nearly expired, so the API call below refreshes it too.
    idp.state
        .login_expires_in
        .store(5, std::sync::atomic::Ordering::SeqCst);
    let routes = api.api_route("required");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let path = temp_file(
        "toml",
        &config_toml(port, &idp.state.issuer, &Store::Memory, &routes),
    );
    let log_path = std::env::temp_dir().join(format!(
        "vestibule-log-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let log = std::fs::File::create(&log_path).expect("log file");
    let child = Command::new(BIN)
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn vestibule");
    let mut child = Child(child);
    let proxy_base = format!("http://127.0.0.1:{port}");
    let proxy = Proxy::external(proxy_base);
    proxy.wait_ready().await;
    let mut b = Browser::new();
    let start = start_login(&mut b, &proxy, "/").await;
    let code = start.code(&idp, Tweak::None);
    let res = call_back(&mut b, &proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    let api_call = b.get_with(&proxy.url("/api/x"), &[("x-csrf", "1")]).await;
    assert_eq!(api_call.status(), 200);
    assert_eq!(
        idp.state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the API call refreshed"
    );
    let info: serde_json::Value = b.session(&proxy).await.json().await.expect("json");
    let logout_url = info["logout_url"].as_str().expect("logout_url").to_owned();
    let logout_token = logout_url
        .split("token=")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let cookies: Vec<String> = b.cookies.values().cloned().collect();
    assert_eq!(b.get(&proxy.url(&logout_url)).await.status(), 302);

    let _ = child.0.kill();
    let _ = child.0.wait();
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(&path);
    assert!(
        logs.contains("login callback") && logs.contains("token refresh"),
        "the logs are there: {logs}"
    );
    assert!(logs.lines().count() > 5);
    let mut secrets = idp.state.issued.lock().expect("issued").clone();
    secrets.extend([
        code,
        start.state,
        start.challenge,
        start.nonce,
        logout_token,
        idp::CLIENT_SECRET.to_owned(),
    ]);
    secrets.extend(cookies);
    for s in &secrets {
        assert!(s.len() > 8);
        assert!(
            !logs.contains(s.as_str()),
            "a secret ({}…) is in the logs",
            &s[..6]
        );
    }
}

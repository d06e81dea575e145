use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"
[oidc]
issuer = "http://127.0.0.2:9100"
client_id = "vestibule"
client_secret = "test-client-secret-0123"
"#;

/// A config file on disk, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("vestibule-cfg-{}.toml", uuid::Uuid::new_v4()));
        let mut f = std::fs::File::create(&path).expect("temp file");
        f.write_all(contents.as_bytes()).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn err_of(contents: &str) -> String {
    let f = TempFile::new(contents);
    match Config::load(&f.0) {
        Ok(_) => panic!("expected an error for {contents}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_minimal_config_gets_the_defaults() {
    let f = TempFile::new(MINIMAL);
    let c = Config::load(&f.0).expect("valid");
    assert_eq!(c.session.store, StoreKind::Memory);
    assert_eq!(c.session.idle_timeout, Duration::from_secs(1800));
    assert_eq!(c.server.auth_prefix, "/auth");
    assert_eq!(c.oidc.scopes, vec!["openid"]);
    assert!(!c.is_https());
    assert_eq!(c.origin(), "http://127.0.0.1:8080");
}

#[test]
fn an_unknown_key_names_the_file_and_the_key() {
    let msg = err_of(&format!("{MINIMAL}\n[session]\nidel_timeout = \"5m\"\n"));
    assert!(msg.contains("vestibule-cfg-"), "{msg}");
    assert!(msg.contains("session.idel_timeout"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn a_bad_duration_or_url_is_named() {
    let msg = err_of(&format!("{MINIMAL}\n[session]\nidle_timeout = \"soon\"\n"));
    assert!(msg.contains("session.idle_timeout"), "{msg}");
    let msg = err_of(&MINIMAL.replace("http://127.0.0.2:9100", "not a url"));
    assert!(msg.contains("oidc.issuer"), "{msg}");
}

#[test]
fn a_missing_required_key_is_named() {
    let msg = err_of(&MINIMAL.replace("client_id = \"vestibule\"\n", ""));
    assert!(msg.contains("client_id"), "{msg}");
    assert!(msg.contains("missing"), "{msg}");
}

/// A valid `session.encryption_key` (32 bytes, base64).
const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[test]
fn the_redis_store_needs_a_url() {
    let msg = err_of(&format!("{MINIMAL}\n[session]\nstore = \"redis\"\n"));
    assert!(msg.contains("session.redis_url"), "{msg}");
}

#[test]
fn a_public_url_with_a_path_is_refused() {
    let msg = err_of(&MINIMAL.replace(
        "public_url = \"http://127.0.0.1:8080\"",
        "public_url = \"http://127.0.0.1:8080/app\"",
    ));
    assert!(msg.contains("server.public_url"), "{msg}");
}

#[test]
fn plain_http_needs_loopback_or_explicit_opt_in() {
    let with = |public_url: &str, issuer: &str| {
        MINIMAL
            .replace("http://127.0.0.1:8080", public_url)
            .replace("http://127.0.0.2:9100", issuer)
    };
    for (public_url, issuer, loads) in [
        ("http://app.example.com", "http://127.0.0.2:9100", false),
        ("http://10.0.0.5:8080", "http://127.0.0.2:9100", false),
        ("http://127.0.0.1:8080", "http://login.example.com", false),
        (
            "http://localhost.evil.example",
            "http://127.0.0.2:9100",
            false,
        ),
        ("http://localhost:8080", "http://127.0.0.2:9100", true),
        ("http://app.localhost", "http://[::1]:9100", true),
        ("https://app.example.com", "https://login.example.com", true),
    ] {
        let toml = with(public_url, issuer);
        match Config::from_toml_str(&toml, "t") {
            Ok(_) => assert!(loads, "{public_url} {issuer} must be refused"),
            Err(e) => {
                assert!(!loads, "{public_url} {issuer}: {e}");
                assert!(e.to_string().contains("expected https"), "{e}");
                let opted_in = toml.replace("[oidc]", "allow_insecure_http = true\n[oidc]");
                assert!(Config::from_toml_str(&opted_in, "t").is_ok(), "{opted_in}");
            }
        }
    }
}

#[test]
fn route_prefixes_may_not_hide_the_auth_endpoints() {
    let route = |prefix: &str| {
        format!("{MINIMAL}[[routes]]\nprefix = \"{prefix}\"\nupstream = \"http://127.0.0.1:9\"\n")
    };
    for hidden in ["/auth", "/auth/x", "/healthz", "/readyz"] {
        let e = Config::from_toml_str(&route(hidden), "t")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|m| m.contains("routes.prefix")),
            "{hidden}: {e:?}"
        );
    }
    for fine in ["/authx", "/api"] {
        assert!(Config::from_toml_str(&route(fine), "t").is_ok(), "{fine}");
    }
}

#[test]
fn route_prefixes_are_plain_ascii_segments_and_unique_whatever_their_case() {
    let routes = |rs: &[&str]| {
        let mut t = MINIMAL.to_owned();
        for r in rs {
            t.push_str(&format!(
                "[[routes]]\n{r}\nupstream = \"http://127.0.0.1:9\"\n"
            ));
        }
        t
    };
    let refused = |toml: String, key: &str| {
        let e = Config::from_toml_str(&toml, "t")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|m| m.contains(key)),
            "{toml}: {e:?}"
        );
    };
    for bad in [
        "/api//admin",
        "/api/./x",
        "/api/../x",
        "/api/a%2Fb",
        "/api/a;b",
        "/api/admin.",
        "/api/adm\u{131}n",
        "/AUTH",
        "/Healthz",
    ] {
        refused(routes(&[&format!("prefix = \"{bad}\"")]), "routes.prefix");
    }
    refused(
        routes(&["prefix = \"/api/admin\"", "prefix = \"/api/Admin\""]),
        "routes.prefix",
    );
    refused(
        routes(&["prefix = \"/api\"\nmethods = [\"get\"]"]),
        "routes.methods",
    );
    refused(
        routes(&["prefix = \"/api\"\nmethods = []"]),
        "routes.methods",
    );
    assert!(
        Config::from_toml_str(
            &routes(&[
                "prefix = \"/api\"\nmethods = [\"GET\", \"POST\"]",
                "prefix = \"/api/admin\"\nallow_encoded_slash = true",
            ]),
            "t"
        )
        .is_ok()
    );
    let streams = MINIMAL.replace("[server]", "[server]\nmax_streams_per_session = 0");
    refused(streams, "server.max_streams");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let e = Config::load(Path::new("/nonexistent/vestibule.toml"))
        .err()
        .map(|e| e.to_string());
    assert!(e.is_some_and(|m| m.contains("/nonexistent/vestibule.toml")));
}

#[test]
fn a_redis_deployment_is_checked_by_its_mode() {
    let with = |session: &str| {
        format!("{MINIMAL}[session]\nstore = \"redis\"\nencryption_key = \"{KEY}\"\n{session}")
    };
    for (session, key) in [
        (
            "redis_url = \"redis://r:6379\"\n[session.redis]\nurl = \"redis://r:6379\"\n",
            "session.redis_url",
        ),
        (
            "[session.redis]\nmode = \"standalone\"\n",
            "session.redis.url",
        ),
        (
            "[session.redis]\nmode = \"sentinel\"\nmaster_name = \"m\"\n",
            "session.redis.sentinels",
        ),
        (
            "[session.redis]\nmode = \"sentinel\"\nsentinels = [\"redis://s:26379\"]\n",
            "session.redis.master_name",
        ),
        (
            "[session.redis]\nmode = \"cluster\"\nnodes = []\n",
            "session.redis.nodes",
        ),
        (
            "[session.redis]\nmode = \"cluster\"\nnodes = [\"http://n:7000\"]\n",
            "session.redis.nodes",
        ),
        (
            "[session.redis]\nurl = \"redis://r:6379\"\nca_file = \"/nonexistent/ca.pem\"\n",
            "session.redis.ca_file",
        ),
        (
            "[session.redis]\nurl = \"redis://r:6379\"\nmode = \"ring\"\n",
            "session.redis.mode",
        ),
    ] {
        let e = Config::from_toml_str(&with(session), "t")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|m| m.contains(key)),
            "{session}: {e:?}"
        );
    }
    for session in [
        "redis_url = \"redis://r:6379\"\n",
        "[session.redis]\nurl = \"rediss://r:6380\"\nusername = \"u\"\npassword = \"p\"\n",
        "[session.redis]\nmode = \"sentinel\"\nsentinels = [\"redis://s:26379\"]\nmaster_name = \"m\"\ndurability = \"replicated\"\n",
        "[session.redis]\nmode = \"cluster\"\nnodes = [\"redis://n1:7000\", \"redis://n2:7000\"]\n",
    ] {
        let c = Config::from_toml_str(&with(session), "t");
        assert!(c.is_ok(), "{session}: {:?}", c.err());
        assert!(c.ok().and_then(|c| c.session.redis_deployment()).is_some());
    }
}

#[test]
fn route_token_options_must_fit_the_routes_token_kind() {
    let route = |extra: &str| {
        format!(
            "{MINIMAL}\n[[routes]]\nprefix = \"/api\"\nupstream = \"http://127.0.0.1:9\"\n{extra}\n"
        )
    };
    for (extra, key) in [
        (
            "token = \"none\"\nresource = \"https://a.example\"",
            "routes.token",
        ),
        (
            "token = \"client\"\nexchange = { audience = \"a\" }",
            "routes.exchange",
        ),
        (
            "exchange = { audience = \"a\" }\nscopes = [\"x\"]",
            "routes.exchange",
        ),
        ("resource = \"orders\"", "routes.resource"),
        ("resource = \"https://a.example/#frag\"", "routes.resource"),
        ("scopes = []", "routes.scopes"),
        ("scopes = [\"a b\"]", "routes.scopes"),
        (
            "token = \"optional\"\nrequire_acr = [\"mfa\"]",
            "routes.require_acr",
        ),
        ("require_acr = [\"m\\\"fa\"]", "routes.require_acr"),
        ("max_auth_age = \"0s\"", "routes.max_auth_age"),
        (
            "exchange = { audience = \"a\", subject = \"b\" }",
            "subject",
        ),
    ] {
        let msg = err_of(&route(extra));
        assert!(msg.contains(key), "{extra}: {msg}");
    }
    let f = TempFile::new(&route(
        "token = \"required\"\nresource = \"https://orders.example\"\nscopes = [\"orders:read\"]\n\
         require_acr = [\"mfa\"]\nmax_auth_age = \"5m\"",
    ));
    let c = Config::load(&f.0).expect("valid");
    assert_eq!(c.routes[0].token, TokenPolicy::User, "`required` is `user`");
}

#[test]
fn step_up_routes_need_their_login_parameters_allowed() {
    let msg = err_of(&format!(
        "{}login_params = [\"prompt\"]\n[[routes]]\nprefix = \"/api\"\nupstream = \"http://127.0.0.1:9\"\n\
         max_auth_age = \"5m\"\n",
        MINIMAL
    ));
    assert!(msg.contains("oidc.login_params"), "{msg}");
    assert!(msg.contains("max_age"), "{msg}");
}

#[test]
fn an_empty_or_short_client_secret_is_refused_without_echoing_it() {
    for secret in ["", "s3cret", "fifteen-chars!!"] {
        let msg = err_of(&MINIMAL.replace("test-client-secret-0123", secret));
        assert!(msg.contains("oidc.client_secret"), "{secret:?}: {msg}");
        assert!(msg.contains("at least 16"), "{msg}");
        assert!(secret.is_empty() || !msg.contains(secret), "{msg}");
    }
    let sixteen = MINIMAL.replace("test-client-secret-0123", "sixteen-chars!!!");
    assert!(Config::from_toml_str(&sixteen, "t").is_ok());
}

#[test]
fn an_admin_token_under_32_characters_is_refused_without_echoing_it() {
    let with_token = |t: &str| MINIMAL.replace("[oidc]", &format!("admin_token = \"{t}\"\n[oidc]"));
    let short = "0123456789abcdef0123456789abcde"; // 31
    for token in ["", "s3cret", short] {
        let msg = err_of(&with_token(token));
        assert!(msg.contains("server.admin_token"), "{token:?}: {msg}");
        assert!(msg.contains("at least 32"), "{msg}");
        assert!(token.is_empty() || !msg.contains(token), "{msg}");
    }
    let f = TempFile::new(&with_token(&format!("{short}f")));
    assert!(Config::load(&f.0).is_ok(), "32 characters");
}

#[test]
fn the_redis_store_needs_a_32_byte_encryption_key_and_says_how_to_make_one() {
    let redis = |keys: &str| {
        format!("{MINIMAL}[session]\nstore = \"redis\"\nredis_url = \"redis://r:6379\"\n{keys}")
    };
    let short = "MDEyMzQ1Njc4OWFiY2RlZg=="; // 16 bytes
    for (keys, key, says) in [
        ("", "session.encryption_key", "openssl rand -base64 32"),
        (
            &format!("encryption_key = \"{short}\"\n") as &str,
            "session.encryption_key",
            "16 bytes",
        ),
        (
            "encryption_key = \"not base64 at all!\"\n",
            "session.encryption_key",
            "not base64",
        ),
        (
            &format!("encryption_key = \"{KEY}\"\nprevious_encryption_keys = [\"{short}\"]\n"),
            "session.previous_encryption_keys",
            "16 bytes",
        ),
    ] {
        let msg = err_of(&redis(keys));
        assert!(msg.contains(key), "{keys}: {msg}");
        assert!(msg.contains(says), "{keys}: {msg}");
        assert!(!msg.contains(short), "the key is not echoed: {msg}");
    }
    let both = format!(
        "encryption_key = \"{KEY}\"\nprevious_encryption_keys = [\"{}\"]\n",
        KEY.replace('M', "N")
    );
    let c = Config::from_toml_str(&redis(&both), "t").expect("valid");
    assert_eq!(c.session.previous_encryption_keys.len(), 1);
    assert_eq!(c.session.max_per_user, 10);
    // Old keys alone seal nothing: refused, with the memory store too.
    let msg = err_of(&format!(
        "{MINIMAL}[session]\nprevious_encryption_keys = [\"{KEY}\"]\n"
    ));
    assert!(msg.contains("session.previous_encryption_keys"), "{msg}");
    // The memory store needs none.
    assert!(Config::from_toml_str(MINIMAL, "t").is_ok());
}

#[test]
fn step_up_is_refused_with_the_oauth2_protocol() {
    let oauth2 = |rule: &str| {
        format!(
            "{MINIMAL}protocol = \"oauth2\"\nscopes = [\"read:user\"]\n[oidc.endpoints]\n\
             authorization = \"http://127.0.0.2:9100/authorize\"\n\
             token = \"http://127.0.0.2:9100/token\"\n\
             userinfo = \"http://127.0.0.2:9100/user\"\n\
             [[routes]]\nprefix = \"/api\"\nupstream = \"http://127.0.0.1:9\"\n{rule}"
        )
    };
    for (rule, key) in [
        ("require_acr = [\"mfa\"]\n", "routes.require_acr"),
        ("max_auth_age = \"5m\"\n", "routes.max_auth_age"),
    ] {
        let msg = err_of(&oauth2(rule));
        assert!(msg.contains(key), "{rule}: {msg}");
        assert!(msg.contains("oauth2") && msg.contains("signed"), "{msg}");
    }
    assert!(
        Config::from_toml_str(&oauth2(""), "t").is_ok(),
        "no step-up: fine"
    );
}

#[test]
fn a_syntax_error_names_the_line_but_never_echoes_it() {
    // The toml parser quotes the offending line, which may be the secret's own: an unterminated
    // string, a stray quote. The operator needs the place, not the text.
    let secret = "s3cr3t-VALUE-abcdefgh";
    for broken in [
        format!("client_secret = \"{secret}\n"),
        format!("client_secret = \"{secret}\"\"\n"),
        format!("client_secret = {secret}\n"),
    ] {
        let toml = MINIMAL.replace("client_secret = \"test-client-secret-0123\"\n", &broken);
        let msg = err_of(&toml);
        assert!(!msg.contains("VALUE"), "{broken:?}: {msg}");
        assert!(msg.contains("line 8"), "{broken:?}: {msg}");
    }
}

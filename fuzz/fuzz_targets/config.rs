//! The config parser: any text gives a config or an error naming a key, never a panic; a config
//! that loads keeps the safety rules (https or loopback, a sane auth prefix); and a secret's
//! value never shows in an error, whatever it is (SECURITY.md: "Error messages name the key and
//! never echo its value").
#![no_main]

use libfuzzer_sys::fuzz_target;
use vestibule::config::{Config, Protocol, is_loopback};

const SECTIONS: [&str; 6] = ["server", "oidc", "session", "routes", "spa", "telemetry"];

/// Every error starts `fuzz.toml: key `<key>`: ` and `<key>` is `(top level)`, lies in one of
/// the config's sections, or is the unknown key the error is about: an operator is told where
/// to look.
fn assert_names_a_key(error: &str) {
    let key = error
        .strip_prefix("fuzz.toml: key `")
        .and_then(|rest| rest.split_once("`: "))
        .map(|(key, _)| key);
    let Some(key) = key else {
        panic!("an error that names no key: {error:?}");
    };
    let section = key.split('.').next().unwrap_or_default();
    let last = key.rsplit('.').next().unwrap_or_default();
    assert!(
        key == "(top level)"
            || SECTIONS.contains(&section)
            || (!last.is_empty() && error.contains(&format!("unknown field: found `{last}`"))),
        "an error naming {key:?}, no key of the config: {error:?}"
    );
}

/// A TOML basic string holding `s` exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `secret` as each secret of the config in turn, everything else valid: the error, if any, names
/// the key and never holds the value. The markers around it make it text no message has of its
/// own, so finding it means it was echoed.
fn assert_secret_never_echoed(text: &str) {
    let secret = format!("zQ{text}Qz");
    let value = toml_string(&secret);
    let head = "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n";
    let key = "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"";
    for (config, name) in [
        (
            format!(
                "{head}[oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = {value}\n"
            ),
            "oidc.client_secret",
        ),
        (
            format!(
                "{head}[oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"fuzz-client-secret-0123\"\n\
                 [session]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\nencryption_key = {value}\n"
            ),
            "session.encryption_key",
        ),
        (
            format!(
                "{head}[oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"fuzz-client-secret-0123\"\n\
                 [session]\nencryption_key = {key}\nprevious_encryption_keys = [{value}]\n"
            ),
            "session.previous_encryption_keys",
        ),
    ] {
        if let Err(e) = Config::from_toml_str(&config, "fuzz.toml") {
            let e = e.to_string();
            assert!(!e.contains(&secret), "{name} echoed in {e:?}");
            assert!(
                e.contains(name),
                "an error about {name} that does not name it: {e:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_toml_str(text, "fuzz.toml") {
        Err(e) => assert_names_a_key(&e.to_string()),
        Ok(c) => {
            let pu = &c.server.public_url;
            assert!(
                pu.scheme() == "https" || is_loopback(pu) || c.server.allow_insecure_http,
                "{pu}"
            );
            assert!(c.server.auth_prefix.starts_with('/'));
            assert!(
                c.oidc.protocol == Protocol::Oauth2 || c.oidc.scopes.iter().any(|s| s == "openid")
            );
            assert!(!c.session.idle_timeout.is_zero());
        }
    }
    assert_secret_never_echoed(text);
});

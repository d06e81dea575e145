//! The config parser: any text gives a config or an error naming a key, never a panic; and a
//! config that loads keeps the safety rules (https or loopback, a sane auth prefix).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vestibule::config::{Config, Protocol, is_loopback};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_toml_str(text, "fuzz.toml") {
        Err(e) => assert!(!e.to_string().is_empty()),
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
});

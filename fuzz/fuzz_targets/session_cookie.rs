//! The cookie/session-id codec: the `Cookie` header a browser (or attacker) sends, the id shape
//! filter, and the sealed store entries. Nothing panics; an id is only ever taken from exactly one
//! cookie of the right name and shape; tampered or foreign sealed bytes never open.
#![no_main]

use std::sync::LazyLock;

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use vestibule::config::Config;
use vestibule::session::cookie::{CookieCodec, cookie_pairs};
use vestibule::session::crypto::{is_token_shaped, open, seal};

static COOKIES: LazyLock<CookieCodec> = LazyLock::new(|| {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"fuzz-client-secret-0123\"\n",
        "fuzz.toml",
    )
    .expect("static fuzz config");
    CookieCodec::new(&config)
});

/// What the codec must read for cookie `name`: the value of the one pair with that name, when
/// there is exactly one and it has a token's shape; else nothing.
fn expected(data: &[u8], name: &str) -> Option<String> {
    let ours: Vec<&[u8]> = cookie_pairs(data)
        .filter(|(n, _)| *n == name.as_bytes())
        .map(|(_, v)| v)
        .collect();
    match ours.as_slice() {
        [one] => std::str::from_utf8(one)
            .ok()
            .filter(|v| is_token_shaped(v))
            .map(str::to_owned),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let cookies = &*COOKIES;
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let req = TestRequest::default()
            .insert_header(("cookie", value))
            .to_http_request();
        // A cookie is taken exactly when one pair has its name, and its value a token's shape.
        let text = String::from_utf8_lossy(data);
        assert_eq!(
            cookies.session_id(&req),
            expected(data, cookies.session_name()),
            "{text:?}"
        );
        assert_eq!(
            cookies.login_binding(&req),
            expected(data, cookies.login_name()),
            "{text:?}"
        );
    }
    // Arbitrary bytes as a sealed entry never open; a real seal opens only as itself.
    let secret = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
    assert!(open(secret, "s", "slot", data).is_none());
    let sealed = seal(secret, "s", "slot", data);
    assert_eq!(open(secret, "s", "slot", &sealed).as_deref(), Some(data));
    if let Some((i, b)) = data.first().map(|b| (usize::from(*b) % sealed.len(), *b)) {
        let mut tampered = sealed.clone();
        tampered[i] ^= b | 1;
        assert!(open(secret, "s", "slot", &tampered).is_none());
    }
});

//! The cookie/session-id codec: the `Cookie` header a browser (or attacker) sends, the id shape
//! filter, and the sealed store entries. Nothing panics; an id is only ever taken from exactly one
//! cookie of the right name and shape; tampered or foreign sealed bytes never open.
#![no_main]

use std::sync::{Arc, LazyLock};

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use vestibule::config::Config;
use vestibule::session::crypto::{is_token_shaped, open, seal};
use vestibule::session::memory::MemoryStore;
use vestibule::session::{SessionManager, cookie_pairs};

static SESSIONS: LazyLock<SessionManager> = LazyLock::new(|| {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"s\"\n",
        "fuzz.toml",
    )
    .expect("static fuzz config");
    SessionManager::new(&config, Arc::new(MemoryStore::new()))
});

fuzz_target!(|data: &[u8]| {
    let sessions = &*SESSIONS;
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let req = TestRequest::default()
            .insert_header(("cookie", value))
            .to_http_request();
        // The id is taken exactly when one pair has our name, and its value has a token's shape.
        let name = sessions.cookie_name().as_bytes();
        let ours: Vec<&[u8]> = cookie_pairs(data)
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .collect();
        let want = match ours.as_slice() {
            [one] => std::str::from_utf8(one)
                .ok()
                .filter(|v| is_token_shaped(v))
                .map(str::to_owned),
            _ => None,
        };
        assert_eq!(
            sessions.session_id(&req),
            want,
            "{:?}",
            String::from_utf8_lossy(data)
        );
        assert!(is_token_shaped(&sessions.login_binding(&req)));
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

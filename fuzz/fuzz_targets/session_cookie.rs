//! The cookie/session-id codec: the `Cookie` header a browser (or attacker) sends, the id shape
//! filter, and the sealed store entries. Nothing panics; an id is only ever taken from exactly one
//! cookie of the right name and shape; tampered or foreign sealed bytes never open.
#![no_main]

use std::sync::LazyLock;

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use libfuzzer_sys::fuzz_target;
use vestibule::config::Config;
use vestibule::crypto::{open, seal};
use vestibule::session::cookie::CookieCodec;

static COOKIES: LazyLock<CookieCodec> = LazyLock::new(|| {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"fuzz-client-secret-0123\"\n",
        "fuzz.toml",
    )
    .expect("static fuzz config");
    CookieCodec::new(&config)
});

/// RFC 6265 section 4.2.1: `cookie-string = cookie-pair *( ";" SP cookie-pair )`, with
/// `cookie-pair = cookie-name "=" cookie-value`, read as leniently as section 5.4's user agents
/// write it and servers meet it: any whitespace (SP, HTAB) around names and values, a pair
/// without `=` is no cookie, the value is everything after the first `=` (quotes kept, nothing
/// decoded). Written here from the RFC, on purpose not with Vestibule's own splitter: an oracle
/// built from the code under test agrees with it by construction.
fn rfc6265_values<'a>(header: &'a [u8], name: &str) -> Vec<&'a [u8]> {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let trim = |mut s: &'a [u8]| {
        while let [first, rest @ ..] = s {
            if !is_ows(first) {
                break;
            }
            s = rest;
        }
        while let [rest @ .., last] = s {
            if !is_ows(last) {
                break;
            }
            s = rest;
        }
        s
    };
    let mut values = Vec::new();
    let mut rest = header;
    loop {
        let (pair, after) = match rest.iter().position(|b| *b == b';') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if let Some(eq) = pair.iter().position(|b| *b == b'=')
            && trim(&pair[..eq]) == name.as_bytes()
        {
            values.push(trim(&pair[eq + 1..]));
        }
        match after {
            Some(a) => rest = a,
            None => return values,
        }
    }
}

/// What the codec must read for cookie `name`: the value of the one pair with that name, when
/// there is exactly one and it looks like an id Vestibule issues (32 random bytes in unpadded
/// base64url: 43 characters of `A-Z a-z 0-9 - _`); else nothing.
fn expected(data: &[u8], name: &str) -> Option<String> {
    match rfc6265_values(data, name).as_slice() {
        [one]
            if one.len() == 43
                && one
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_') =>
        {
            Some(String::from_utf8(one.to_vec()).expect("ASCII"))
        }
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

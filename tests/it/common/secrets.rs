//! "No secret in here" checks: every form a log line, a span or a stored value could hold a secret
//! in ([`forms`]), and one assertion over them ([`assert_none_in`]).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// A secret with the words that name it in a failure.
pub fn named(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// What one login puts on the wire besides tokens: the code and the authorization request's
/// `state`, PKCE challenge and `nonce`.
pub fn of_login(code: &str, start: &super::browser::LoginStart) -> Vec<(String, String)> {
    vec![
        named("the authorization code", code),
        named("the state", &start.state),
        named("the PKCE challenge", &start.challenge),
        named("the nonce", &start.nonce),
    ]
}

/// The client secret, and `id:secret` as `client_secret_basic` sends it (base64'd whole into
/// the header: [`forms`] finds it there).
pub fn of_client_secret() -> Vec<(String, String)> {
    vec![
        named("the client secret", super::idp::CLIENT_SECRET),
        named(
            "the client credentials",
            &format!("{}:{}", super::idp::CLIENT_ID, super::idp::CLIENT_SECRET),
        ),
    ]
}

/// Every token `idp` issued, and every PKCE verifier and client assertion it received.
pub fn handled_by(idp: &super::TestIdp) -> Vec<(String, String)> {
    let issued = idp.state.issued.lock().expect("issued");
    let received = idp.state.received_secrets.lock().expect("received");
    let tokens = issued.iter().map(|t| named("a token the IdP issued", t));
    let others = received
        .iter()
        .map(|v| named("a PKCE verifier or client assertion", v));
    tokens.chain(others).collect()
}

/// Every cookie `browser` holds.
pub fn cookies_of(browser: &super::Browser) -> Vec<(String, String)> {
    let cookies = browser.cookies.iter();
    cookies
        .map(|(name, value)| named(&format!("the {name} cookie"), value))
        .collect()
}

/// `secret` as it could appear in text: verbatim; URL-encoded (form and percent encoding);
/// JSON-escaped; base64 in both alphabets at each of the three alignments it can have inside a
/// longer encoded value (an `Authorization: Basic` header is `base64(id:secret)`); and, for a
/// JWT, its payload and signature alone (the header is the same for every token of an issuer and
/// tells nothing). Forms shorter than 6 characters are left out: they would match by chance.
pub fn forms(secret: &str) -> Vec<String> {
    assert!(!secret.is_empty(), "an empty secret is in everything");
    let mut out = vec![
        secret.to_owned(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
    ];
    let json = serde_json::to_string(secret).expect("a string is JSON");
    out.push(json[1..json.len() - 1].to_owned());
    for k in 0..3usize {
        // `k` bytes before the secret shift it within the 3-byte groups; keep the characters
        // that only the secret's bits decide.
        let mut shifted = vec![0u8; k];
        shifted.extend_from_slice(secret.as_bytes());
        let (first, end) = ((8 * k).div_ceil(6), (8 * shifted.len()) / 6);
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&shifted);
            if first < end {
                out.push(encoded[first..end].to_owned());
            }
        }
    }
    let segments: Vec<&str> = secret.split('.').collect();
    if segments.len() == 3 && segments.iter().all(|s| s.len() >= 10) {
        out.extend([segments[1].to_owned(), segments[2].to_owned()]);
    }
    out.retain(|f| f.len() >= 6);
    out.sort();
    out.dedup();
    out
}

/// Fails when `text` (what `place` holds) has any form of any secret; the message names the
/// secret and the form, not the value.
pub fn assert_none_in(place: &str, text: &str, secrets: &[(String, String)]) {
    for (name, secret) in secrets {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{place} holds {name} (as {}…, a form of {}…)",
                &form[..6],
                &secret[..secret.len().min(6)]
            );
        }
    }
}

#[test]
fn forms_find_a_secret_inside_a_basic_header_a_form_body_json_and_a_jwt() {
    let secret = "s3cret/with+odd=chars\"";
    let found = |text: &str| forms(secret).iter().any(|f| text.contains(f.as_str()));
    for prefix in ["", "a", "ab", "abc"] {
        let basic = STANDARD_NO_PAD.encode(format!("{prefix}client:{secret}"));
        assert!(found(&format!("authorization: Basic {basic}")), "{prefix}");
        let url_safe = URL_SAFE_NO_PAD.encode(format!("{prefix}{secret}x"));
        assert!(found(&url_safe), "{prefix}");
    }
    let body = format!(
        "client_id=x&client_secret={}",
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
    );
    assert!(found(&body));
    assert!(found(&serde_json::json!({ "secret": secret }).to_string()));
    assert!(!found("client_id=x&client_secret=other"));

    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLWJ5dGVz";
    let jwt_found = |text: &str| forms(jwt).iter().any(|f| text.contains(f.as_str()));
    assert!(jwt_found("payload=eyJzdWIiOiJ1c2VyLTQyIn0"));
    assert!(jwt_found("sig c2lnbmF0dXJlLWJ5dGVz"));
    assert!(!jwt_found("header eyJhbGciOiJSUzI1NiJ9 only"));
}

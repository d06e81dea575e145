use http::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};

use super::rejects_token;

fn with(values: &[&'static str]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for v in values {
        h.append(WWW_AUTHENTICATE, HeaderValue::from_static(v));
    }
    h
}

#[test]
fn only_an_invalid_token_challenge_asks_for_a_new_token() {
    for yes in [
        &["Bearer error=\"invalid_token\""][..],
        &["Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\""],
        &["bearer error=invalid_token"],
        &["Basic realm=\"x\"", "Bearer error=\"invalid_token\""],
    ] {
        assert!(rejects_token(&with(yes)), "{yes:?}");
    }
    for no in [
        &[][..],
        &["Bearer"],
        &["Bearer error=\"insufficient_scope\""],
        &["Basic error=\"invalid_token\""],
        &["Bearer error=\"invalid_request\""],
    ] {
        assert!(!rejects_token(&with(no)), "{no:?}");
    }
}

use actix_web::test::TestRequest;

use super::*;

fn codec(public_url: &str) -> CookieCodec {
    codec_with(public_url, "")
}

fn codec_with(public_url: &str, session: &str) -> CookieCodec {
    let toml = format!(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"{public_url}\"\n\
         [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n\
         [session]\n{session}"
    );
    CookieCodec::new(&Config::from_toml_str(&toml, "test").expect("valid config"))
}

fn with_cookie(header: &str) -> HttpRequest {
    TestRequest::default()
        .insert_header(("cookie", header))
        .to_http_request()
}

#[test]
fn https_cookies_are_host_prefixed_secure_httponly_lax() {
    let c = codec("https://app.example.com");
    let id = crypto::random_token();
    for cookie in [c.session(&id), c.login(&id), c.clear_session()] {
        assert!(cookie.name().starts_with("__Host-vestibule"), "{cookie}");
        assert_eq!(cookie.secure(), Some(true), "{cookie}");
        assert_eq!(cookie.http_only(), Some(true), "{cookie}");
        assert_eq!(cookie.same_site(), Some(SameSite::Lax), "{cookie}");
        assert_eq!(cookie.path(), Some("/"), "{cookie}");
        assert_eq!(cookie.domain(), None, "{cookie}");
    }
    assert_eq!(c.session(&id).max_age(), None, "a browser-session cookie");
    assert_eq!(c.clear_session().max_age(), Some(time::Duration::ZERO));
    assert_eq!(c.login(&id).max_age(), Some(time::Duration::minutes(10)));
}

#[test]
fn strict_same_site_applies_to_the_session_cookie_but_the_login_cookie_stays_lax() {
    let c = codec_with("https://app.example.com", "same_site = \"strict\"\n");
    let id = crypto::random_token();
    assert_eq!(c.session(&id).same_site(), Some(SameSite::Strict));
    assert_eq!(c.clear_session().same_site(), Some(SameSite::Strict));
    assert_eq!(c.login(&id).same_site(), Some(SameSite::Lax));
}

#[test]
fn the_host_http_prefix_names_both_cookies() {
    let c = codec_with(
        "https://app.example.com",
        "cookie_prefix = \"__Host-Http-\"\n",
    );
    assert_eq!(c.session_name(), "__Host-Http-vestibule");
    assert_eq!(c.login_name(), "__Host-Http-vestibule-login");
    let id = crypto::random_token();
    let req = with_cookie(&format!("__Host-vestibule={id}"));
    assert_eq!(c.session_id(&req), None, "the old name is not read");
}

#[test]
fn the_host_http_prefix_is_refused_without_https() {
    let toml = "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n\
         [session]\ncookie_prefix = \"__Host-Http-\"\n";
    let err = Config::from_toml_str(toml, "test").expect_err("needs https");
    assert!(err.to_string().contains("session.cookie_prefix"), "{err}");
}

#[test]
fn loopback_http_cookies_have_no_prefix_and_no_secure() {
    let c = codec("http://127.0.0.1:8080");
    let cookie = c.session(&crypto::random_token());
    assert_eq!(cookie.name(), "vestibule");
    assert_ne!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
}

#[test]
fn only_one_well_shaped_cookie_of_our_name_counts() {
    let c = codec("http://127.0.0.1:8080");
    let id = crypto::random_token();
    let other = crypto::random_token();
    assert_eq!(
        c.session_id(&with_cookie(&format!("vestibule={id}"))),
        Some(id.clone())
    );
    assert_eq!(
        c.session_id(&with_cookie(&format!(
            "junk; a=\"b; vestibule={id}; theme=dark"
        ))),
        Some(id.clone()),
        "a malformed neighbour does not hide ours"
    );
    assert_eq!(
        c.login_binding(&with_cookie(&format!(
            "vestibule={id}; vestibule-login={other}"
        ))),
        Some(other.clone())
    );
    for header in [
        format!("vestibule={id}; vestibule={other}"),
        format!("vestibule={id}; vestibule={id}"),
        format!("vestibule=\"{id}\""),
        format!("vestibule={}", &id[1..]),
        format!("vestibule-login={id}"),
        format!("__Host-vestibule={id}"),
        "vestibule=".to_owned(),
    ] {
        assert_eq!(c.session_id(&with_cookie(&header)), None, "{header}");
    }
}

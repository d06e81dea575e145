use actix_web::test::TestRequest;

use super::*;

fn config() -> Config {
    Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://app.example.com\"\n\
         [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n",
        "test",
    )
    .expect("valid config")
}

fn request(headers: &[(&str, &str)]) -> HttpRequest {
    let mut req = TestRequest::default();
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    req.to_http_request()
}

#[test]
fn a_call_needs_the_header_and_no_foreign_origin() {
    let c = config();
    let ok = [
        vec![("x-csrf", "1")],
        vec![("x-csrf", "1"), ("sec-fetch-site", "same-origin")],
        vec![("x-csrf", "1"), ("origin", "https://app.example.com")],
    ];
    for headers in ok {
        assert_eq!(check_call(&c, &request(&headers)), Ok(()), "{headers:?}");
    }
    for (headers, want) in [
        (vec![], CsrfError::MissingHeader),
        (vec![("x-csrf", "true")], CsrfError::MissingHeader),
        (
            vec![("x-csrf", "1"), ("sec-fetch-site", "same-site")],
            CsrfError::CrossSite,
        ),
        (
            vec![("x-csrf", "1"), ("sec-fetch-site", "none")],
            CsrfError::CrossSite,
        ),
        (
            vec![("x-csrf", "1"), ("origin", "https://app.example.com/")],
            CsrfError::CrossSite,
        ),
        (
            vec![("x-csrf", "1"), ("origin", "https://app.example.com.evil")],
            CsrfError::CrossSite,
        ),
    ] {
        assert_eq!(check_call(&c, &request(&headers)), Err(want), "{headers:?}");
    }
}

#[test]
fn a_navigation_may_be_typed_but_not_cross_site() {
    let c = config();
    assert_eq!(check_navigation(&c, &request(&[])), Ok(()));
    assert_eq!(
        check_navigation(&c, &request(&[("sec-fetch-site", "none")])),
        Ok(())
    );
    for site in ["cross-site", "same-site"] {
        assert_eq!(
            check_navigation(&c, &request(&[("sec-fetch-site", site)])),
            Err(CsrfError::CrossSite)
        );
    }
}

#[test]
fn a_websocket_upgrade_needs_our_origin() {
    let c = config();
    assert_eq!(
        check_websocket(&c, &request(&[("origin", "https://app.example.com")])),
        Ok(())
    );
    for headers in [vec![], vec![("origin", "https://evil.example")]] {
        assert_eq!(
            check_websocket(&c, &request(&headers)),
            Err(CsrfError::CrossSiteWebSocket)
        );
    }
}

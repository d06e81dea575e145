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

/// The headers of a request a gateway checks.
fn forwarded(headers: &[(&str, &str)]) -> HeaderMap {
    request(headers).headers().clone()
}

#[test]
fn a_gateway_checked_read_may_be_a_page_a_typed_url_or_a_link_from_anywhere() {
    let c = config();
    let nav = [
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
    ];
    let passing: [Vec<(&str, &str)>; 6] = [
        vec![],
        vec![
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-dest", "image"),
        ],
        vec![("sec-fetch-site", "none"), nav[0], nav[1]],
        vec![("sec-fetch-site", "cross-site"), nav[0], nav[1]],
        vec![("sec-fetch-site", "same-site"), nav[0], nav[1]],
        vec![("x-csrf", "1"), ("sec-fetch-site", "same-origin")],
    ];
    for method in ["GET", "HEAD"] {
        for headers in &passing {
            let h = forwarded(headers);
            assert_eq!(
                check_forwarded(&c, method, &h),
                Ok(()),
                "{method} {headers:?}"
            );
        }
    }
    let refused: [(Vec<(&str, &str)>, CsrfError); 5] = [
        // Another site's script or image, a sibling subdomain's fetch.
        (
            vec![
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-dest", "script"),
            ],
            CsrfError::CrossSite,
        ),
        (
            vec![("sec-fetch-site", "same-site"), ("sec-fetch-mode", "cors")],
            CsrfError::CrossSite,
        ),
        // A frame is not a top-level navigation.
        (
            vec![
                ("sec-fetch-site", "cross-site"),
                nav[0],
                ("sec-fetch-dest", "iframe"),
            ],
            CsrfError::CrossSite,
        ),
        (
            vec![("origin", "https://evil.example"), nav[0], nav[1]],
            CsrfError::CrossSite,
        ),
        // The SPA's header does not make a typed URL an API call from its own page.
        (
            vec![("x-csrf", "1"), ("sec-fetch-site", "none")],
            CsrfError::CrossSite,
        ),
    ];
    for (headers, want) in refused {
        let h = forwarded(&headers);
        assert_eq!(check_forwarded(&c, "GET", &h), Err(want), "{headers:?}");
    }
}

#[test]
fn a_gateway_checked_write_meets_the_rules_of_an_api_call_whatever_it_looks_like() {
    let c = config();
    let nav = [
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
    ];
    for method in ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"] {
        let same_origin_form = forwarded(&[("sec-fetch-site", "same-origin"), nav[0], nav[1]]);
        assert_eq!(
            check_forwarded(&c, method, &same_origin_form),
            Err(CsrfError::MissingHeader),
            "{method}"
        );
        let cross = forwarded(&[("x-csrf", "1"), ("origin", "https://evil.example")]);
        assert_eq!(
            check_forwarded(&c, method, &cross),
            Err(CsrfError::CrossSite),
            "{method}"
        );
        let spa = forwarded(&[("x-csrf", "1"), ("origin", "https://app.example.com")]);
        assert_eq!(check_forwarded(&c, method, &spa), Ok(()), "{method}");
    }
}

#[test]
fn only_a_read_without_the_header_is_a_navigation() {
    let c = config();
    assert!(is_navigation(&c, "GET", &forwarded(&[])));
    assert!(is_navigation(
        &c,
        "HEAD",
        &forwarded(&[("sec-fetch-mode", "navigate")])
    ));
    assert!(!is_navigation(
        &c,
        "GET",
        &forwarded(&[("sec-fetch-mode", "cors")])
    ));
    assert!(!is_navigation(&c, "GET", &forwarded(&[("x-csrf", "1")])));
    assert!(!is_navigation(
        &c,
        "POST",
        &forwarded(&[("sec-fetch-mode", "navigate")])
    ));
}

use actix_web::test::TestRequest;

use super::*;

fn config() -> Config {
    Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://app.example.com\"\n\
         trusted_proxies = [\"10.0.0.0/8\", \"fd00::1\"]\n\
         [oidc]\nissuer = \"https://login.example.com\"\nclient_id = \"c\"\n\
         client_secret = \"test-client-secret-0123\"\n",
        "test",
    )
    .expect("valid config")
}

/// A check from `peer` to `target` (method GET unless `method` says) with these headers.
fn check_from(
    peer: &str,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<Original, CheckError> {
    let mut req = TestRequest::default()
        .peer_addr(peer.parse().expect("a socket address"))
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(target);
    for (k, v) in headers {
        // As bytes: a header may hold obs-text (non-ASCII) a gateway passes on.
        let v = actix_web::http::header::HeaderValue::from_bytes(v.as_bytes()).expect("value");
        req = req.append_header((*k, v));
    }
    read(&req.to_http_request(), &config(), "/auth/check")
}

fn gateway(headers: &[(&str, &str)]) -> Result<Original, CheckError> {
    check_from("10.1.2.3:5000", "GET", "/auth/check", headers)
}

fn refusal(r: Result<Original, CheckError>) -> String {
    match r {
        Ok(o) => panic!("refused, got {o:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_trusted_gateway_names_the_request_in_headers() {
    for uri_header in [ORIGINAL_URI, FORWARDED_URI] {
        let o = gateway(&[
            (uri_header, "/api/x?a=1&b=/c"),
            (FORWARDED_METHOD, "DELETE"),
        ])
        .expect("read");
        assert_eq!(o.method, Method::DELETE);
        assert_eq!(o.path, "/api/x");
        assert_eq!(o.uri, "/api/x?a=1&b=/c");
    }
    // Raw, as sent: the route's path rules judge the spelling, not this reader.
    let o = gateway(&[(ORIGINAL_URI, "/api/../%2Fx"), (FORWARDED_METHOD, "GET")]).expect("read");
    assert_eq!(o.path, "/api/../%2Fx");
}

#[test]
fn an_envoy_style_check_carries_the_path_after_its_own_and_its_own_method() {
    let o = check_from("[fd00::1]:9", "PATCH", "/auth/check/api/x/y?q=%2F", &[]).expect("read");
    assert_eq!(o.method, Method::PATCH);
    assert_eq!(o.path, "/api/x/y");
    assert_eq!(o.uri, "/api/x/y?q=%2F");
    for header in [ORIGINAL_URI, FORWARDED_URI, FORWARDED_METHOD] {
        let e = refusal(check_from(
            "10.0.0.1:9",
            "GET",
            "/auth/check/api/x",
            &[(header, "/a")],
        ));
        assert!(e.contains("takes no"), "{header}: {e}");
    }
}

#[test]
fn no_other_peer_is_believed_whatever_it_sends() {
    let spoofed = [
        (FORWARDED_URI, "/api/x"),
        (FORWARDED_METHOD, "GET"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-real-ip", "10.0.0.1"),
        ("forwarded", "for=10.0.0.1"),
    ];
    for peer in [
        "127.0.0.1:1",
        "11.0.0.1:1",
        "[fd00::2]:1",
        "[::ffff:11.0.0.1]:1",
    ] {
        let e = refusal(check_from(peer, "GET", "/auth/check", &spoofed));
        assert!(
            e.contains("is not one of server.trusted_proxies"),
            "{peer}: {e}"
        );
    }
    // An IPv4 gateway on an IPv6 socket is the gateway.
    assert!(check_from("[::ffff:10.0.0.9]:1", "GET", "/auth/check", &spoofed[..2]).is_ok());
}

#[test]
fn a_missing_doubled_or_ambiguous_account_is_refused() {
    let m = (FORWARDED_METHOD, "GET");
    let rows: [(&[(&str, &str)], &str); 7] = [
        (&[m], "no X-Original-URI or X-Forwarded-Uri"),
        (&[(FORWARDED_URI, "/a")], "no X-Forwarded-Method"),
        (
            &[(FORWARDED_URI, "/a"), (FORWARDED_URI, "/b"), m],
            "more than one",
        ),
        (
            &[(ORIGINAL_URI, "/a"), (FORWARDED_URI, "/a"), m],
            "more than one",
        ),
        (
            &[(FORWARDED_URI, "/a"), (FORWARDED_METHOD, "GET"), m],
            "more than one X-Forwarded-Method",
        ),
        (
            &[(FORWARDED_URI, "/a"), (FORWARDED_METHOD, "G ET")],
            "not a method",
        ),
        (
            &[(FORWARDED_URI, "/a"), (FORWARDED_METHOD, "")],
            "not a method",
        ),
    ];
    for (headers, why) in rows {
        let e = refusal(gateway(headers));
        assert!(e.contains(why), "{headers:?}: {e}");
    }
}

#[test]
fn only_an_origin_form_uri_is_a_request() {
    for bad in [
        "http://evil.example/api/x",
        "//evil.example/api/x",
        "api/x",
        "*",
        "",
        "/api/x#frag",
        "/api/ x",
        "/api/\tx",
        "/api/caf\u{e9}",
    ] {
        let r = gateway(&[(FORWARDED_URI, bad), (FORWARDED_METHOD, "GET")]);
        // `//host` starts like a path: the route's path rules refuse its empty segment.
        if bad.starts_with("//") {
            assert_eq!(r.expect("read").path, bad);
            continue;
        }
        let e = refusal(r);
        assert!(e.contains("not a path and query"), "{bad:?}: {e}");
    }
}

use super::*;

#[test]
fn request_hygiene() {
    let mut h = ax::HeaderMap::new();
    for (k, v) in [
        ("cookie", "vestibule=abc"),
        ("authorization", "Bearer evil"),
        ("connection", "keep-alive, x-secret-hop"),
        ("x-secret-hop", "1"),
        ("te", "trailers"),
        ("host", "app.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-for", "6.6.6.6"),
        ("accept", "application/json"),
        ("x-csrf", "1"),
    ] {
        h.append(
            ax::HeaderName::from_static(k),
            ax::HeaderValue::from_static(v),
        );
    }
    let out = upstream_request(&h);
    let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["accept", "x-csrf"]);
}

#[test]
fn response_hygiene_drops_own_cookies() {
    let mut up = hy::HeaderMap::new();
    up.append(
        hy::SET_COOKIE,
        hy::HeaderValue::from_static("vestibule=planted; Path=/"),
    );
    up.append(
        hy::SET_COOKIE,
        hy::HeaderValue::from_static("app_pref=dark; Path=/"),
    );
    up.append(
        hy::TRANSFER_ENCODING,
        hy::HeaderValue::from_static("chunked"),
    );
    up.append(
        hy::CONTENT_TYPE,
        hy::HeaderValue::from_static("application/json"),
    );
    let mut out = ax::HeaderMap::new();
    downstream_response(&up, &["vestibule", "vestibule-login"], &mut out);
    let cookies: Vec<_> = out.get_all(ax::SET_COOKIE).collect();
    assert_eq!(
        cookies,
        vec![&ax::HeaderValue::from_static("app_pref=dark; Path=/")]
    );
    assert!(out.get(ax::TRANSFER_ENCODING).is_none());
    assert!(out.get(ax::CONTENT_TYPE).is_some());
}

#[test]
fn forwarded_for_chain() {
    let peer = Some("10.1.2.3:5000".parse().expect("addr"));
    assert_eq!(
        forwarded_for(&ax::HeaderMap::new(), peer),
        Some(hy::HeaderValue::from_static("10.1.2.3"))
    );
    let mut h = ax::HeaderMap::new();
    h.insert(
        ax::HeaderName::from_static("x-forwarded-for"),
        ax::HeaderValue::from_static("1.1.1.1"),
    );
    assert_eq!(
        forwarded_for(&h, peer),
        Some(hy::HeaderValue::from_static("1.1.1.1, 10.1.2.3"))
    );
}

use super::*;

#[test]
fn only_the_issuers_origin_may_frame_the_page() {
    for (issuer, ancestors) in [
        ("https://auth.example.com/", "https://auth.example.com"),
        (
            "https://login.example.com/tenant/v2.0",
            "https://login.example.com",
        ),
        (
            "https://idp.example.com:8443/realms/a",
            "https://idp.example.com:8443",
        ),
        ("http://127.0.0.1:9100", "http://127.0.0.1:9100"),
        // The default port is no part of the origin.
        ("https://auth.example.com:443/", "https://auth.example.com"),
        ("https://BÜCHER.example/", "https://xn--bcher-kva.example"),
        ("not a url", "'none'"),
        ("data:text/html,x", "'none'"),
    ] {
        assert_eq!(
            page_csp(issuer),
            format!("default-src 'none'; frame-ancestors {ancestors}"),
            "{issuer}"
        );
    }
}

use super::normalize_host;

#[test]
fn one_spelling_per_host_and_none_for_odd_ones() {
    for (raw, want) in [
        ("a.localhost:8080", Some("a.localhost:8080")),
        ("A.LocalHost:8080", Some("a.localhost:8080")),
        ("shop.example.com:443", Some("shop.example.com")),
        ("shop.example.com:80", Some("shop.example.com")),
        ("shop.example.com", Some("shop.example.com")),
        ("127.0.0.1:9000", Some("127.0.0.1:9000")),
        ("[::1]:9000", Some("[::1]:9000")),
        ("[::1]", Some("[::1]")),
        ("a.localhost:8080:443", None),
        ("a.localhost.", None),
        ("a.localhost.:8080", None),
        ("x@b.localhost", None),
        ("*", None),
        ("x:abc", None),
        ("x:99999", None),
        ("x:0", None),
        ("x:", None),
        ("", None),
        ("é.localhost", None),
        ("a..b", None),
        ("[::1", None),
        ("[nope]:1", None),
    ] {
        assert_eq!(normalize_host(raw).as_deref(), want, "{raw:?}");
    }
}

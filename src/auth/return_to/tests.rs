use super::sanitize;

#[test]
fn keeps_same_origin_paths() {
    for ok in [
        "/",
        "/x",
        "/deep/link?q=1&r=%2F#frag",
        "/a/b/",
        "/caf%C3%A9",
        "/x@y",
    ] {
        assert_eq!(sanitize(Some(ok)), ok, "{ok}");
    }
}

#[test]
fn refuses_open_redirects() {
    let long = format!("/{}", "a".repeat(5000));
    for bad in [
        "",
        "x",
        "//evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/%2f%2fevil.example",
        "/%2F/evil.example",
        "/%5cevil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "http:/evil",
        "/\tevil",
        "/ /evil",
        "/\n//evil",
        "/\u{0}x",
        "//user@evil.example",
        long.as_str(),
        "data:text/html,x",
        " /x",
    ] {
        assert_eq!(sanitize(Some(bad)), "/", "{bad:?}");
    }
    assert_eq!(sanitize(None), "/");
}

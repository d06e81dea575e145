use super::*;

fn route(prefix: &str, upstream: &str, strip: bool) -> Route {
    Route::new(
        &RouteConfig {
            strip_prefix: strip,
            timeout: Duration::from_secs(1),
            ..RouteConfig::plain(
                prefix,
                url::Url::parse(upstream).expect("url"),
                TokenPolicy::User,
            )
        },
        true,
        "test",
    )
}

#[test]
fn upstream_urls_keep_encoding() {
    let url = |r: &Route, path: &str, q: Option<&str>| r.upstream_url(path, 4, q).ok();
    let r = route("/api", "http://127.0.0.1:9200", false);
    assert_eq!(
        url(&r, "/api/a%2Fb/%E2%9C%93", Some("q=%20x&y")).as_deref(),
        Some("http://127.0.0.1:9200/api/a%2Fb/%E2%9C%93?q=%20x&y")
    );
    let r = route("/api", "http://127.0.0.1:9200/v1/", true);
    assert_eq!(
        url(&r, "/api/users", None).as_deref(),
        Some("http://127.0.0.1:9200/v1/users")
    );
    assert_eq!(
        url(&r, "/api", None).as_deref(),
        Some("http://127.0.0.1:9200/v1/")
    );
    assert_eq!(
        url(&r, "/api/x..y/.well-known/a.b", None).as_deref(),
        Some("http://127.0.0.1:9200/v1/x..y/.well-known/a.b")
    );
}

#[test]
fn dot_segments_cannot_climb_out_of_the_base_path() {
    let r = route("/api", "http://127.0.0.1:9200/v1/", true);
    for path in [
        "/api/../admin",
        "/api/./x",
        "/api/%2e%2e/admin",
        "/api/%2E%2e/admin",
        "/api/.%2e/admin",
        "/api/x/..",
        "/api/%2e",
        "/api/%2E%2e%2e/x/%2e%2e",
        "/api/..\\admin",
    ] {
        assert!(r.upstream_url(path, 4, None).is_err(), "{path}");
    }
    for path in [
        "/api/.../%2e%2e%2e",
        "/api/.env",
        "/api/a.b/c%2e",
        "/api/%2f",
    ] {
        assert!(r.upstream_url(path, 4, None).is_ok(), "{path}");
    }
}

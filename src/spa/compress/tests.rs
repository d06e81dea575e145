use actix_web::test::TestRequest;

use super::*;

fn accept(value: &str) -> Option<Coding> {
    let req = TestRequest::default()
        .insert_header((header::ACCEPT_ENCODING, value))
        .to_http_request();
    preferred(req.headers())
}

#[test]
fn brotli_wins_ties_and_q_values_are_honoured() {
    assert_eq!(accept("gzip, deflate, br, zstd"), Some(Coding::Brotli));
    assert_eq!(accept("gzip"), Some(Coding::Gzip));
    assert_eq!(accept("br;q=0.5, gzip;q=0.8"), Some(Coding::Gzip));
    assert_eq!(accept("br;q=0, gzip"), Some(Coding::Gzip));
    assert_eq!(accept("*"), Some(Coding::Brotli));
    assert_eq!(accept("*;q=0.1, br;q=0"), Some(Coding::Gzip));
    assert_eq!(accept("identity"), None);
    assert_eq!(accept("gzip;q=0"), None);
    assert_eq!(preferred(&HeaderMap::new()), None);
}

#[test]
fn only_plain_relative_paths_are_looked_up() {
    assert_eq!(
        safe_relative("/assets/app.js"),
        Some(PathBuf::from("assets/app.js"))
    );
    for hostile in [
        "/",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2E%2E/%2E%2E/x",
        "/.env",
        "/a/.git/config",
        "/a%5c..%5cb",
        "/a%00.js",
        "/%ff",
    ] {
        assert_eq!(safe_relative(hostile), None, "{hostile}");
    }
}

#[test]
fn text_types_are_compressible_and_media_is_not() {
    for t in [
        "text/html; charset=utf-8",
        "application/javascript",
        "image/svg+xml",
        "application/json",
    ] {
        assert!(is_text(t), "{t}");
    }
    for t in [
        "image/png",
        "font/woff2",
        "application/octet-stream",
        "application/zip",
    ] {
        assert!(!is_text(t), "{t}");
    }
}

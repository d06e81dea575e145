use super::is_fingerprinted;

#[test]
fn fingerprints() {
    for yes in [
        "/assets/index-BxK3n9aZ.js",
        "/app.3f9a2b1c.js",
        "/x/chunk-a1b2c3d4e5.css",
        "/font.0123456789.woff2",
    ] {
        assert!(is_fingerprinted(yes), "{yes}");
    }
    for no in [
        "/index.html",
        "/app.js",
        "/favicon.ico",
        "/assets/vendor-library.js",
        "/12345678",
        "/README",
    ] {
        assert!(!is_fingerprinted(no), "{no}");
    }
}

//! Serving the SPA: static files, caching headers, navigation fallback; or a dev server upstream.

use crate::common::http::get;
use crate::common::*;
use crate::hostile::raw_http::raw_response;

fn spa_dir() -> String {
    format!("{}/tests/fixtures/spa", env!("CARGO_MANIFEST_DIR"))
}

async fn start() -> (TestIdp, Proxy) {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("spa.dir", spa_dir())
        .start()
        .await;
    (idp, proxy)
}

#[actix_web::test]
async fn static_files_have_types_etags_and_caching_rules() {
    let (_idp, proxy) = start().await;
    let res = get(&proxy.url("/app.js"), &[]).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .contains("javascript")
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let etag = res.headers()["etag"].to_str().expect("ascii").to_owned();
    let res = get(&proxy.url("/app.js"), &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 304, "revalidation with the ETag");

    let res = get(&proxy.url("/style.css"), &[]).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/css")
    );

    let res = get(&proxy.url("/assets/main-3f9a2b1c.js"), &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    for path in ["/", "/index.html"] {
        let res = get(&proxy.url(path), &[("accept", "text/html")]).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert!(res.text().await.expect("body").contains("fixture-index"));
    }
}

#[actix_web::test]
async fn navigations_fall_back_to_index_but_assets_404() {
    let (_idp, proxy) = start().await;
    let res = get(
        &proxy.url("/orders/42?tab=2"),
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(res.text().await.expect("body").contains("fixture-index"));

    for (path, accept) in [
        ("/missing.js", "*/*"),
        ("/assets/gone-1234abcd.js", "*/*"),
        ("/orders/42", "application/json"),
    ] {
        let res = get(&proxy.url(path), &[("accept", accept)]).await;
        assert_eq!(res.status(), 404, "{path} with Accept {accept}");
    }
    // Auth and health endpoints are not shadowed by the SPA.
    assert_eq!(
        get(&proxy.url("/healthz"), &[("accept", "text/html")])
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&proxy.url("/auth/session"), &[("accept", "text/html")])
            .await
            .status(),
        403
    );
}

#[actix_web::test]
async fn a_dev_server_upstream_is_proxied_with_its_websocket() {
    let idp = TestIdp::start().await;
    let dev = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("spa.upstream", dev.url())
        .start()
        .await;
    // No anti-CSRF header needed for the SPA itself; no token either.
    let res = get(&proxy.url("/src/main.ts?v=1"), &[]).await;
    assert_eq!(res.status(), 200);
    let seen: serde_json::Value = res.json().await.expect("json");
    assert_eq!(seen["path"], "/src/main.ts");
    assert_eq!(seen["query"], "v=1");
    assert!(seen["headers"].get("authorization").is_none());
    // Hot-reload WebSocket.
    use futures_util::StreamExt;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(proxy.url("/hmr/ws").replace("http://", "ws://"))
            .await
            .expect("dev server websocket through the proxy");
    let first = ws.next().await.expect("message").expect("ok");
    assert_eq!(
        first.into_text().expect("text").as_str(),
        "authorization: none"
    );
}

/// An SPA build in a fresh directory: a fingerprinted bundle with `.br` and `.gz` siblings, a
/// text bundle without, a tiny script, an image; and beside the directory, a secret with a
/// `.br` sibling that must never be reachable.
struct Build {
    _root: tempdir::Dir,
    dir: String,
    bundle: Vec<u8>,
    plain: Vec<u8>,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn js(kib: usize, seed: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < kib * 1024 {
        out.push_str(&format!(
            "export function {seed}{i}(a, b) {{ return a * {i} + b; }}\n"
        ));
        i += 1;
    }
    out.into_bytes()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("brotli");
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn unbrotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &data[..], &mut out).expect("valid brotli");
    out
}

fn ungzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

fn build() -> Build {
    let root =
        std::env::temp_dir().join(format!("vestibule-spa-{}", uuid::Uuid::new_v4().simple()));
    let dir = root.join("dist");
    std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
    let write = |p: &std::path::Path, b: &[u8]| std::fs::write(p, b).expect("write");
    write(
        &dir.join("index.html"),
        b"<!doctype html><title>fixture-index</title>",
    );
    let bundle = js(1024, "f");
    write(&dir.join("assets/app.3f9a2b1c.js"), &bundle);
    write(&dir.join("assets/app.3f9a2b1c.js.br"), &brotli(&bundle));
    write(&dir.join("assets/app.3f9a2b1c.js.gz"), &gzip(&bundle));
    let plain = js(64, "g");
    write(&dir.join("assets/plain.js"), &plain);
    write(&dir.join("assets/tiny.js"), b"console.log(1);\n");
    write(&dir.join("assets/logo.png"), &[0x89u8; 4096]);
    write(&root.join("secret.txt"), b"top secret");
    write(&root.join("secret.txt.br"), &brotli(b"top secret"));
    Build {
        dir: dir.display().to_string(),
        _root: tempdir::Dir(root),
        bundle,
        plain,
    }
}

async fn start_with(build: &Build) -> (TestIdp, Proxy) {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("spa.dir", build.dir.as_str())
        .start()
        .await;
    (idp, proxy)
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii"))
        .unwrap_or("")
}

#[actix_web::test]
async fn a_precompressed_sibling_is_served_with_its_encoding_and_its_own_etag() {
    let b = build();
    let (_idp, proxy) = start_with(&b).await;
    let url = proxy.url("/assets/app.3f9a2b1c.js");
    let mut etags = Vec::new();
    for (accept, encoding) in [
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("identity", ""),
    ] {
        let res = get(&url, &[("accept-encoding", accept)]).await;
        assert_eq!(res.status(), 200, "{accept}");
        assert_eq!(header(&res, "content-encoding"), encoding, "{accept}");
        assert!(
            header(&res, "content-type").contains("javascript"),
            "{accept}"
        );
        assert_eq!(
            header(&res, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        if !encoding.is_empty() {
            assert!(
                header(&res, "vary")
                    .to_ascii_lowercase()
                    .contains("accept-encoding")
            );
            // Not offered as a download named `….js.br`.
            assert!(header(&res, "content-disposition").is_empty(), "{accept}");
        }
        let etag = header(&res, "etag").to_owned();
        let body = res.bytes().await.expect("body").to_vec();
        let decoded = match encoding {
            "br" => unbrotli(&body),
            "gzip" => ungzip(&body),
            _ => body.clone(),
        };
        assert_eq!(decoded, b.bundle, "{accept}: the bundle, whole");
        etags.push((accept, etag));
    }
    assert_ne!(etags[0].1, etags[1].1, "one ETag per encoding");
    assert_ne!(etags[0].1, etags[2].1, "one ETag per encoding");
    // Revalidation: each encoding's ETag gets its 304, another's does not.
    let (accept, br_etag) = &etags[0];
    let res = get(
        &url,
        &[("accept-encoding", accept), ("if-none-match", br_etag)],
    )
    .await;
    assert_eq!(res.status(), 304);
    let res = get(
        &url,
        &[("accept-encoding", "identity"), ("if-none-match", br_etag)],
    )
    .await;
    assert_eq!(
        res.status(),
        200,
        "the identity file is another representation"
    );
}

#[actix_web::test]
async fn text_without_a_sibling_is_compressed_on_the_fly_above_a_kilobyte_only() {
    let b = build();
    let (_idp, proxy) = start_with(&b).await;
    let url = proxy.url("/assets/plain.js");
    let res = get(&url, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-encoding"), "br");
    assert!(
        header(&res, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let etag = header(&res, "etag").to_owned();
    assert!(
        etag.starts_with("W/\""),
        "an encoded representation's ETag is weak: {etag}"
    );
    let body = res.bytes().await.expect("body");
    assert!(
        body.len() < b.plain.len() / 4,
        "{} of {}",
        body.len(),
        b.plain.len()
    );
    assert_eq!(unbrotli(&body), b.plain);
    let res = get(&url, &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&res, "content-encoding"), "gzip");
    assert_eq!(ungzip(&res.bytes().await.expect("body")), b.plain);
    // The weak ETag revalidates.
    let res = get(
        &url,
        &[("accept-encoding", "gzip, br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(res.status(), 304);
    // Not accepted, too small, or not text: as it is.
    let res = get(&url, &[]).await;
    assert_eq!(header(&res, "content-encoding"), "");
    assert_eq!(res.bytes().await.expect("body").len(), b.plain.len());
    for small_or_binary in ["/assets/tiny.js", "/assets/logo.png"] {
        let res = get(
            &proxy.url(small_or_binary),
            &[("accept-encoding", "gzip, br")],
        )
        .await;
        assert_eq!(res.status(), 200, "{small_or_binary}");
        assert_eq!(header(&res, "content-encoding"), "", "{small_or_binary}");
    }
}

#[actix_web::test]
async fn api_answers_and_event_streams_are_never_compressed_by_vestibule() {
    let b = build();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("spa.dir", b.dir.as_str())
        .route(api.api_route("none"))
        .start()
        .await;
    let mut browser = Browser::signed_in(&proxy, &idp).await;
    // The echo answers JSON (a type the SPA's files are compressed in) holding this header: far
    // over the on-the-fly threshold.
    let padding = "a".repeat(8 * 1024);
    let res = browser
        .api_get(
            &proxy,
            "/api/x",
            &[("accept-encoding", "gzip, br"), ("x-padding", &padding)],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/json");
    assert_eq!(
        header(&res, "content-encoding"),
        "",
        "the upstream's JSON as it sent it"
    );
    let body: serde_json::Value = res.json().await.expect("plain JSON");
    assert_eq!(body["headers"]["x-padding"], padding.as_str());

    // A compressing encoder would hold events back until its buffer fills.
    let res = browser
        .get_with(
            &proxy.url("/auth/events"),
            &[("x-csrf", "1"), ("accept-encoding", "gzip, br")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        header(&res, "content-type").starts_with("text/event-stream"),
        "{:?}",
        res.headers()
    );
    assert_eq!(header(&res, "content-encoding"), "", "the event stream");
}

/// Requests that a client library would have normalised, so the bytes go out as written.
#[actix_web::test]
async fn a_sibling_outside_the_spa_directory_is_never_served() {
    let b = build();
    let (_idp, proxy) = start_with(&b).await;
    let secret_br = brotli(b"top secret");
    // Dot segments name no file of the directory (404); an encoded slash or a backslash makes
    // no path at all (400).
    for (path, expected) in [
        ("/../secret.txt", 404),
        ("/%2e%2e/secret.txt", 404),
        ("/.%2e/secret.txt", 404),
        ("/assets/%2e%2e/%2e%2e/secret.txt", 404),
        ("/assets/../../secret.txt", 404),
        ("/assets/..%2f..%2fsecret.txt", 400),
        ("/%2e%2e%2fsecret.txt", 400),
        ("/..%5csecret.txt", 400),
        ("/assets/..\\..\\secret.txt", 400),
    ] {
        for encoding in ["br", "identity"] {
            let case = format!("{path} ({encoding})");
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: app\r\nAccept: */*\r\nAccept-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
            );
            let (status, answer) = raw_response(&proxy, request.as_bytes());
            assert_eq!(status, expected, "{case}: {answer}");
            assert!(!answer.contains("top secret"), "{case}: {answer}");
            assert!(
                !answer.to_ascii_lowercase().contains("content-encoding"),
                "{case}: {answer}"
            );
            // The answer is read as text: compare the lossy form of the sibling's bytes too.
            assert!(
                !answer.contains(String::from_utf8_lossy(&secret_br).as_ref()),
                "{case}: the brotli sibling"
            );
        }
    }
    // Control: the same raw request reaches a file inside the directory.
    let (status, answer) = raw_response(
        &proxy,
        b"GET /assets/tiny.js HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("console.log(1);"), "{answer}");
}

//! Serving the SPA: static files, caching headers, navigation fallback; or a dev server upstream.

use crate::common::http::get;
use crate::common::*;

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

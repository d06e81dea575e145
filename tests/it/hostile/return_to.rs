//! `return_to` values that try to leave the app's origin: all fall back to `/`.

use super::World;
use crate::common::*;

#[actix_web::test]
async fn return_to_bypasses_fall_back_to_root() {
    let w = World::new(false, &[]).await;
    let long = format!("/{}", "a".repeat(5_000));
    let table: Vec<(&str, &str)> = vec![
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\/evil.example", "/"),
        ("/\\/evil.example", "/"),
        ("/%2f%2fevil.example", "/"),
        ("/%2F/evil.example", "/"),
        ("/%5c%5cevil.example", "/"),
        ("%2f%2fevil.example", "/"),
        ("https://evil.example", "/"),
        ("HTTPS://evil.example", "/"),
        ("http:evil.example", "/"),
        ("//user@evil.example", "/"),
        ("https://app@evil.example", "/"),
        ("@evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("JaVaScRiPt:alert(1)", "/"),
        ("data:text/html,<script>alert(1)</script>", "/"),
        ("/\t/evil.example", "/"),
        ("/\r\n/evil.example", "/"),
        ("/\r\nSet-Cookie: vestibule=x", "/"),
        ("/\u{0}evil", "/"),
        ("\u{1f}//evil.example", "/"),
        (" //evil.example", "/"),
        ("/\u{2028}/evil.example", "/"),
        (long.as_str(), "/"),
        // Controls: same-origin paths survive, encoded bytes stay encoded.
        ("/deep/link?q=1#top", "/deep/link?q=1#top"),
        ("/x@evil.example", "/x@evil.example"),
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),
    ];
    for (given, expected) in table {
        let mut b = Browser::new();
        let res = b.log_in(&w.proxy, &w.idp, Tweak::None, given).await;
        assert_eq!(res.status(), 302, "{given:?}");
        assert_eq!(res.headers()["location"], expected, "return_to {given:?}");
        assert_eq!(
            res.headers().get_all("set-cookie").iter().count(),
            1,
            "{given:?}"
        );
    }
    w.proxy.assert_still_serving().await;
}

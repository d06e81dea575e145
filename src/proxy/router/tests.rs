use std::time::Duration;

use super::*;
use crate::config::{RouteConfig, TokenPolicy};

fn route(prefix: &str, strip: bool, allow_encoded_slash: bool) -> Arc<Route> {
    Arc::new(Route::new(
        &RouteConfig {
            strip_prefix: strip,
            allow_encoded_slash,
            timeout: Duration::from_secs(1),
            ..RouteConfig::plain(
                prefix,
                url::Url::parse("http://127.0.0.1:9200/base").expect("url"),
                TokenPolicy::User,
            )
        },
        true,
        "test",
    ))
}

/// The README's nesting: `/api` with stricter `/api/admin` and `/api/payments` under it.
fn router() -> Router {
    Router::new(vec![
        route("/api", false, false),
        route("/api/admin", false, false),
        route("/api/payments", true, false),
        route("/files", true, true),
    ])
}

fn chosen(r: &Router, raw: &str) -> Option<(String, Result<usize, PathError>)> {
    r.route(raw).map(|d| (d.route.prefix.clone(), d.verdict))
}

#[test]
fn the_longest_prefix_of_the_folded_path_wins() {
    let r = router();
    // (The verdict is where the prefix ends in the raw path.)
    assert_eq!(chosen(&r, "/api/x"), Some(("/api".into(), Ok(4))));
    assert_eq!(
        chosen(&r, "/api/admin/x"),
        Some(("/api/admin".into(), Ok(10)))
    );
    assert_eq!(chosen(&r, "/api/adminx"), Some(("/api".into(), Ok(4))));
    assert_eq!(chosen(&r, "/other"), None);
    assert_eq!(chosen(&r, "/apix"), None);
}

#[test]
fn no_spelling_of_a_stricter_path_gets_the_looser_route() {
    let r = router();
    for raw in [
        "/api/ADMIN/x",
        "/api/Admin/x",
        "/API/admin/x",
        "/api/%61dmin/x",
        "/api//admin/x",
        "/api/admin%2Fx",
        "/api/admin;x/x",
        "/api/admin./x",
        "/api/admin%20/x",
        "/api/x/..%2Fadmin",
        "/api/x/..%5Cadmin",
    ] {
        let (prefix, _) = chosen(&r, raw).expect("an API path");
        assert_eq!(prefix, "/api/admin", "{raw}");
    }
    for raw in ["/api/PAYMENTS/x", "/api/payment%73/x"] {
        let (prefix, verdict) = chosen(&r, raw).expect("an API path");
        assert_eq!(prefix, "/api/payments", "{raw}");
        assert!(
            verdict.is_ok(),
            "{raw}: plain spellings are forwarded as sent"
        );
    }
    // Refused spellings are refused whatever route they fold onto.
    assert!(chosen(&r, "/api//admin/x").expect("api").1.is_err());
    // A dot segment makes a path an API path when either reading is one.
    for raw in [
        "/API/../secret",
        "/files/..%2Fsecret",
        "/static/../api/admin/x",
    ] {
        let (_, verdict) = chosen(&r, raw).expect("an API path");
        assert_eq!(verdict, Err(PathError::DotSegment), "{raw}");
    }
}

#[test]
fn strip_prefix_cuts_the_raw_path_after_the_prefix_segments() {
    let r = router();
    // `/api/PAYMENTS/x`: cut after two raw segments, whatever their case or encoding.
    assert_eq!(chosen(&r, "/api/PAYMENTS/x").map(|c| c.1), Some(Ok(13)));
    assert_eq!(chosen(&r, "/api/payment%73/x").map(|c| c.1), Some(Ok(15)));
    assert_eq!(chosen(&r, "/api/payments").map(|c| c.1), Some(Ok(13)));
    // An allowed encoded slash after the prefix is forwarded; inside the prefix it cannot be cut.
    assert_eq!(chosen(&r, "/files/a%2Fb").map(|c| c.1), Some(Ok(6)));
    assert_eq!(
        chosen(&r, "/files%2Fa").map(|c| c.1),
        Some(Err(PathError::EncodedSlash))
    );
}

#[test]
fn the_plain_path_shortcut_decides_as_the_full_reading_does() {
    let r = router();
    for raw in [
        "/",
        "/api",
        "/api/",
        "/api/x",
        "/API/Admin/x/",
        "/api/admin",
        "/api/adminx",
        "/api/payments/x.json",
        "/files/a-b_c~d/e(1)",
        "/other/x",
        "/apix",
    ] {
        assert!(is_plain(raw), "{raw}");
        let full = r
            .route_by_reading(raw)
            .map(|d| (d.route.prefix.clone(), d.verdict));
        assert_eq!(chosen(&r, raw), full, "{raw}");
    }
    for raw in [
        "/api//x",
        "/api/./x",
        "/api/../x",
        "/api/x.",
        "/api/%61",
        "/api/a;b",
        "/api/a\\b",
        "/api/a b",
        "/api/\u{e9}",
        "api",
    ] {
        assert!(!is_plain(raw), "{raw}");
    }
}

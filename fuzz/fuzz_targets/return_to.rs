//! The `return_to` sanitiser: whatever the input, the result is the input itself or `/`, and a
//! kept value is a path that stays on the app's origin, whichever way a browser resolves it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vestibule::auth::return_to::sanitize;
use vestibule::support::path::MAX_SAME_ORIGIN as MAX_LEN;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let out = sanitize(Some(raw));
    if out == "/" {
        return;
    }
    assert_eq!(out, raw, "a kept return_to is never rewritten");
    assert!(out.len() <= MAX_LEN);
    assert!(out.starts_with('/') && !out.starts_with("//"), "{out:?}");
    assert!(!out.contains('\\'), "browsers read `\\` as `/`: {out:?}");
    assert!(
        !out.chars().any(|c| c.is_control() || c.is_whitespace()),
        "{out:?}"
    );
    // Resolved against the app, from the root and from a deep page, it stays on the app.
    for base in [
        "https://app.example.com/",
        "https://app.example.com/a/b/c?q#f",
    ] {
        let base = url::Url::parse(base).expect("static base URL");
        let joined = base.join(&out).expect("a kept return_to resolves");
        assert_eq!(joined.host_str(), Some("app.example.com"), "{out:?}");
        assert_eq!(joined.scheme(), "https");
        assert!(joined.username().is_empty() && joined.password().is_none());
    }
});

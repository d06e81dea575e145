//! The canonical path (`proxy::path`): whatever the bytes, no panic; and a path it accepts reads
//! the same to every kind of server. The oracle is independent of the implementation: the
//! `percent-encoding` crate decodes, and the `url` crate (a WHATWG URL parser, as browsers and
//! many servers normalise) must leave an accepted path exactly as it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vestibule::proxy::path::Canonical;
use vestibule::support::path::is_plain;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // A request target's path: starts with `/`, no `?` or `#`, no raw space or control.
    if !raw.starts_with('/')
        || raw.contains(['?', '#'])
        || raw.chars().any(|c| c.is_control() || c == ' ')
    {
        return;
    }
    let path = Canonical::new(raw);
    let _ = path.resolved();
    // The router's shortcut for plain paths must decide as the full reading does.
    if is_plain(raw) {
        assert_eq!(path.check(false), Ok(()), "a plain path has no flaw: {raw:?}");
        assert_eq!(path.folded(), raw.to_ascii_lowercase(), "{raw:?}");
    }
    if path.check(false).is_err() {
        return;
    }
    // Accepted: a URL parser does not rewrite it (no dot segments, no `\`, in any spelling).
    let base = url::Url::parse("http://h/").expect("static base URL");
    let parsed = base.join(raw).expect("an accepted path parses");
    // (It may percent-encode characters such as `"`; compare what the two spellings mean.)
    let meaning = |p: &str| percent_encoding::percent_decode_str(p).collect::<Vec<u8>>();
    assert_eq!(
        meaning(parsed.path()),
        meaning(raw),
        "an accepted path is not normalised by a URL parser: {raw:?}"
    );
    // Decoded once, it has nothing servers read differently.
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let body = &decoded[1..];
    let segments: Vec<&str> = body.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        assert!(!seg.is_empty() || i + 1 == segments.len(), "empty segment: {raw:?}");
        assert!(*seg != "." && *seg != "..", "dot segment: {raw:?}");
        assert!(!seg.ends_with(['.', ' ']), "trailing dot or space: {raw:?}");
    }
    assert!(!decoded.contains([';', '\\']), "{raw:?}");
    assert!(!decoded.chars().any(char::is_control), "{raw:?}");
    // Decoded twice, no slash, backslash, dot segment or parameter appears either.
    let twice = percent_encoding::percent_decode_str(&decoded).decode_utf8_lossy();
    assert_eq!(
        twice.matches(['/', '\\', ';']).count(),
        decoded.matches(['/', '\\', ';']).count(),
        "a double-encoded special character: {raw:?}"
    );
    // For ASCII, the folded reading is the decoded path in lower case: routes see what
    // upstreams see.
    if decoded.is_ascii() && !decoded.contains('%') {
        assert_eq!(path.folded(), decoded.to_ascii_lowercase(), "{raw:?}");
    }
});

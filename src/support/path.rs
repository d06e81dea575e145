//! Rules about URL paths that more than one layer applies: the config checks them on what the
//! operator wrote, the request handlers on what browsers send.

/// Longest same-origin path kept (a `return_to`); longer ones are refused.
pub const MAX_SAME_ORIGIN: usize = 2048;

/// Whether `p` is a safe same-origin path (`/x?y`): the only `return_to` kept, and the only
/// `oidc.post_logout_path` accepted.
///
/// Refused: protocol-relative `//host` and `/\host` (browsers treat `\` as `/`), any scheme,
/// control characters and whitespace, backslashes anywhere, and encoded slashes or backslashes
/// at the start (`/%2f`, `/%5c`) that a later decode could turn into `//`.
pub fn is_same_origin(p: &str) -> bool {
    if p.is_empty() || p.len() > MAX_SAME_ORIGIN || !p.starts_with('/') {
        return false;
    }
    if p.chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let rest = &p[1..];
    if rest.starts_with('/') {
        return false;
    }
    let lower = rest.to_ascii_lowercase();
    if lower.starts_with("%2f") || lower.starts_with("%5c") {
        return false;
    }
    // Must parse as a path relative to some origin and stay on it.
    match url::Url::parse("http://vestibule.invalid").and_then(|base| base.join(p)) {
        Ok(u) => u.host_str() == Some("vestibule.invalid") && u.username().is_empty(),
        Err(_) => false,
    }
}

/// Whether `raw` is a plain path: ASCII letters, digits and `-_~!$&'()*+,=:@./` only, no empty
/// segment but a trailing one, no `.`/`..` segment, no segment ending in `.`. Such a path has no
/// flaw and every server reads it alike but for case: its folded reading is its ASCII lower
/// case, so routes can be matched on it as it is (no decoding, no allocation: nearly every API
/// call takes this way).
pub fn is_plain(raw: &str) -> bool {
    let b = raw.as_bytes();
    if b.first() != Some(&b'/') {
        return false;
    }
    let mut seg_start = 1;
    for i in 1..=b.len() {
        let end = i == b.len() || b[i] == b'/';
        if end {
            let seg = &b[seg_start..i];
            let last = i == b.len();
            let bad = (seg.is_empty() && !last)
                || seg == b"."
                || seg == b".."
                || seg.last() == Some(&b'.');
            if bad {
                return false;
            }
            seg_start = i + 1;
            continue;
        }
        let c = b[i];
        let ok = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'='
                    | b':'
                    | b'@'
                    | b'.'
            );
        if !ok {
            return false;
        }
    }
    true
}

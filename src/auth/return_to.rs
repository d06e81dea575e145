//! `return_to` sanitising: only same-origin relative paths survive; anything else becomes `/`.

/// Longest `return_to` kept; longer ones fall back to `/`.
pub const MAX_LEN: usize = 2048;

/// Returns `raw` when it is a safe same-origin path (`/x?y`), else `/`.
///
/// Refused: protocol-relative `//host` and `/\host` (browsers treat `\` as `/`), any scheme,
/// control characters and whitespace, backslashes anywhere, and encoded slashes or backslashes
/// at the start (`/%2f`, `/%5c`) that a later decode could turn into `//`.
pub fn sanitize(raw: Option<&str>) -> String {
    match raw {
        Some(p) if is_safe(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_safe(p: &str) -> bool {
    if p.is_empty() || p.len() > MAX_LEN || !p.starts_with('/') {
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

#[cfg(test)]
mod tests;

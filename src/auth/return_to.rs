//! `return_to` sanitising: only same-origin relative paths survive; anything else becomes `/`.
//! The rule itself (`support::path::is_same_origin`) is shared with the config check of
//! `oidc.post_logout_path`.

use crate::support::path::is_same_origin;

/// Returns `raw` when it is a safe same-origin path (`/x?y`, see [`is_same_origin`]), else `/`.
pub fn sanitize(raw: Option<&str>) -> String {
    match raw {
        Some(p) if is_same_origin(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests;

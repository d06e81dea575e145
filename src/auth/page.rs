//! [`PageError`]: an [`AuthError`] shown to a person (the login, callback and logout
//! navigations), as a short HTML page with a way back to the app. Its status and code are
//! `crate::error`'s to decide, as for every error; the page itself is written here.

use super::AuthError;

/// An [`AuthError`] shown to a person: a short HTML page with a way back to the app.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub AuthError);

impl PageError {
    /// The page's HTML: the error's public description and its code.
    pub fn html(code: &str, description: &str) -> String {
        format!(
            "<!doctype html><meta charset=utf-8><title>Sign-in problem</title>\
             <h1>Sign-in did not complete</h1><p>{}</p><p><code>{code}</code></p>\
             <p><a href=\"/\">Back to the application</a></p>",
            html_escape(description)
        )
    }
}

/// `s` as HTML text or a quoted attribute value.
pub(super) fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

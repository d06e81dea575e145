//! Reading the query string of an auth request: leniently (a malformed query never fails the
//! request), and refusing repeated security parameters (parameter pollution).

use actix_web::HttpRequest;

use super::AuthError;

/// The first value of `name`, and whether it appeared more than once.
pub(super) fn query_param(req: &HttpRequest, name: &str) -> (Option<String>, bool) {
    let mut values = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    let first = values.next();
    let more = values.next().is_some();
    (first, more)
}

/// One query parameter that must not be repeated: `state`, `code`, `iss`, `error`.
pub(super) fn single(req: &HttpRequest, name: &'static str) -> Result<Option<String>, AuthError> {
    match query_param(req, name) {
        (_, true) => Err(AuthError::DuplicateParam(name)),
        (v, false) => Ok(v),
    }
}

//! The auth endpoints under `[server] auth_prefix` (default `/auth`):
//! `login` (start), `callback` (finish), `session` (who is signed in), `logout`, and
//! `backchannel-logout` (the IdP ending sessions server to server).

mod backchannel;
mod callback;
mod login;
mod logout;
pub mod return_to;
mod session_info;

use actix_web::{HttpRequest, web};

use crate::AppState;
use crate::oidc::OidcError;
use crate::session::{PendingError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or wrong anti-CSRF header")]
    Csrf,
    #[error("no live session")]
    Unauthenticated,
    #[error("missing `state` parameter")]
    MissingState,
    #[error("missing `code` parameter")]
    MissingCode,
    #[error("the `{0}` parameter appears more than once")]
    DuplicateParam(&'static str),
    #[error("{0}")]
    Pending(#[from] PendingError),
    #[error("the identity provider answered `{error}`")]
    Idp {
        error: String,
        description: Option<String>,
    },
    #[error("{0}")]
    Oidc(#[from] OidcError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("missing or wrong logout token")]
    LogoutToken,
}

/// Registers the auth endpoints under `prefix`.
pub fn configure(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.service(
        web::scope(prefix)
            .route("/login", web::get().to(login::login))
            .route("/callback", web::get().to(callback::callback))
            .route("/session", web::get().to(session_info::session))
            .route("/logout", web::get().to(logout::logout))
            .route(
                "/backchannel-logout",
                web::post().to(backchannel::backchannel_logout),
            ),
    );
}

/// The anti-CSRF check: the configured header must be present with value `1`. A custom header
/// cannot be sent cross-site without a CORS preflight, which Vestibule never grants.
pub fn has_csrf_header(state: &AppState, req: &HttpRequest) -> bool {
    req.headers()
        .get(state.config.server.csrf_header.as_str())
        .is_some_and(|v| v.as_bytes() == b"1")
}

/// Query parameters, decoded leniently (a malformed query never fails the request). Returns the
/// first value of `name` and whether it appeared more than once.
pub(crate) fn query_param(req: &HttpRequest, name: &str) -> (Option<String>, bool) {
    let mut values = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    let first = values.next();
    let more = values.next().is_some();
    (first, more)
}

//! The auth endpoints under `[server] auth_prefix` (default `/auth`):
//! `login` (start), `callback` (finish), `session` (who is signed in), `logout`, and
//! `backchannel-logout` (the IdP ending sessions server to server).

mod backchannel;
mod callback;
mod login;
mod logout;
pub mod return_to;
mod session_info;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, web};

use crate::AppState;
use crate::oidc::OidcError;
use crate::session::{PendingError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or wrong anti-CSRF header")]
    Csrf,
    #[error("the request did not come from a page of this application's origin")]
    CrossSite,
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

/// What the auth endpoints' own pages may load and who may frame them: nothing, nobody.
pub const PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Registers the auth endpoints under `prefix`. Every answer from them (errors and unknown
/// paths included) is uncacheable, cannot be framed, and sends no `Referer` onwards: the callback
/// URL carries a code and the logout URL a token, and neither may reach a cache or another site.
pub fn configure(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.service(
        web::scope(prefix)
            .wrap(
                DefaultHeaders::new()
                    .add((header::CACHE_CONTROL, "no-store"))
                    .add((header::PRAGMA, "no-cache"))
                    .add((header::REFERRER_POLICY, "no-referrer"))
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::CONTENT_SECURITY_POLICY, PAGE_CSP)),
            )
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

/// Which browser navigations a state-changing endpoint accepts besides same-origin requests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// Also a URL the user typed or bookmarked (`Sec-Fetch-Site: none`).
    Allowed,
    /// Same-origin only (`fetch` from the SPA).
    Refused,
}

/// The second CSRF check, on top of the anti-CSRF header or logout token: what the browser says
/// about where the request comes from. `Sec-Fetch-Site`, when sent, must be `same-origin`
/// (`same-site` is refused too: a sibling subdomain is another application); `Origin`, when sent,
/// must be exactly `public_url`. Clients that are not browsers send neither and pass this check.
pub fn from_own_origin(state: &AppState, req: &HttpRequest, typed: Typed) -> bool {
    let headers = req.headers();
    let site_ok = match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        None | Some(b"same-origin") => true,
        Some(b"none") => typed == Typed::Allowed,
        Some(_) => false,
    };
    let origin_ok = headers.get(header::ORIGIN).is_none_or(|o| {
        let own = state
            .config
            .server
            .public_url
            .as_str()
            .trim_end_matches('/');
        o.as_bytes() == own.as_bytes()
    });
    site_ok && origin_ok
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

//! The auth endpoints under `[server] auth_prefix` (default `/auth`), one file each:
//! - `login`: `GET /auth/login`, step (A), off to the IdP;
//! - `callback`: `GET /auth/callback`, steps (C) to (E), a new session;
//! - `session_info`: `GET /auth/session`, who is signed in, for the SPA;
//! - `logout`: `GET /auth/logout`, ending the session here and at the IdP;
//! - `backchannel`: `POST /auth/backchannel-logout`, the IdP ending sessions server to server;
//! - `sessions`: `GET /auth/sessions`, `DELETE /auth/sessions/{handle}`,
//!   `POST /auth/sessions/end-others`, the user's own sessions;
//! - `events`: `GET /auth/events`, the SPA's stream of session events;
//!
//! and beside them [`AuthError`] (`error`), [`PageError`] (`page`: an error as a page for a
//! person), the query-string reader (`query`), the login parameters an SPA may pass to the IdP
//! (`login_params`), the [`return_to`] sanitiser and [`listed_json`] (`listed`: a listed session
//! as JSON, which the admin API answers with too). Where requests may come from is
//! `crate::csrf`'s to decide.

mod backchannel;
mod callback;
mod error;
mod events;
mod listed;
mod login;
mod login_params;
mod login_rate;
mod logout;
mod page;
mod query;
pub mod return_to;
mod session_info;
mod sessions;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use error::AuthError;
pub use listed::listed_json;
pub use login_rate::LoginRate;
pub use page::PageError;

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
            .route("/sessions", web::get().to(sessions::list))
            .route("/sessions/end-others", web::post().to(sessions::end_others))
            .route("/sessions/{handle}", web::delete().to(sessions::end_one))
            .route("/events", web::get().to(events::events))
            .route("/logout", web::get().to(logout::logout))
            .route(
                "/backchannel-logout",
                web::post().to(backchannel::backchannel_logout),
            ),
    );
}

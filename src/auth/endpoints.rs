//! Where the `/auth` endpoints are registered, and the headers every answer from them carries.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

use super::{backchannel, callback, events, login, logout, session_info, sessions};

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

//! Where the `/auth` endpoints are registered, and the headers every answer from them carries.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{HttpResponse, web};

use super::{
    AuthError, backchannel, callback, check, events, frontchannel, login, logout, session_info,
    sessions,
};

/// What the auth endpoints' own pages may load and who may frame them: nothing, nobody.
pub const PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Registers the auth endpoints under `prefix`. Every answer from them (errors and unknown
/// paths included) is uncacheable, cannot be framed, and sends no `Referer` onwards: the callback
/// URL carries a code and the logout URL a token, and neither may reach a cache or another site.
/// The one exception to framing is the front-channel logout page, which the IdP frames.
pub fn configure(cfg: &mut web::ServiceConfig, prefix: &str) {
    // Before the scope, whose headers would let nobody frame it.
    cfg.service(
        web::resource(format!("{prefix}/frontchannel-logout"))
            .wrap(from_fn(framed_as_said))
            .wrap(private())
            .route(web::get().to(frontchannel::frontchannel_logout))
            .default_service(web::to(get_only)),
    );
    cfg.service(
        web::scope(prefix)
            .wrap(
                private()
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
            // Any method: an Envoy check comes with the original request's, and its path after
            // the check's own (see `forwarded`).
            .route("/check", web::to(check::check))
            .route("/check/{original:.*}", web::to(check::check))
            .route("/logout", web::get().to(logout::logout))
            .route(
                "/backchannel-logout",
                web::post().to(backchannel::backchannel_logout),
            ),
    );
}

/// Uncacheable, no `Referer` onwards, no sniffing.
fn private() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::PRAGMA, "no-cache"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// An answer that says who may frame it (a `Content-Security-Policy` of its own) is left as it
/// is; any other (an error, a 405) is framed by nobody, as in the scope.
async fn framed_as_said(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    Ok(res)
}

/// Any method but GET on a GET-only endpoint.
async fn get_only() -> Result<HttpResponse, AuthError> {
    Err(AuthError::MethodNotAllowed("GET"))
}

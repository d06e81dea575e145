//! `GET /auth/check` (and `/auth/check/{path}`): forward-auth. A gateway in front of its own
//! upstreams (nginx `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`, Envoy
//! `ext_authz`) asks, before it forwards a request, whether to: Vestibule judges that request
//! as the proxy would judge the same call on the same route, and answers
//!
//! - 200, with the headers the gateway copies onto the request it forwards ([`granted`]);
//! - 401 `unauthenticated` with a `login_url` (and, for a page being opened, the same URL in
//!   `Vestibule-Login`, which the gateway turns into a redirect; never a `Location`: a gateway
//!   would forward a 3xx to its upstream's caller as it is, and an API call wants its 401);
//! - 401 `insufficient_user_authentication` (step-up), 403 `forbidden` (the route's rule),
//!   403 `csrf_header_required`/`cross_site_request`, 405, as the proxy answers;
//! - 403 `no_route` for a path no route covers: nothing says who may call it, so no one may;
//! - 400 for a check that cannot be judged: from a peer that is not a trusted proxy
//!   (`untrusted_proxy`), or without a clear account of the request (`bad_forwarded_request`),
//!   or for a path spelled in a way servers read differently (`bad_request`).
//!
//! Which request is checked is only ever the gateway's word (`forwarded`); the session is the
//! browser's cookie, which the gateway passes on. No upstream is called: the answer comes from
//! the session (cached), with a token refreshed first when it is due, as for a proxied call.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::{CheckError, forwarded, return_to};
use crate::CurrentApp;
use crate::proxy::{Admission, Call, ProxyError, Route, admit, identity_for_caller};
use crate::session::RefreshError;
use crate::{AppState, csrf};

/// The sign-in URL of a 401 for a page being opened.
pub const LOGIN: &str = "vestibule-login";
/// Who the user is (`sub`), for the upstream.
pub const USER: HeaderName = HeaderName::from_static("x-auth-request-user");
/// The user's `email` claim, when the session has one.
pub const EMAIL: HeaderName = HeaderName::from_static("x-auth-request-email");

/// The check: the request as the gateway tells it, its route, then the route's own rules.
pub async fn check(req: HttpRequest, state: CurrentApp) -> Result<HttpResponse, CheckError> {
    let config = &state.config;
    let check_path = format!("{}/check", config.server.auth_prefix);
    let original = forwarded::read(&req, config, &check_path)?;
    let method = original.method.as_str();
    let routed = state
        .router
        .route(&original.path)
        .ok_or(CheckError::NoRoute)?;
    let route = &routed.route;
    routed.verdict.map_err(ProxyError::from)?;
    route.check_method(&original.method)?;
    csrf::check_forwarded(config, method, req.headers()).map_err(ProxyError::from)?;
    let call = Call {
        method,
        path: &original.path,
        return_to: Some(&original.uri),
        identity: true,
    };
    match admit(&state, &req, route, &call).await {
        Ok(admission) => granted(&state, route, &admission).await,
        Err(ProxyError::Unauthenticated | ProxyError::Refresh(RefreshError::Ended)) => {
            let mut login = url::form_urlencoded::Serializer::new(String::new());
            login.append_pair("return_to", &return_to::sanitize(Some(&original.uri)));
            Err(CheckError::Unauthenticated {
                login_url: format!("{}/login?{}", config.server.auth_prefix, login.finish()),
                navigation: csrf::is_navigation(config, method, req.headers()),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// `text` as a header value that reaches the upstream exactly: no control byte, no space or tab
/// at either end (HTTP trims those).
fn header_value(text: &str) -> Option<HeaderValue> {
    let edge = |c: char| c == ' ' || c == '\t';
    if text.starts_with(edge) || text.ends_with(edge) {
        return None;
    }
    HeaderValue::from_bytes(text.as_bytes()).ok()
}

/// The 200 of an admitted request, with every header the gateway copies onto the request it
/// forwards: `Authorization` when the route sends a token upstream, and who the user is when
/// someone is signed in. They are assembled here and nowhere else, so that a gateway's
/// upstream gets what the proxy's would; a new header for upstreams belongs here too.
async fn granted(
    state: &AppState,
    route: &Route,
    admission: &Admission<'_>,
) -> Result<HttpResponse, CheckError> {
    let mut res = HttpResponse::Ok();
    if let Some(token) = admission.token() {
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| CheckError::Unsendable("access token"))?;
        value.set_sensitive(true);
        res.insert_header((header::AUTHORIZATION, value));
    }
    if let Some((id, session)) = admission.caller() {
        // Any byte but a control one: a `sub` is not always ASCII. Not one with spaces around
        // it either: the gateway trims them, and `" grace"` would reach the upstream as `grace`.
        let sub = header_value(&session.sub).ok_or(CheckError::Unsendable("sub"))?;
        res.insert_header((USER, sub));
        // Optional: an address that cannot be a header value is left out.
        let email = session.claims.get("email").and_then(|e| e.as_str());
        if let Some(email) = email.and_then(header_value) {
            res.insert_header((EMAIL, email));
        }
        // The route's signed identity, as the proxy would send it (the upstream side speaks
        // hyper's header types, this answer actix's).
        if let Some((name, value)) = identity_for_caller(state, route, id, session).await? {
            let name = HeaderName::from_bytes(name.as_str().as_bytes())
                .map_err(|_| CheckError::Unsendable("identity"))?;
            let mut value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| CheckError::Unsendable("identity"))?;
            value.set_sensitive(true);
            res.insert_header((name, value));
        }
    }
    Ok(res.finish())
}

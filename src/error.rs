//! The one place where errors become HTTP responses: JSON for API-style endpoints, a small HTML
//! page (same status, same error code) for browser navigations such as the login callback.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::admin::AdminError;
use crate::apps::AppsError;
use crate::auth::check::LOGIN;
use crate::auth::{AuthError, CheckError, PageError};
use crate::csrf::CsrfError;
use crate::identity::IdentityError;
use crate::oidc::OidcError;
use crate::proxy::headers::REFUSAL;
use crate::proxy::{Challenge, ProxyError};
use crate::session::StreamRefused;
use crate::session::{PendingError, RefreshError};
use crate::support::Chain;

/// 421 and nothing else: the host names no app here (a stale DNS name, another tenant's host,
/// a forged `Host`).
impl ResponseError for AppsError {
    fn status_code(&self) -> StatusCode {
        StatusCode::MISDIRECTED_REQUEST
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "error": "misdirected_request" }))
    }
}

impl CsrfError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            CsrfError::MissingHeader => (StatusCode::FORBIDDEN, "csrf_header_required"),
            CsrfError::CrossSite => (StatusCode::FORBIDDEN, "cross_site_request"),
            CsrfError::CrossSiteWebSocket => (StatusCode::FORBIDDEN, "cross_site_websocket"),
        }
    }
}

impl AuthError {
    /// Status and stable machine-readable code.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use AuthError as A;
        match self {
            A::Csrf(e) => e.status_and_code(),
            A::Unauthenticated | A::Ended(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            A::MissingState => (StatusCode::BAD_REQUEST, "missing_state"),
            A::MissingCode => (StatusCode::BAD_REQUEST, "missing_code"),
            A::DuplicateParam(_) => (StatusCode::BAD_REQUEST, "duplicate_parameter"),
            A::UnknownProvider => (StatusCode::BAD_REQUEST, "unknown_provider"),
            A::InvalidLoginParam(_) => (StatusCode::BAD_REQUEST, "invalid_login_parameter"),
            A::InvalidParam(_) => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            A::NoSuchSession => (StatusCode::NOT_FOUND, "session_not_found"),
            A::Pending(PendingError::NoLoginCookie) => {
                (StatusCode::BAD_REQUEST, "no_login_in_progress")
            }
            A::Pending(PendingError::UnknownState) => (StatusCode::BAD_REQUEST, "invalid_state"),
            A::Pending(PendingError::OtherBrowser) => {
                (StatusCode::BAD_REQUEST, "state_from_other_browser")
            }
            A::Pending(PendingError::Store(_)) | A::Store(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable")
            }
            A::Idp { error, .. } if error == "access_denied" => {
                (StatusCode::FORBIDDEN, "access_denied")
            }
            A::Idp { .. } => (StatusCode::BAD_REQUEST, "idp_error"),
            A::Oidc(OidcError::NotReady(_)) => (StatusCode::SERVICE_UNAVAILABLE, "idp_not_ready"),
            A::Oidc(OidcError::Unreachable(_)) => (StatusCode::BAD_GATEWAY, "idp_unreachable"),
            A::Oidc(OidcError::Refused(_)) => (StatusCode::BAD_REQUEST, "token_request_refused"),
            A::Oidc(OidcError::InvalidIdToken(_)) => (StatusCode::BAD_REQUEST, "invalid_id_token"),
            A::Oidc(OidcError::MissingIdToken | OidcError::InvalidTokenResponse(_)) => {
                (StatusCode::BAD_GATEWAY, "invalid_token_response")
            }
            A::Oidc(OidcError::InvalidUserinfo(_)) => (StatusCode::BAD_GATEWAY, "invalid_userinfo"),
            A::Oidc(OidcError::SubjectChanged) => (StatusCode::BAD_REQUEST, "subject_changed"),
            A::Oidc(OidcError::ClientAssertion(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "client_assertion_failed")
            }
            A::Oidc(OidcError::IssuerMismatch) => (StatusCode::BAD_REQUEST, "issuer_mismatch"),
            A::LogoutToken => (StatusCode::FORBIDDEN, "invalid_logout_token"),
            A::Streams(e) => e.status_and_code(),
            A::TooManyLogins => (StatusCode::TOO_MANY_REQUESTS, "too_many_logins"),
            A::FrontchannelLogout(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            A::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            A::Oidc(OidcError::InvalidGrant) => (StatusCode::BAD_REQUEST, "invalid_grant"),
            A::Oidc(OidcError::InvalidLogoutToken(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
        }
    }

    /// What the user (or SPA) is told. Server-side details (store and network errors) stay in logs.
    fn public_description(&self) -> String {
        match self {
            AuthError::Store(_) | AuthError::Pending(PendingError::Store(_)) => {
                "the session store is unavailable; try again shortly".into()
            }
            AuthError::Oidc(OidcError::NotReady(_) | OidcError::Unreachable(_)) => {
                "the identity provider is unavailable; try again shortly".into()
            }
            AuthError::Idp { error, description } => {
                let error = printable(error, 64);
                match description {
                    Some(d) => format!(
                        "the identity provider answered `{error}`: {}",
                        printable(d, 300)
                    ),
                    None => format!("the identity provider answered `{error}`"),
                }
            }
            other => other.to_string(),
        }
    }
}

/// Keeps only printable characters of attacker-influenced text, bounded in length.
fn printable(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let mut body = json!({ "error": code, "error_description": self.public_description() });
        // Why the caller's session ended, for an SPA that was not listening when it did.
        if let AuthError::Ended(reason) = self {
            body["reason"] = reason.as_str().into();
        }
        // Only ever answered by the auth endpoints, whose registration adds `no-store` and the
        // rest.
        let mut res = HttpResponse::build(status);
        res.insert_header((REFUSAL, code));
        if let AuthError::MethodNotAllowed(allow) = self {
            res.insert_header((header::ALLOW, *allow));
        }
        res.json(body)
    }
}

/// An [`AuthError`] shown to a person: the same status and code, as `auth::PageError`'s page.
impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.0.status_and_code();
        let body = PageError::html(code, &self.0.public_description());
        // Cache-Control, CSP and the other security headers: the auth scope adds them.
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}

impl AdminError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AdminError::Disabled => (StatusCode::NOT_FOUND, "admin_api_disabled"),
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AdminError::BadTarget => (StatusCode::BAD_REQUEST, "bad_target"),
            AdminError::UnknownApp(_) => (StatusCode::NOT_FOUND, "unknown_app"),
            AdminError::UnknownProvider(_) => (StatusCode::NOT_FOUND, "unknown_provider"),
            AdminError::AppRequired => (StatusCode::BAD_REQUEST, "app_required"),
            AdminError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable"),
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.json(json!({ "error": code, "error_description": self.to_string() }))
    }
}

impl IdentityError {
    /// The store: try again; anything else is the deployment's to fix.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            IdentityError::Store(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable")
            }
            IdentityError::TooLarge { .. } => {
                (StatusCode::INTERNAL_SERVER_ERROR, "identity_too_large")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "identity_unavailable"),
        }
    }
}

/// `/.well-known/jwks.json` when its keys cannot be had: JSON, never cached.
impl ResponseError for IdentityError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        tracing::warn!(error = %Chain(self), "identity keys unavailable");
        HttpResponse::build(status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "error": code, "error_description": "the signing keys are unavailable; try again shortly" }))
    }
}

impl StreamRefused {
    /// A user over budget waits for their own streams; a full replica is everyone's 503.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            StreamRefused::User(_) | StreamRefused::Superseded => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_streams")
            }
            StreamRefused::Process(_) => (StatusCode::SERVICE_UNAVAILABLE, "too_many_streams"),
        }
    }
}

impl ProxyError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ProxyError::Csrf(e) => e.status_and_code(),
            ProxyError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ProxyError::Store(_) | ProxyError::Refresh(RefreshError::Store(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable")
            }
            ProxyError::Refresh(RefreshError::Ended) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated")
            }
            ProxyError::Refresh(RefreshError::IdpUnavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "idp_unavailable")
            }
            ProxyError::Refresh(RefreshError::Pending) => {
                (StatusCode::SERVICE_UNAVAILABLE, "token_refresh_pending")
            }
            ProxyError::Refresh(RefreshError::NotGranted(_)) => {
                (StatusCode::FORBIDDEN, "token_not_granted")
            }
            ProxyError::StepUpRequired(_) => {
                (StatusCode::UNAUTHORIZED, "insufficient_user_authentication")
            }
            ProxyError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ProxyError::Unreachable(_) => (StatusCode::BAD_GATEWAY, "upstream_unreachable"),
            ProxyError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
            ProxyError::BadRequest(_) | ProxyError::Path(_) => {
                (StatusCode::BAD_REQUEST, "bad_request")
            }
            ProxyError::Streams(e) => e.status_and_code(),
            ProxyError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ProxyError::NoRoute => (StatusCode::NOT_FOUND, "not_found"),
            ProxyError::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_body"),
            ProxyError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ProxyError::Identity(e) => e.status_and_code(),
        }
    }
}

/// API routes always answer JSON; upstream and store details stay in the logs.
impl ResponseError for ProxyError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        let description = match self {
            ProxyError::Store(_) | ProxyError::Identity(IdentityError::Store(_)) => {
                "the session store is unavailable; try again shortly".to_owned()
            }
            ProxyError::Unreachable(_) => "the upstream service is unreachable".to_owned(),
            other => other.to_string(),
        };
        if status.is_server_error() {
            tracing::warn!(error = %Chain(self), "proxy error");
        }
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.insert_header((REFUSAL, code));
        if let ProxyError::MethodNotAllowed(allow) = self {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        if let ProxyError::StepUpRequired(c) = self {
            return res
                .insert_header((header::WWW_AUTHENTICATE, step_up_challenge(code, c)))
                .json(json!({
                    "error": code,
                    "error_description": description,
                    "acr_values": c.acr_values,
                    "max_age": c.max_age,
                    "login_url": c.login_url,
                }));
        }
        if let ProxyError::Forbidden(route) = self {
            return res.json(json!({
                "error": code,
                "error_description": description,
                "rule": route,
            }));
        }
        res.json(json!({ "error": code, "error_description": description }))
    }
}

impl CheckError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            CheckError::UntrustedProxy(_) => (StatusCode::BAD_REQUEST, "untrusted_proxy"),
            CheckError::BadForwarded(_) => (StatusCode::BAD_REQUEST, "bad_forwarded_request"),
            CheckError::Unauthenticated { .. } => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            CheckError::NoRoute => (StatusCode::FORBIDDEN, "no_route"),
            CheckError::Unsendable(_) => (StatusCode::INTERNAL_SERVER_ERROR, "unsendable_identity"),
            CheckError::Route(e) => e.status_and_code(),
        }
    }
}

/// A gateway's check: the route's refusals as the proxy answers them; the others JSON alike,
/// marked as Vestibule's own (a gateway other than nginx hands them to the browser as they are).
impl ResponseError for CheckError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        if let CheckError::Route(e) = self {
            return e.error_response();
        }
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::warn!(error = %Chain(self), "forward-auth check failed");
        }
        let mut res = HttpResponse::build(status);
        res.insert_header((REFUSAL, code));
        let mut body = json!({ "error": code, "error_description": self.to_string() });
        if let CheckError::Unauthenticated {
            login_url,
            navigation,
        } = self
        {
            body["login_url"] = login_url.as_str().into();
            if *navigation {
                res.insert_header((LOGIN, login_url.as_str()));
            }
        }
        res.json(body)
    }
}

/// RFC 9470 section 3: `Bearer error="insufficient_user_authentication", acr_values="…",
/// max_age=…`. The values come from the route's config (validated: no quotes or spaces in an acr).
fn step_up_challenge(code: &str, c: &Challenge) -> String {
    let mut h = format!(
        "Bearer error=\"{code}\", error_description=\"A stronger or more recent sign-in is required\""
    );
    if let Some(a) = &c.acr_values {
        h.push_str(&format!(", acr_values=\"{a}\""));
    }
    if let Some(m) = c.max_age {
        h.push_str(&format!(", max_age={m}"));
    }
    h
}

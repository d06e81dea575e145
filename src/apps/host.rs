//! Which app, and which of its providers, a request is for.
//!
//! The app is the one whose host the request names: its `Host` (or HTTP/2 `:authority`), or,
//! when the peer is one of `server.trusted_proxies`, the last `X-Forwarded-Host` (the one that
//! proxy wrote; earlier ones came from the client). No app for that host: 421 and nothing else,
//! so that a request can never reach an app under another app's name. The probes and metrics
//! answer on any host.
//!
//! The provider is the one the session cookie's value is tagged with (`corp.<id>`); on the
//! callback, the login cookie's. A tag naming no provider of the app (one a reload removed)
//! is remembered as [`ConfigRemoved`], for the 401 to say so.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::{Apps, AppsError};
use crate::support::host::normalize_host;
use crate::telemetry::AppLabel;
use crate::{App, AppState, ConfigRemoved, Process};

const X_FORWARDED_HOST: &str = "x-forwarded-host";

/// Middleware on every request but the probes: picks the app and provider (421 when no app
/// answers the host), for the handlers' [`CurrentApp`](crate::CurrentApp).
pub async fn pick_app(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !is_anywhere(req.path()) {
        let Some(process) = req.app_data::<web::Data<Process>>() else {
            return Err(AppsError::Misdirected.into());
        };
        let apps = process.apps.now();
        let Some(app) = apps.pick(|| request_host(&req, &process.config)).cloned() else {
            tracing::info!(host = %host_for_log(&req), "no app at this host: 421");
            return Err(AppsError::Misdirected.into());
        };
        if apps.has_apps() {
            // The request's span, entered by `request_log`: its log line and trace say which app.
            tracing::Span::current().record("app", &*app.name);
        }
        let state = provider_state(&req, &apps, &app, &process.config.server.auth_prefix);
        let mut ext = req.extensions_mut();
        ext.insert(AppLabel(app.name.clone()));
        ext.insert(state);
        ext.insert(app);
    }
    next.call(req).await
}

/// The paths every host answers: the probes and the metrics.
fn is_anywhere(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The host the request names, as the apps are looked up by (`support::host`): a trusted
/// proxy's last `X-Forwarded-Host`, else the request target's authority (an absolute-form
/// request's, or HTTP/2's `:authority`, which RFC 9112 puts before `Host`), else `Host`.
fn request_host(req: &ServiceRequest, config: &crate::config::Config) -> Option<String> {
    let trusted = req
        .peer_addr()
        .is_some_and(|a| config.server.trusted_proxies.contains(a.ip()));
    let forwarded = trusted
        .then(|| req.headers().get_all(X_FORWARDED_HOST).last())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next());
    let raw = match forwarded {
        Some(h) => h,
        None => match req.uri().authority() {
            Some(a) => a.as_str(),
            None => req
                .headers()
                .get(actix_web::http::header::HOST)?
                .to_str()
                .ok()?,
        },
    };
    normalize_host(raw)
}

/// The `Host` for a log line: printable, bounded.
fn host_for_log(req: &ServiceRequest) -> String {
    let h = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    h.chars().take(100).collect()
}

/// The provider state: the one the cookie's tag names, else the app's first.
fn provider_state(
    req: &ServiceRequest,
    apps: &Apps,
    app: &Arc<App>,
    auth_prefix: &str,
) -> Arc<AppState> {
    let first = app.first();
    if first.config.app.is_implicit() {
        return first.clone();
    }
    let callback = req
        .path()
        .strip_prefix(auth_prefix)
        .is_some_and(|rest| rest == "/callback");
    match first.sessions.cookies().tag_of(req.request(), callback) {
        None => first.clone(),
        Some(tag) => match app.provider(tag) {
            Some(p) => p.clone(),
            None => {
                if apps.was_removed(&app.name, tag) {
                    req.extensions_mut().insert(ConfigRemoved);
                }
                first.clone()
            }
        },
    }
}

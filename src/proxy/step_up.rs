//! Step-up (RFC 9470): a route may need a stronger sign-in (`require_acr`) or a recent one
//! (`max_auth_age`) than the session has. Such a call is answered 401
//! `insufficient_user_authentication` with what to ask for and a ready `login_url`; nothing is
//! forwarded. The session's `acr` and `auth_time` come from its validated ID token inside the
//! sealed session, so a browser cannot claim either.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header::REFERER;
use url::Url;

use crate::config::{Config, RouteConfig};
use crate::session::Session;
use crate::support::now_unix;
use crate::support::path::is_same_origin;

/// A route's step-up rule.
pub struct StepUp {
    acr: Vec<String>,
    max_age: Option<Duration>,
}

/// What the SPA is told to do: sign in again with these parameters, at `login_url`.
#[derive(Debug)]
pub struct Challenge {
    pub acr_values: Option<String>,
    pub max_age: Option<u64>,
    pub login_url: String,
}

impl StepUp {
    pub fn for_route(r: &RouteConfig) -> Option<Self> {
        r.step_up().then(|| StepUp {
            acr: r.require_acr.clone(),
            max_age: r.max_auth_age,
        })
    }

    /// The challenge to answer with, unless the session meets the rule; the new sign-in
    /// returns to `back` (a path and query, as a browser sent it), or else to the page that
    /// made the call.
    pub(super) fn check(
        &self,
        session: &Session,
        req: &HttpRequest,
        config: &Config,
        back: Option<&str>,
    ) -> Result<(), Challenge> {
        let acr_ok = self.acr.is_empty()
            || session
                .claims
                .get("acr")
                .and_then(|v| v.as_str())
                .is_some_and(|acr| self.acr.iter().any(|a| a == acr));
        let age_ok = self.max_age.is_none_or(|max| {
            let auth_time = session.claims.get("auth_time").and_then(|v| v.as_i64());
            auth_time.is_some_and(|t| now_unix().saturating_sub(t) <= max.as_secs() as i64)
        });
        if acr_ok && age_ok {
            return Ok(());
        }
        let acr_values = (!self.acr.is_empty()).then(|| self.acr.join(" "));
        let max_age = self.max_age.map(|d| d.as_secs());
        let mut login = url::form_urlencoded::Serializer::new(String::new());
        // In an app of several providers, the step-up goes to the session's own, not the chooser.
        if !config.app.is_implicit() {
            login.append_pair("provider", &config.oidc.name);
        }
        if let Some(a) = &acr_values {
            login.append_pair("acr_values", a);
        }
        if let Some(m) = max_age {
            login.append_pair("max_age", &m.to_string());
        }
        match back {
            // As `/auth/login` would read it: anything but a same-origin path is `/`.
            Some(back) if is_same_origin(back) => login.append_pair("return_to", back),
            Some(_) => login.append_pair("return_to", "/"),
            None => login.append_pair("return_to", &return_to(req, config)),
        };
        Err(Challenge {
            acr_values,
            max_age,
            login_url: format!("{}/login?{}", config.server.auth_prefix, login.finish()),
        })
    }
}

/// Back to the page that made the call (its `Referer`, when on our own origin), else `/`.
/// `/auth/login` sanitises it again.
fn return_to(req: &HttpRequest, config: &Config) -> String {
    let referer = req
        .headers()
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Url::parse(v).ok());
    match referer {
        Some(r) if r.origin() == config.server.public_url.origin() => match r.query() {
            Some(q) => format!("{}?{q}", r.path()),
            None => r.path().to_owned(),
        },
        _ => "/".to_owned(),
    }
}

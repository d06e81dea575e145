//! `[[apps]]`: several single-page apps, each on its own host with its own providers, served by
//! one deployment. Each app is resolved into a whole `Config` of its own (see `deployment`) (the process-wide
//! sections from the top level, the app's keys over them), so that everything below `server`
//! keeps reading one app's config and never learns that there are others.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::broken::{Broken, broken};
use super::session::CookiePrefix;
use super::{OidcConfig, RouteConfig, SameSitePolicy, SpaConfig};

/// One app: a single-page app on its own origin, its APIs and its identity providers.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app's name: lower-case letters, digits and `-`; in metrics, logs and traces (`app`),
    /// the admin API's `app` parameter, and the store keys of its sessions. Renaming an app ends
    /// its sessions.
    pub name: String,
    /// The origin browsers reach this app at, as `server.public_url` is for a single app.
    #[schemars(with = "String")]
    pub public_url: Url,
    /// The `Host` (or, from a trusted proxy, `X-Forwarded-Host`) that picks this app. Default:
    /// `public_url`'s host, with its port unless it is the scheme's default.
    pub host: Option<String>,
    /// The provider `/auth/login` uses when it names none. Absent, with several providers: a
    /// page lets the user choose.
    pub default_provider: Option<String>,
    /// A stylesheet on the app's origin (a path such as `/assets/sign-in.css`) for the provider
    /// chooser; it has no style of its own.
    pub chooser_stylesheet: Option<String>,
    /// This app's own session keys, over `[session]`'s.
    #[serde(default)]
    pub session: AppSessionConfig,
    /// This app's SPA: the keys of `[spa]`.
    #[serde(default)]
    pub spa: SpaConfig,
    /// This app's APIs: entries with the keys of `[[routes]]`.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// The identity providers users of this app may sign in with: each with the keys of `[oidc]`,
    /// its own `name` among them (and `label`, shown on the chooser). At least one.
    pub providers: Vec<OidcConfig>,
}

/// The `[session]` keys an app may set for itself. The store, its keys and the cache are the
/// deployment's: every app shares them.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppSessionConfig {
    /// As `session.cookie_name`.
    pub cookie_name: Option<String>,
    /// As `session.cookie_prefix`.
    pub cookie_prefix: Option<CookiePrefix>,
    /// As `session.same_site`.
    pub same_site: Option<SameSitePolicy>,
    /// As `session.idle_timeout`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub idle_timeout: Option<Duration>,
    /// As `session.absolute_timeout`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub absolute_timeout: Option<Duration>,
    /// As `session.login_timeout`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub login_timeout: Option<Duration>,
    /// As `session.refresh_skew`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub refresh_skew: Option<Duration>,
    /// As `session.expiry_notice`.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub expiry_notice: Option<Duration>,
    /// As `session.max_per_user`.
    pub max_per_user: Option<usize>,
}

/// Which app a resolved `Config` is, and its providers. A single-app file is one implicit app
/// (`name = "default"`, any host, its `[oidc]` the one provider).
#[derive(Debug, Clone, Default)]
pub struct AppMeta {
    pub name: String,
    /// The host that picks it; `None` for the implicit app, which answers any.
    pub host: Option<String>,
    pub default_provider: Option<String>,
    /// `chooser_stylesheet`.
    pub chooser_stylesheet: Option<String>,
    /// Every provider, the first being the config's own `oidc`.
    pub providers: Vec<OidcConfig>,
}

impl AppMeta {
    /// Whether this is the implicit app of a file without `[[apps]]`.
    pub fn is_implicit(&self) -> bool {
        self.host.is_none()
    }
}

impl AppConfig {
    /// The host that picks this app: `host`, or `public_url`'s authority, as requests' hosts are
    /// read (`support::host`); empty when it is no host at all (refused by the checks).
    pub fn host(&self) -> String {
        let raw = match &self.host {
            Some(h) => h.clone(),
            None => authority(&self.public_url),
        };
        crate::support::host::normalize_host(&raw).unwrap_or_default()
    }
}

/// `url`'s host, with `:port` when it is not the scheme's default.
pub fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// An app's own rules: its name, its host, its providers' names.
pub(super) fn validate_app(app: &AppConfig) -> Result<(), Broken> {
    if !is_name(&app.name) {
        return Err(broken(
            "apps.name",
            format!(
                "expected lower-case letters, digits and `-`, got {:?}",
                app.name
            ),
        ));
    }
    if app.host().is_empty() {
        return Err(broken(
            "apps.host",
            format!(
                "expected a host name (no trailing dot), with :port when not 80 or 443, got {:?}",
                app.host
                    .clone()
                    .unwrap_or_else(|| authority(&app.public_url))
            ),
        ));
    }
    if let Some(css) = &app.chooser_stylesheet
        && !crate::support::path::is_same_origin(css)
    {
        return Err(broken(
            "apps.chooser_stylesheet",
            format!("expected a path on the app's origin such as \"/sign-in.css\", got {css:?}"),
        ));
    }
    validate_providers(app)?;
    if let Some(d) = &app.default_provider
        && !app.providers.iter().any(|p| &p.name == d)
    {
        return Err(broken(
            "apps.default_provider",
            format!("no provider of app {:?} is named {d:?}", app.name),
        ));
    }
    Ok(())
}

/// An app's providers: at least one, each with a safe name unique in the app, no two the same
/// client of the same issuer.
fn validate_providers(app: &AppConfig) -> Result<(), Broken> {
    if app.providers.is_empty() {
        return Err(broken(
            "apps.providers",
            "expected at least one [[apps.providers]]",
        ));
    }
    for (i, p) in app.providers.iter().enumerate() {
        if !is_name(&p.name) {
            return Err(broken(
                "apps.providers.name",
                format!(
                    "expected lower-case letters, digits and `-`, got {:?}",
                    p.name
                ),
            ));
        }
        for q in &app.providers[..i] {
            if q.name == p.name {
                return Err(broken(
                    "apps.providers.name",
                    format!("two providers are named {:?}", p.name),
                ));
            }
            // A session knows its provider by the ID token's issuer and audience.
            if q.issuer == p.issuer && q.client_id == p.client_id {
                return Err(broken(
                    "apps.providers",
                    format!(
                        "providers {:?} and {:?} are the same client of the same issuer",
                        q.name, p.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A name that is safe in a metric label, a log field, a store key and a query parameter.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

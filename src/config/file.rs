//! The configuration file as a whole: loading it (TOML, then `VESTIBULE_*` environment
//! overrides), turning figment's errors into one line per problem, and running each section's
//! checks.

use figment::Figment;
use figment::providers::Serialized;
use serde::Deserialize;

use super::apps::{AppConfig, AppMeta};
use super::broken::{Broken, broken};
use super::oidc::Protocol;
use super::session::CookiePrefix;
use super::{
    IdentityConfig, OidcConfig, RouteConfig, ServerConfig, SessionConfig, SpaConfig,
    TelemetryConfig,
};

/// Prefix of the environment variables that override config keys.
pub const ENV_PREFIX: &str = "VESTIBULE_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the config file")]
    Unreadable {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// What figment found (syntax, unknown or missing keys, wrong types): one line per problem.
    #[error("{0}")]
    Invalid(String),
    /// A key that parsed but breaks a rule serde cannot express.
    #[error("{file}: key `{key}`: {expected}")]
    Rule {
        file: String,
        key: &'static str,
        expected: String,
    },
    /// A problem in one of the `[[apps]]` (and one of its providers).
    #[error("app {app:?}{}: {source}", provider.as_ref().map(|p| format!(", provider {p:?}")).unwrap_or_default())]
    InApp {
        app: String,
        provider: Option<String>,
        #[source]
        source: Box<ConfigError>,
    },
    /// `Config::load` of a file with `[[apps]]`: it is a `Deployment` of several.
    #[error("{0}: this file has [[apps]]; load it as a deployment")]
    SeveralApps(String),
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where Vestibule listens, the origin browsers reach it at, and the limits that protect the
    /// process. `listen` and `public_url` have no default.
    pub server: ServerConfig,
    /// The identity provider and this application's registration there: the issuer, the client
    /// ID, and how the client proves who it is (a secret, or a private key).
    pub oidc: OidcConfig,
    /// Where sessions are kept (this process's memory, or Redis shared by every replica), how
    /// long they last, and the session cookie. The defaults suit one replica in development.
    #[serde(default)]
    pub session: SessionConfig,
    /// The APIs behind Vestibule: each entry forwards the calls under one path prefix to an
    /// upstream, with the token its `token` kind names and the browser's cookie removed. No
    /// entries: Vestibule forwards no API calls.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// The single-page app, served on every path that is neither an auth endpoint nor a route:
    /// built files from a directory, or a dev server to proxy. Neither: no app is served.
    #[serde(default)]
    pub spa: SpaConfig,
    /// How logs are written and, when `[telemetry.otlp]` is there, where traces are exported.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The key that signs the identity sent to upstreams of routes with `identity_header`, and
    /// retired keys still published at `/.well-known/jwks.json`. Empty: a key generated at first
    /// start and shared through the session store.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// Several single-page apps, each on its own host with its own providers, routes and
    /// sessions. With `[[apps]]`, `server.public_url`, `[oidc]`, `[spa]` and `[[routes]]` are
    /// set in each app instead of here. Absent: the file is one app.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Which app this config is, once resolved (see `apps`).
    #[serde(skip)]
    #[schemars(skip)]
    pub app: AppMeta,
}

impl Config {
    pub(super) fn extract(figment: Figment, name: &str) -> Result<Self, ConfigError> {
        let mut config: Config = figment.extract().map_err(|e| describe(name, e))?;
        config
            .oidc
            .read_secret_file()
            .map_err(|(key, expected)| ConfigError::Rule {
                file: name.to_owned(),
                key,
                expected,
            })?;
        config.validate().map_err(|b| ConfigError::Rule {
            file: name.to_owned(),
            key: b.key,
            expected: b.expected,
        })?;
        Ok(config)
    }

    /// The checks serde cannot make, section by section.
    fn validate(&self) -> Result<(), Broken> {
        self.server.validate()?;
        self.oidc.validate(self.server.allow_insecure_http)?;
        self.session.validate()?;
        RouteConfig::validate_all(&self.routes, &self.server.auth_prefix)?;
        for r in &self.routes {
            super::identity::validate_route(r)?;
        }
        self.validate_step_up()?;
        if self.session.cookie_prefix == CookiePrefix::HostHttp && !self.is_https() {
            return Err(broken(
                "session.cookie_prefix",
                "\"__Host-Http-\" needs an https public_url (the cookie must be Secure)",
            ));
        }
        self.telemetry.validate()?;
        self.identity.validate()?;
        self.spa.validate()
    }

    /// A step-up route sends the SPA to `/auth/login?acr_values=…&max_age=…`: both must pass.
    fn validate_step_up(&self) -> Result<(), Broken> {
        let allowed = |p: &str| self.oidc.login_params.iter().any(|a| a == p);
        for r in &self.routes {
            // Without an ID token, `acr` and `auth_time` would come from the userinfo answer: no
            // signature, nothing binds it to this login, and a plain OAuth 2.0 provider does not
            // define these claims at all. A step-up decided on them decides nothing.
            if r.step_up() && self.oidc.protocol == Protocol::Oauth2 {
                return Err(broken(
                    if r.require_acr.is_empty() {
                        "routes.max_auth_age"
                    } else {
                        "routes.require_acr"
                    },
                    format!(
                        "route {:?} asks for step-up, which needs a signed ID token: not with \
                         oidc.protocol = \"oauth2\" (acr and auth_time would come from unsigned \
                         userinfo); use protocol = \"oidc\" or drop the rule",
                        r.prefix
                    ),
                ));
            }
            for (needs, param) in [
                (!r.require_acr.is_empty(), "acr_values"),
                (r.max_auth_age.is_some(), "max_age"),
            ] {
                if needs && !allowed(param) {
                    return Err(broken(
                        "oidc.login_params",
                        format!("route {:?} asks for step-up: add {param:?}", r.prefix),
                    ));
                }
            }
        }
        Ok(())
    }

    /// True when cookies must be `Secure` with the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }

    /// `public_url` without its trailing slash (`https://app.example.com`): the origin that
    /// browsers send in `Origin`, and the base of every absolute URL Vestibule builds.
    pub fn origin(&self) -> &str {
        // Validated to be an origin only, so the URL's text is the origin plus "/".
        self.server.public_url.as_str().trim_end_matches('/')
    }
}

/// Whether a `VESTIBULE_` variable (named here without the prefix) is config: only
/// `<SECTION>__<KEY>` names are. Platforms inject others into every process: Kubernetes adds
/// `VESTIBULE_PORT`, `VESTIBULE_SERVICE_HOST`, `VESTIBULE_PORT_8080_TCP…` to each pod of a
/// namespace with a Service named `vestibule`; they must not stop start-up.
pub(super) fn is_config_variable(name: &str) -> bool {
    name.contains("__")
}

/// The keys whose values are secrets, which operators are told to set from the environment.
const SECRET_KEYS: [&str; 6] = [
    "identity.signing_key",
    "oidc.client_secret",
    "oidc.private_key",
    "server.admin_token",
    "session.encryption_key",
    "session.redis.password",
];

/// figment reads every variable as a TOML value, so a secret of digits became a number (and was
/// refused), one like `1e9` a float, and one in double quotes lost its quotes. A secret is a
/// string whatever it looks like: these variables are taken verbatim, over what `Env` parsed.
pub(super) fn verbatim_secrets(mut figment: Figment) -> Figment {
    for key in SECRET_KEYS {
        let var = format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase());
        if let Ok(value) = std::env::var(&var) {
            figment = figment.merge(Serialized::default(key, value));
        }
    }
    figment
}

/// The `VESTIBULE_*` variables in this process's environment that are not config (and not
/// `VESTIBULE_CONFIG`): names only, for a debug log line; their values are never read.
pub fn ignored_environment() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| {
            name.strip_prefix(ENV_PREFIX)
                .is_some_and(|rest| rest != "CONFIG" && !is_config_variable(rest))
        })
        .collect()
}

/// Turns figment's errors into one line each: source, key, problem.
pub(super) fn describe(file: &str, err: figment::Error) -> ConfigError {
    let lines: Vec<String> = err
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let from_file = e
                .metadata
                .as_ref()
                .and_then(|m| m.source.as_ref())
                .and_then(|s| match s {
                    figment::Source::File(p) => Some(p.display().to_string()),
                    _ => None,
                });
            let from_env = e
                .metadata
                .as_ref()
                .is_some_and(|m| m.name.contains("environment"));
            // A missing key has no source of its own: figment names whoever last added to its
            // table, which is the environment as soon as one variable of that section is set.
            let missing = matches!(e.kind, figment::error::Kind::MissingField(_));
            let source = match (from_file, from_env) {
                _ if missing => file.to_owned(),
                (Some(f), _) => f,
                // Name the exact variable the operator set.
                (None, true) => format!(
                    "environment variable {ENV_PREFIX}{}",
                    e.path.join("__").to_uppercase()
                ),
                (None, false) => file.to_owned(),
            };
            let key = if key.is_empty() {
                "(top level)".to_owned()
            } else {
                key
            };
            format!(
                "{source}: key `{key}`: {}",
                without_quoted_source(&e.kind.to_string())
            )
        })
        .collect();
    ConfigError::Invalid(lines.join("\n"))
}

/// A TOML syntax error quotes the offending line under a gutter (`8 | client_secret = "…`), and
/// that line may be a secret's. Keep the position and the reason, drop the quote and its caret.
fn without_quoted_source(message: &str) -> String {
    let is_quote = |line: &str| {
        let rest = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit());
        rest.trim_start().starts_with('|')
    };
    message
        .lines()
        .filter(|l| !is_quote(l))
        .collect::<Vec<_>>()
        .join(": ")
}

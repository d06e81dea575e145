//! [`Deployment`]: the whole file, one resolved [`Config`] per app. A file without `[[apps]]` is
//! one implicit app; with them, each app is the top level with the app's keys over it (see
//! `apps`), checked exactly as a single-app file is, once per provider.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Value};

use super::OidcConfig;
use super::apps::{AppConfig, AppMeta, validate_app};
use super::broken::{Broken, broken};
use super::file::{
    Config, ConfigError, ENV_PREFIX, describe, is_config_variable, verbatim_secrets,
};

/// The top-level keys that belong to each app once there are `[[apps]]`.
const PER_APP: [(&str, &str); 4] = [
    ("server.public_url", "public_url"),
    ("oidc", "[[apps.providers]]"),
    ("spa", "[apps.spa]"),
    ("routes", "[[apps.routes]]"),
];

impl Config {
    /// Loads a single-app `file` (see [`Deployment::load`] for any file), applies `VESTIBULE_*`
    /// environment overrides, and validates.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        Deployment::load(file)?.into_single(&file.display().to_string())
    }

    /// Parses and validates single-app TOML text alone (no file, no environment); `name` labels
    /// errors.
    pub fn from_toml_str(toml: &str, name: &str) -> Result<Self, ConfigError> {
        Deployment::from_toml_str(toml, name)?.into_single(name)
    }
}

/// The `[[apps]]` of a file, typed (the rest of the file is read app by app).
#[derive(serde::Deserialize)]
struct OnlyApps {
    apps: Vec<AppConfig>,
}

/// The whole file: one resolved [`Config`] per app, in the file's order.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub apps: Vec<Config>,
}

impl Deployment {
    /// Loads `file`, applies `VESTIBULE_*` environment overrides, and validates every app.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let name = file.display().to_string();
        // figment treats a missing file as empty; an operator's typo must not start a default proxy.
        if let Err(source) = std::fs::metadata(file) {
            return Err(ConfigError::Unreadable { file: name, source });
        }
        let figment = Figment::new().merge(Toml::file(file)).merge(
            Env::prefixed(ENV_PREFIX)
                .filter(|key| is_config_variable(key.as_str()))
                .split("__"),
        );
        Self::resolve(verbatim_secrets(figment), &name)
    }

    /// Parses and validates TOML text alone (no file, no environment); `name` labels errors.
    pub fn from_toml_str(toml: &str, name: &str) -> Result<Self, ConfigError> {
        Self::resolve(Figment::from(Toml::string(toml)), name)
    }

    fn into_single(mut self, name: &str) -> Result<Config, ConfigError> {
        match (self.has_apps(), self.apps.pop()) {
            (false, Some(config)) => Ok(config),
            _ => Err(ConfigError::SeveralApps(name.to_owned())),
        }
    }

    /// The process-wide sections (`[server]`, `[session]`'s store, `[telemetry]`) are the same
    /// in every app: the first app's are the deployment's.
    pub fn process(&self) -> &Config {
        &self.apps[0]
    }

    /// Whether the file has `[[apps]]` (rather than one implicit app).
    pub fn has_apps(&self) -> bool {
        !self.process().app.is_implicit()
    }

    pub fn app(&self, name: &str) -> Option<&Config> {
        self.apps.iter().find(|a| a.app.name == name)
    }

    fn resolve(figment: Figment, file: &str) -> Result<Self, ConfigError> {
        let apps = match figment.find_value("apps") {
            Err(_) => return Ok(Self::single(Config::extract(figment, file)?)),
            Ok(Value::Array(_, apps)) if !apps.is_empty() => apps,
            Ok(_) => {
                return Err(rule(file, "apps", "expected one or more [[apps]] tables"));
            }
        };
        for (key, there) in PER_APP {
            if figment.find_value(key).is_ok() {
                return Err(rule(
                    file,
                    key,
                    format!("with [[apps]], each app sets its own {there}: remove it here"),
                ));
            }
        }
        // The typed read finds unknown or misspelt keys, with their paths.
        let typed = figment
            .extract::<OnlyApps>()
            .map_err(|e| describe(file, e))?
            .apps;
        let mut resolved = Vec::with_capacity(typed.len());
        for (app, raw) in typed.iter().zip(&apps) {
            resolved.push(resolve_app(&figment, app, raw, file)?);
        }
        let deployment = Self { apps: resolved };
        deployment.validate_apart().map_err(|b| ConfigError::Rule {
            file: file.to_owned(),
            key: b.key,
            expected: b.expected,
        })?;
        Ok(deployment)
    }

    fn single(mut config: Config) -> Self {
        config.app = AppMeta {
            name: "default".into(),
            host: None,
            default_provider: None,
            chooser_stylesheet: None,
            providers: vec![config.oidc.clone()],
        };
        Self { apps: vec![config] }
    }

    /// What one app cannot see: two apps with one name or one host.
    fn validate_apart(&self) -> Result<(), Broken> {
        for (i, a) in self.apps.iter().enumerate() {
            for b in &self.apps[..i] {
                if a.app.name == b.app.name {
                    return Err(broken(
                        "apps.name",
                        format!("two apps are named {:?}", a.app.name),
                    ));
                }
                if a.app.host == b.app.host {
                    return Err(broken(
                        "apps.host",
                        format!(
                            "apps {:?} and {:?} have the same host {:?}",
                            b.app.name,
                            a.app.name,
                            a.app.host.as_deref().unwrap_or_default()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// One app's config: the top level with the app's keys over it, once per provider (so that each
/// provider passes every check an `[oidc]` does), the first provider's being the app's.
fn resolve_app(
    base: &Figment,
    app: &AppConfig,
    raw: &Value,
    file: &str,
) -> Result<Config, ConfigError> {
    let in_app = |source: ConfigError, provider: Option<&str>| ConfigError::InApp {
        app: app.name.clone(),
        provider: provider.map(str::to_owned),
        source: Box::new(source),
    };
    validate_app(app).map_err(|b| in_app(rule(file, b.key, b.expected), None))?;
    let raw = raw.as_dict().cloned().unwrap_or_default();
    let part = |key: &str, empty: Value| raw.get(key).cloned().unwrap_or(empty);
    let app_figment = base
        .clone()
        .merge(Serialized::default("apps", Vec::<Value>::new()))
        .merge(Serialized::default(
            "server.public_url",
            part("public_url", Value::from("")),
        ))
        .merge(Serialized::default(
            "session",
            part("session", Value::from(Dict::new())),
        ))
        .merge(Serialized::default(
            "spa",
            part("spa", Value::from(Dict::new())),
        ))
        .merge(Serialized::default(
            "routes",
            part("routes", Value::from(Vec::<Value>::new())),
        ));
    let providers = match part("providers", Value::from(Vec::<Value>::new())) {
        Value::Array(_, p) => p,
        _ => Vec::new(),
    };
    let mut configs = Vec::with_capacity(providers.len());
    for (provider, typed) in providers.into_iter().zip(&app.providers) {
        let figment = app_figment
            .clone()
            .merge(Serialized::default("oidc", provider));
        let config = Config::extract(figment, file).map_err(|e| in_app(e, Some(&typed.name)))?;
        configs.push(config);
    }
    let providers: Vec<OidcConfig> = configs.iter().map(|c| c.oidc.clone()).collect();
    if configs.is_empty() {
        return Err(in_app(
            rule(
                file,
                "apps.providers",
                "expected at least one [[apps.providers]]",
            ),
            None,
        ));
    }
    let mut config = configs.swap_remove(0);
    config.app = AppMeta {
        name: app.name.clone(),
        host: Some(app.host()),
        default_provider: app.default_provider.clone(),
        chooser_stylesheet: app.chooser_stylesheet.clone(),
        providers,
    };
    Ok(config)
}

fn rule(file: &str, key: &'static str, expected: impl Into<String>) -> ConfigError {
    ConfigError::Rule {
        file: file.to_owned(),
        key,
        expected: expected.into(),
    }
}

#[cfg(test)]
mod tests;

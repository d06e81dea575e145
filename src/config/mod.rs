//! Configuration: one TOML file, every key overridable from the environment
//! (`VESTIBULE_OIDC__CLIENT_SECRET` sets `oidc.client_secret`).
//!
//! Loading never panics: every problem becomes a [`ConfigError`] whose message names the file
//! (or environment variable), the key, and what was expected. Each section checks its own keys
//! (`ServerConfig::validate`, …); [`Config`] checks nothing but the order in which they run.
//!
//! - `file`: [`Config`] as a whole, loading (figment: TOML + environment), error messages;
//! - `apps`: `[[apps]]`, several apps in one file; `deployment`: the whole file, each app resolved
//!   into a [`Config`] of its own;
//! - `broken`: the broken rule each section's checks return;
//! - `server`, `oidc`, `session`, `routes`, `spa`, `telemetry`: one section each;
//! - `identity`: `[identity]`, the key of the identity sent upstreams, and the routes'
//!   `identity_*` keys;
//! - `trusted_proxies`: the gateways whose word about a checked request is taken;
//! - `private_key`: a JWT signing key (`private_key_jwt`, the identity), loaded and tried while
//!   checking;
//! - `schema`: the JSON Schema of the file, for editors;
//! - `reference`: the configuration reference page, read off that schema;
//! - `audit`: `check-config --audit`, the config graded against the BCPs.

mod apps;
pub mod audit;
mod broken;
mod deployment;
mod file;
mod identity;
mod oidc;
mod private_key;
pub mod reference;
mod routes;
mod schema;
mod server;
mod session;
mod spa;
mod telemetry;
mod trusted_proxies;

pub use apps::{AppConfig, AppMeta, AppSessionConfig, authority, is_name};
pub use deployment::Deployment;
pub use file::{Config, ConfigError, ENV_PREFIX, ignored_environment};
pub use identity::{DEFAULT_IDENTITY_CLAIMS, IdentityConfig, Pem, SET_BY_VESTIBULE, family_of};
pub use oidc::{ClientAuth, EndpointsConfig, LOGIN_PARAMS, OidcConfig, ParMode, Protocol};
pub use private_key::{KeyAlg, KeyError, SigningKey};
pub use routes::{MAX_IDENTITY_TTL, NEVER_FORWARDED, RouteConfig, TokenPolicy};
pub use schema::json_schema;
pub use server::{ServerConfig, is_loopback};
pub use session::{
    CookiePrefix, Durability, RedisConfig, RedisMode, SameSitePolicy, SessionConfig, StoreKind,
};
pub use spa::SpaConfig;
pub use telemetry::{LogFormat, OtlpConfig, TelemetryConfig};
pub use trusted_proxies::TrustedProxies;

#[cfg(test)]
mod tests;

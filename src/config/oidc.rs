//! `[oidc]`: the identity provider and this client's registration there.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use super::file::{Broken, broken};
use super::server::require_https;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    #[default]
    ClientSecretBasic,
    ClientSecretPost,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuer, exactly as the IdP spells it (compared as a string, trailing slash included);
    /// discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Confidential client secret. Better set with `VESTIBULE_OIDC__CLIENT_SECRET`.
    pub client_secret: SecretString,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Extra parameters added to the authorization request (e.g. `audience`, `prompt`).
    #[serde(default)]
    pub extra_auth_params: BTreeMap<String, String>,
    /// Timeout of every request to the IdP.
    #[serde(default = "default_http_timeout", with = "humantime_serde")]
    pub http_timeout: Duration,
    /// Where the browser lands after logout: `post_logout_redirect_uri` = `public_url` + this
    /// path (register it at the IdP), or the path itself when the IdP has no end-session endpoint.
    #[serde(default = "default_post_logout_path")]
    pub post_logout_path: String,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into()]
}
fn default_post_logout_path() -> String {
    "/".into()
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}

impl OidcConfig {
    pub(super) fn validate(&self, allow_insecure_http: bool) -> Result<(), Broken> {
        let issuer = match Url::parse(&self.issuer) {
            Ok(iss) if matches!(iss.scheme(), "http" | "https") && iss.host_str().is_some() => iss,
            _ => {
                return Err(broken(
                    "oidc.issuer",
                    format!("expected an http(s) URL, got {:?}", self.issuer),
                ));
            }
        };
        require_https("oidc.issuer", &issuer, allow_insecure_http)?;
        if self.client_id.is_empty() {
            return Err(broken("oidc.client_id", "expected a non-empty string"));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(broken(
                "oidc.scopes",
                "expected a list that contains \"openid\"",
            ));
        }
        if crate::auth::return_to::sanitize(Some(&self.post_logout_path)) != self.post_logout_path {
            return Err(broken(
                "oidc.post_logout_path",
                "expected a same-origin path such as \"/\" or \"/signed-out\"",
            ));
        }
        Ok(())
    }
}

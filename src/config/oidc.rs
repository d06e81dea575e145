//! `[oidc]`: the identity provider, this client's registration there, and how Vestibule talks to
//! it (`protocol`, `client_auth`, `par`, `[oidc.endpoints]`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::broken::{Broken, broken};
use super::private_key::{KeyAlg, KeyError, SigningKey};
use super::server::require_https;

/// `oidc` (the default): OpenID Connect, with discovery and ID tokens. `oauth2`: a plain OAuth 2.0
/// provider (GitHub and the like): explicit endpoints, no ID token; the identity comes from the
/// userinfo endpoint.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    #[default]
    Oidc,
    Oauth2,
}

/// How Vestibule proves to the IdP that it is this client, at the token, PAR and revocation
/// endpoints. It must be the method the client is registered with at the IdP.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_secret` in an HTTP Basic `Authorization` header: what most IdPs expect.
    #[default]
    ClientSecretBasic,
    /// `client_secret` in the form body, for IdPs that accept only that.
    ClientSecretPost,
    /// RFC 7523: a JWT signed with the client's private key instead of a shared secret.
    PrivateKeyJwt,
}

/// Pushed authorization requests (RFC 9126): the login's parameters go to the IdP directly, and
/// the browser carries only a reference to them, so they can neither be read nor altered on the
/// way.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ParMode {
    /// When the IdP has a PAR endpoint.
    #[default]
    Auto,
    /// Always; not ready while the IdP has none.
    Required,
    /// Never; the parameters travel in the browser's redirect.
    Off,
}

/// Endpoints set by hand: they win over discovery (and are the only source with `protocol =
/// "oauth2"`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointsConfig {
    /// Where the browser is sent to sign in. Required with `protocol = "oauth2"`.
    pub authorization: Option<Url>,
    /// Where codes are exchanged and tokens refreshed (also client credentials and token
    /// exchange). Required with `protocol = "oauth2"`.
    pub token: Option<Url>,
    /// Read for the user's claims with `oidc.userinfo = true`, and for the user's identity with
    /// `protocol = "oauth2"` (then required).
    pub userinfo: Option<Url>,
    /// RFC 7009 token revocation: at logout the session's refresh token is revoked there.
    /// Without one, tokens are left to expire at the IdP.
    pub revocation: Option<Url>,
    /// RP-initiated logout: logout sends the browser there so that the IdP's session ends too.
    /// Without one, the browser goes straight to `post_logout_path`.
    pub end_session: Option<Url>,
    /// The IdP's signing keys (JWKS), which ID and logout tokens are checked against.
    pub jwks: Option<Url>,
    /// The pushed authorization request endpoint (RFC 9126), used as `oidc.par` says.
    pub par: Option<Url>,
}

/// The shortest client secret accepted. IdPs generate 32 characters or more (Keycloak 32,
/// Entra ID 40, Auth0 64); a secret shorter than 16 is a placeholder ("secret", "changeme") or
/// one a person chose, which an attacker can guess offline from any client assertion or Basic
/// header they see. 16 base64 characters are 96 bits: out of reach, and no real IdP's secret is
/// refused.
pub const MIN_CLIENT_SECRET: usize = 16;

/// The login parameters a request to `/auth/login` may pass on to the IdP.
pub const LOGIN_PARAMS: [&str; 5] = [
    "prompt",
    "login_hint",
    "acr_values",
    "max_age",
    "ui_locales",
];

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's name: lower-case letters, digits and `-`. Among an app's
    /// `[[apps.providers]]`, what `/auth/login?provider=` names and `/auth/session` says.
    #[serde(default = "default_name")]
    pub name: String,
    /// What the provider chooser shows for it (`/auth/login` of an app with several providers).
    /// Default: the name.
    pub label: Option<String>,
    #[serde(default)]
    pub protocol: Protocol,
    /// Issuer, exactly as the IdP spells it (compared as a string, trailing slash included);
    /// discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The client ID the IdP gave this application when it was registered; sent with every
    /// authorization and token request, and the audience ID tokens must name.
    pub client_id: String,
    /// Confidential client secret (not with `private_key_jwt`). Better set with
    /// `VESTIBULE_OIDC__CLIENT_SECRET`.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub client_secret: Option<SecretString>,
    /// Instead of `client_secret`: a file holding it (a Kubernetes Secret mounted as a volume),
    /// read at start and at each reload; a trailing newline is not part of the secret.
    #[schemars(extend("x-kind" = "path"))]
    pub client_secret_file: Option<PathBuf>,
    /// Scopes asked for at login. With `protocol = "oidc"` the list must hold `openid`; add
    /// `profile` or `email` for those claims, and `offline_access` where the IdP issues a refresh
    /// token only then (without one, a session cannot outlive its first access token).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// With `client_auth = "private_key_jwt"`: a PEM file holding the client's private key
    /// (PKCS#8, or PKCS#1 for RSA), read and tried at start. This or `private_key`, not both.
    #[schemars(extend("x-kind" = "path"))]
    pub private_key_file: Option<PathBuf>,
    /// With `client_auth = "private_key_jwt"`: the private key's PEM text itself, for platforms
    /// that hand secrets over as variables (`VESTIBULE_OIDC__PRIVATE_KEY`). This or
    /// `private_key_file`, not both.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub private_key: Option<SecretString>,
    #[serde(default)]
    pub private_key_alg: KeyAlg,
    /// The `kid` the IdP knows the key by, sent in each assertion's header; needed when the
    /// client has registered several keys.
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub par: ParMode,
    /// Which of `/auth/login`'s own query parameters are passed on to the IdP.
    #[serde(default = "default_login_params")]
    pub login_params: Vec<String>,
    /// Merge the userinfo endpoint's claims into the session's (its `sub` must match).
    #[serde(default)]
    pub userinfo: bool,
    /// Where the user's groups are in the claims, for the routes' `allow` rules (`groups` in a
    /// rule): a dotted path such as `"realm_access.roles"` (Keycloak) or `"roles"` (Entra ID);
    /// `\.` for a dot inside a claim's name (Auth0's `'https://example\.com/roles'`, a TOML
    /// literal string). Its value may be a list of strings or one string; absent: no groups.
    #[serde(default)]
    #[schemars(with = "String", extend("default" = "groups"))]
    pub groups_claim: crate::authz::ClaimPath,
    /// `protocol = "oauth2"`: the userinfo claim that identifies the user (`id` at GitHub).
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    #[serde(default)]
    pub endpoints: EndpointsConfig,
    /// Extra parameters added to the authorization request (e.g. `audience`, `resource`).
    #[serde(default)]
    pub extra_auth_params: BTreeMap<String, String>,
    /// Timeout of every request to the IdP.
    #[serde(default = "default_http_timeout", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub http_timeout: Duration,
    /// Where the browser lands after logout: `post_logout_redirect_uri` = `public_url` + this
    /// path (register it at the IdP), or the path itself when the IdP has no end-session endpoint.
    #[serde(default = "default_post_logout_path")]
    pub post_logout_path: String,
    /// How long the IdP lets a refresh token live (its setting, stated here): `check-config
    /// --audit` checks that `session.absolute_timeout` is no longer.
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub refresh_token_lifetime: Option<Duration>,
    /// Front-channel logout (`GET {auth_prefix}/frontchannel-logout`) needs the IdP to name
    /// the IdP session it ended: `iss` and `sid`, as OIDC Front-Channel Logout 1.0's
    /// `frontchannel_logout_session_required` asks (register it on at the IdP too). With
    /// `false`, a call with neither ends the session whose cookie it carries, which a browser
    /// sends only when the IdP is on the same site as the application; any page of that site
    /// could then sign the user out.
    #[serde(default = "default_true")]
    pub frontchannel_logout_session_required: bool,
}

fn default_name() -> String {
    "default".into()
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into()]
}
fn default_login_params() -> Vec<String> {
    LOGIN_PARAMS.iter().map(|p| (*p).to_owned()).collect()
}
fn default_subject_claim() -> String {
    "sub".into()
}
fn default_post_logout_path() -> String {
    "/".into()
}
fn default_true() -> bool {
    true
}
fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}

impl OidcConfig {
    /// What the chooser shows.
    pub fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }

    /// Reads `client_secret_file` into `client_secret`: before the checks, which then see the
    /// secret as if it were written inline.
    pub(super) fn read_secret_file(&mut self) -> Result<(), (&'static str, String)> {
        let Some(file) = &self.client_secret_file else {
            return Ok(());
        };
        if self.client_secret.is_some() {
            return Err((
                "oidc.client_secret_file",
                "expected client_secret or client_secret_file, not both".into(),
            ));
        }
        let text = std::fs::read_to_string(file).map_err(|e| {
            (
                "oidc.client_secret_file",
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
        let secret = text.strip_suffix('\n').unwrap_or(&text);
        let secret = secret.strip_suffix('\r').unwrap_or(secret);
        // A second line, a space or a control character is not part of any IdP's secret, but an
        // editor's or a script's: refused here rather than by the IdP at the first login.
        if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err((
                "oidc.client_secret_file",
                format!(
                    "{} holds more than one line, or spaces or control characters, around or in \
                     the secret",
                    file.display()
                ),
            ));
        }
        self.client_secret = Some(SecretString::from(secret.to_owned()));
        Ok(())
    }

    /// The `private_key_jwt` key: from `private_key_file`, else `private_key` (validation made
    /// sure exactly one is set).
    pub fn signing_key(&self) -> Result<SigningKey, KeyError> {
        let (alg, kid) = (self.private_key_alg, self.private_key_id.clone());
        match (&self.private_key_file, &self.private_key) {
            (Some(file), _) => SigningKey::from_file(file, alg, kid),
            (None, Some(pem)) => SigningKey::from_pem_secret(pem, alg, kid),
            (None, None) => SigningKey::from_pem(b"", alg, kid),
        }
    }

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
        self.validate_client_auth()?;
        self.validate_endpoints(allow_insecure_http)?;
        if self.protocol == Protocol::Oidc && !self.scopes.iter().any(|s| s == "openid") {
            return Err(broken(
                "oidc.scopes",
                "expected a list that contains \"openid\"",
            ));
        }
        if let Some(p) = self
            .login_params
            .iter()
            .find(|p| !LOGIN_PARAMS.contains(&p.as_str()))
        {
            return Err(broken(
                "oidc.login_params",
                format!("expected some of {LOGIN_PARAMS:?}, got {p:?}"),
            ));
        }
        if self.subject_claim.is_empty() {
            return Err(broken("oidc.subject_claim", "expected a claim name"));
        }
        if !crate::support::path::is_same_origin(&self.post_logout_path) {
            return Err(broken(
                "oidc.post_logout_path",
                "expected a same-origin path such as \"/\" or \"/signed-out\"",
            ));
        }
        Ok(())
    }

    fn validate_client_auth(&self) -> Result<(), Broken> {
        if self.client_auth != ClientAuth::PrivateKeyJwt {
            let Some(secret) = &self.client_secret else {
                return Err(broken(
                    "oidc.client_secret",
                    "expected the client secret (better: VESTIBULE_OIDC__CLIENT_SECRET), or \
                     client_auth = \"private_key_jwt\" with a private key",
                ));
            };
            let chars = secret.expose_secret().chars().count();
            if chars < MIN_CLIENT_SECRET {
                return Err(broken(
                    "oidc.client_secret",
                    format!(
                        "expected the secret the IdP generated, at least {MIN_CLIENT_SECRET} \
                         characters; got {chars}"
                    ),
                ));
            }
            return Ok(());
        }
        if self.private_key_file.is_some() == self.private_key.is_some() {
            return Err(broken(
                "oidc.private_key_file",
                "expected either private_key_file or private_key (not both) with \
                 client_auth = \"private_key_jwt\"",
            ));
        }
        self.signing_key().map(|_| ()).map_err(|e| {
            broken(
                if self.private_key.is_some() {
                    "oidc.private_key"
                } else {
                    "oidc.private_key_file"
                },
                crate::support::Chain(&e).to_string(),
            )
        })
    }

    fn validate_endpoints(&self, allow_insecure_http: bool) -> Result<(), Broken> {
        let e = &self.endpoints;
        for (key, url) in [
            ("oidc.endpoints.authorization", &e.authorization),
            ("oidc.endpoints.token", &e.token),
            ("oidc.endpoints.userinfo", &e.userinfo),
            ("oidc.endpoints.revocation", &e.revocation),
            ("oidc.endpoints.end_session", &e.end_session),
            ("oidc.endpoints.jwks", &e.jwks),
            ("oidc.endpoints.par", &e.par),
        ] {
            let Some(url) = url else { continue };
            if !matches!(url.scheme(), "http" | "https") {
                return Err(broken(key, "expected an http(s) URL"));
            }
            require_https(key, url, allow_insecure_http)?;
        }
        if self.protocol == Protocol::Oauth2 {
            for (key, url) in [
                ("oidc.endpoints.authorization", &e.authorization),
                ("oidc.endpoints.token", &e.token),
                ("oidc.endpoints.userinfo", &e.userinfo),
            ] {
                if url.is_none() {
                    return Err(broken(
                        key,
                        "expected a URL: with protocol = \"oauth2\" there is no discovery",
                    ));
                }
            }
        }
        Ok(())
    }
}

//! [`Provider`]: what Vestibule knows of the IdP (its endpoints and keys, once discovered) and
//! how it reaches it (one HTTP client that follows no redirects, and this client's credentials).
//! The operations live beside it: `discovery`, `authorize`, `token`, `id_token`, `userinfo`,
//! `logout_token`.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use openidconnect::core::CoreJsonWebKeySet;
use tokio::sync::Mutex;
use url::Url;

use super::OidcError;
use super::client_auth::Credentials;
use super::metadata::Loaded;
use crate::config::KeyError;
use crate::config::{Config, EndpointsConfig, ParMode, Protocol};
use crate::support::{read, write};

/// The identity provider: discovery, keys, and every request Vestibule makes to it.
pub struct Provider {
    pub(super) protocol: Protocol,
    pub(super) issuer: String,
    pub(super) client_id: String,
    pub(super) credentials: Credentials,
    pub(super) scopes: Vec<String>,
    pub(super) extra_params: Vec<(String, String)>,
    /// RFC 8707 `resource` of each route that narrows the user's token: asked for at login too,
    /// so that the grant covers them.
    pub(super) resources: Vec<String>,
    pub(super) par: ParMode,
    /// Merge userinfo claims into the session's (always, with `protocol = "oauth2"`).
    pub(super) userinfo: bool,
    pub(super) subject_claim: String,
    /// `oidc.frontchannel_logout_session_required`, checked against what discovery says.
    pub(super) frontchannel_session_required: bool,
    pub(super) overrides: EndpointsConfig,
    pub(super) redirect_uri: String,
    pub(super) http: reqwest::Client,
    /// `None` until discovery first succeeds.
    pub(super) loaded: RwLock<Option<Arc<Loaded>>>,
    pub(super) jwks: RwLock<Arc<CoreJsonWebKeySet>>,
    /// Why the last discovery failed, for `/readyz` and for [`OidcError::NotReady`].
    pub(super) last_error: RwLock<String>,
    /// When an unknown `kid` last caused a refetch (the rate limit's clock).
    pub(super) last_jwks_fetch: Mutex<Option<Instant>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the client's private key")]
    Key(#[from] KeyError),
    #[error("cannot build the HTTP client for the IdP")]
    Http(#[from] reqwest::Error),
}

impl Provider {
    pub fn new(config: &Config) -> Result<Self, ProviderError> {
        let o = &config.oidc;
        let http = reqwest::Client::builder()
            // Following redirects from the IdP's endpoints would be an SSRF vector.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(o.http_timeout)
            .connect_timeout(o.http_timeout)
            // Some providers' APIs (GitHub's userinfo) refuse requests without one.
            .user_agent(concat!("vestibule/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            protocol: o.protocol,
            issuer: o.issuer.clone(),
            client_id: o.client_id.clone(),
            credentials: Credentials::from_config(o)?,
            scopes: o.scopes.clone(),
            extra_params: o
                .extra_auth_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            resources: user_resources(config),
            par: o.par,
            userinfo: o.userinfo || o.protocol == Protocol::Oauth2,
            subject_claim: o.subject_claim.clone(),
            frontchannel_session_required: o.frontchannel_logout_session_required,
            overrides: o.endpoints.clone(),
            redirect_uri: format!("{}{}/callback", config.origin(), config.server.auth_prefix),
            http,
            loaded: RwLock::new(None),
            jwks: RwLock::new(Arc::new(CoreJsonWebKeySet::new(vec![]))),
            last_error: RwLock::new("discovery has not run yet".into()),
            last_jwks_fetch: Mutex::new(None),
        })
    }

    /// This new provider, with what `old` discovered when both find their endpoints the same
    /// way (the same issuer, protocol and configured endpoints): a reload does not make a
    /// provider unready while it discovers again.
    pub fn adopting(self, old: &Provider) -> Self {
        let same = self.issuer == old.issuer
            && self.protocol == old.protocol
            && format!("{:?}", self.overrides) == format!("{:?}", old.overrides);
        if same {
            *write(&self.loaded) = read(&old.loaded).clone();
            *write(&self.jwks) = read(&old.jwks).clone();
        }
        self
    }

    /// What discovery produced, or why there is nothing yet.
    pub(super) fn loaded(&self) -> Result<Arc<Loaded>, OidcError> {
        read(&self.loaded)
            .clone()
            .ok_or_else(|| OidcError::NotReady(read(&self.last_error).clone()))
    }

    /// `None` when ready, else why not (for `/readyz`).
    pub fn not_ready_reason(&self) -> Option<String> {
        match self.loaded() {
            Ok(_) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// The IdP's end-session endpoint, when it has one.
    pub fn end_session_endpoint(&self) -> Option<Url> {
        self.loaded()
            .ok()
            .and_then(|l| l.endpoints.end_session.clone())
    }

    /// Whether logins produce ID tokens (OpenID Connect) or not (plain OAuth 2.0).
    pub fn is_oidc(&self) -> bool {
        self.protocol == Protocol::Oidc
    }
}

fn user_resources(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = config
        .routes
        .iter()
        .filter(|r| r.own_user_token() && r.exchange.is_none())
        .filter_map(|r| r.resource.clone())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Provider {
    /// A form POST to one of the IdP's endpoints, authenticated as this client: the returned
    /// request has any Basic header, `form` gets the rest. Send it with `.form(&form)`.
    pub(super) fn post_authenticated(
        &self,
        loaded: &Loaded,
        endpoint: url::Url,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<reqwest::RequestBuilder, OidcError> {
        self.credentials.apply(
            &self.client_id,
            loaded.endpoints.token.as_str(),
            self.http.post(endpoint),
            form,
        )
    }
}

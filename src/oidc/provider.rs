//! [`Provider`]: what Vestibule knows of the IdP (its metadata and keys, once discovered) and
//! how it reaches it (one HTTP client that follows no redirects). The operations live beside it:
//! `discovery`, `authorize`, `token`, `id_token`, `logout_token`.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use openidconnect::core::CoreJsonWebKeySet;
use openidconnect::{AuthType, ClientSecret, RedirectUrl};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;
use url::Url;

use super::OidcError;
use super::discovery::Loaded;
use crate::config::{ClientAuth, Config};
use crate::support::read;

/// The identity provider: discovery, keys, and every request Vestibule makes to it.
pub struct Provider {
    pub(super) issuer: String,
    pub(super) client_id: String,
    pub(super) client_secret: ClientSecret,
    pub(super) auth_type: AuthType,
    pub(super) scopes: Vec<String>,
    pub(super) extra_params: Vec<(String, String)>,
    pub(super) redirect_uri: RedirectUrl,
    pub(super) http: reqwest::Client,
    /// `None` until discovery first succeeds.
    pub(super) loaded: RwLock<Option<Arc<Loaded>>>,
    pub(super) jwks: RwLock<Arc<CoreJsonWebKeySet>>,
    /// Why the last discovery failed, for `/readyz` and for [`OidcError::NotReady`].
    pub(super) last_error: RwLock<String>,
    /// When an unknown `kid` last caused a refetch (the rate limit's clock).
    pub(super) last_jwks_fetch: Mutex<Option<Instant>>,
}

impl Provider {
    pub fn new(config: &Config) -> Result<Self, OidcError> {
        let o = &config.oidc;
        let redirect = format!("{}{}/callback", config.origin(), config.server.auth_prefix);
        let redirect_uri =
            RedirectUrl::new(redirect).map_err(|e| OidcError::NotReady(e.to_string()))?;
        let http = reqwest::Client::builder()
            // Following redirects from the IdP's endpoints would be an SSRF vector.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(o.http_timeout)
            .connect_timeout(o.http_timeout)
            .build()
            .map_err(|e| OidcError::NotReady(e.to_string()))?;
        Ok(Self {
            issuer: o.issuer.clone(),
            client_id: o.client_id.clone(),
            client_secret: ClientSecret::new(o.client_secret.expose_secret().to_owned()),
            auth_type: match o.client_auth {
                ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
                ClientAuth::ClientSecretPost => AuthType::RequestBody,
            },
            scopes: o.scopes.clone(),
            extra_params: o
                .extra_auth_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            redirect_uri,
            http,
            loaded: RwLock::new(None),
            jwks: RwLock::new(Arc::new(CoreJsonWebKeySet::new(vec![]))),
            last_error: RwLock::new("discovery has not run yet".into()),
            last_jwks_fetch: Mutex::new(None),
        })
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
            .and_then(|l| l.extra.end_session_endpoint.clone())
    }
}

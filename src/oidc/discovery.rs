//! Where the IdP's endpoints and keys come from, kept current in the background (the process
//! starts, and says why it is not ready, while the IdP is down; retries back off; metadata is
//! refreshed every 15 minutes; the JWKS is refetched, rate-limited, for an unknown `kid`).
//!
//! With OpenID Connect: Discovery 1.0 first. Endpoints it does not list (revocation and PAR, which
//! some IdPs publish only in RFC 8414 authorization server metadata) are looked up in
//! `/.well-known/oauth-authorization-server`, in both URL forms for issuers with a path. Then
//! `[oidc.endpoints]` overrides win. With plain OAuth 2.0 the endpoints are the configured ones.
//! Each time the endpoints change, one log line says which are in use and which features are off
//! for lack of one.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, IssuerUrl, JsonWebKeySetUrl, JwsSigningAlgorithm, ProviderMetadata,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::metadata::{Endpoints, Loaded};
use super::{OidcError, Provider};
use crate::config::{ParMode, Protocol};
use crate::support::{Chain, read, write};

/// How often the JWKS may be refetched because a token named an unknown key.
const JWKS_REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(10);
/// Once loaded, metadata and keys are refreshed this often (keeps up with key rotation).
const METADATA_REFRESH: Duration = Duration::from_secs(15 * 60);

/// Discovery fields beyond what `openidconnect` models.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    pub end_session_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    pub pushed_authorization_request_endpoint: Option<Url>,
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Whether the IdP sends `iss` and `sid` to front-channel logout URIs (absent: unknown).
    pub frontchannel_logout_session_supported: Option<bool>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Endpoints as found, before overrides and checks.
#[derive(Default)]
struct Found {
    authorization: Option<Url>,
    token: Option<Url>,
    userinfo: Option<Url>,
    revocation: Option<Url>,
    end_session: Option<Url>,
    par: Option<Url>,
    jwks: Option<Url>,
    require_par: bool,
}

impl Provider {
    /// Keeps the metadata loaded: retries with exponential backoff (1 s .. 30 s) until discovery
    /// succeeds, then refreshes it periodically. Runs for the life of the process.
    pub async fn keep_discovered(me: Weak<Self>) {
        let mut backoff = Duration::from_secs(1);
        // Holds the provider only while it works: a reload that replaced it ends the loop.
        while let Some(this) = me.upgrade() {
            let result = this.discover().await;
            let oauth2 = this.protocol == Protocol::Oauth2;
            match result {
                // Configured endpoints do not change: nothing to refresh.
                Ok(()) if oauth2 => return,
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    drop(this);
                    tokio::time::sleep(METADATA_REFRESH).await;
                }
                Err(e) => {
                    let reason = Chain(&e).to_string();
                    tracing::warn!(error = %reason, retry_in_s = backoff.as_secs(), "OIDC discovery failed");
                    *write(&this.last_error) = reason;
                    drop(this);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Loads endpoints and keys once.
    pub async fn discover(&self) -> Result<(), OidcError> {
        let loaded = match self.protocol {
            Protocol::Oidc => self.discover_oidc().await?,
            Protocol::Oauth2 => self.configured()?,
        };
        let changed = read(&self.loaded)
            .as_ref()
            .is_none_or(|old| old.endpoints != loaded.endpoints || old.use_par != loaded.use_par);
        if changed {
            self.log_endpoints(&loaded);
        }
        *write(&self.loaded) = Some(Arc::new(loaded));
        Ok(())
    }

    #[tracing::instrument(level = "debug", name = "idp.discovery", skip_all, fields(otel.kind = "client"))]
    async fn discover_oidc(&self) -> Result<Loaded, OidcError> {
        let issuer =
            IssuerUrl::new(self.issuer.clone()).map_err(|e| OidcError::NotReady(e.to_string()))?;
        let metadata = Metadata::discover_async(issuer.clone(), &self.http)
            .await
            .map_err(OidcError::unreachable)?;
        let id_token_algs: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|a| !a.uses_shared_secret() && **a != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        if id_token_algs.is_empty() {
            return Err(OidcError::NotReady(
                "the IdP advertises no asymmetric ID token signing algorithm".into(),
            ));
        }
        let extra = metadata.additional_metadata();
        let mut found = Found {
            authorization: Some(metadata.authorization_endpoint().url().clone()),
            token: metadata.token_endpoint().map(|u| u.url().clone()),
            userinfo: metadata.userinfo_endpoint().map(|u| u.url().clone()),
            revocation: extra.revocation_endpoint.clone(),
            end_session: extra.end_session_endpoint.clone(),
            par: extra.pushed_authorization_request_endpoint.clone(),
            jwks: Some(metadata.jwks_uri().url().clone()),
            require_par: extra.require_pushed_authorization_requests,
        };
        if found.revocation.is_none() || found.par.is_none() {
            self.fill_from_oauth_metadata(&mut found).await;
        }
        let mut jwks = metadata.jwks().clone();
        if let Some(url) = &self.overrides.jwks
            && found.jwks.as_ref() != Some(url)
        {
            let url = JsonWebKeySetUrl::from_url(url.clone());
            jwks = CoreJsonWebKeySet::fetch_async(&url, &self.http)
                .await
                .map_err(OidcError::unreachable)?;
        }
        let loaded = self.finish(issuer, found, id_token_algs, extra)?;
        *write(&self.jwks) = Arc::new(jwks);
        Ok(loaded)
    }

    /// `protocol = "oauth2"`: the configured endpoints (validated at load), no keys.
    fn configured(&self) -> Result<Loaded, OidcError> {
        let issuer =
            IssuerUrl::new(self.issuer.clone()).map_err(|e| OidcError::NotReady(e.to_string()))?;
        self.finish(
            issuer,
            Found::default(),
            Vec::new(),
            &ExtraMetadata::default(),
        )
    }

    /// Overrides, then the checks that make the endpoints usable for this configuration.
    fn finish(
        &self,
        issuer: IssuerUrl,
        found: Found,
        id_token_algs: Vec<CoreJwsSigningAlgorithm>,
        extra: &ExtraMetadata,
    ) -> Result<Loaded, OidcError> {
        let o = &self.overrides;
        let pick = |over: &Option<Url>, found: Option<Url>| over.clone().or(found);
        let missing = |what: &str| OidcError::NotReady(format!("the IdP has no {what} endpoint"));
        let endpoints = Endpoints {
            authorization: pick(&o.authorization, found.authorization)
                .ok_or_else(|| missing("authorization"))?,
            token: pick(&o.token, found.token).ok_or_else(|| missing("token"))?,
            userinfo: pick(&o.userinfo, found.userinfo),
            revocation: pick(&o.revocation, found.revocation),
            end_session: pick(&o.end_session, found.end_session),
            par: pick(&o.par, found.par),
            jwks: pick(&o.jwks, found.jwks),
        };
        if self.userinfo && endpoints.userinfo.is_none() {
            return Err(missing("userinfo"));
        }
        let par_required = self.par == ParMode::Required || found.require_par;
        let use_par = match (self.par, &endpoints.par) {
            (ParMode::Off, _) if found.require_par => {
                return Err(OidcError::NotReady(
                    "the IdP requires pushed authorization requests, and par = \"off\"".into(),
                ));
            }
            (ParMode::Off, _) => false,
            (_, Some(_)) => true,
            (_, None) if par_required => return Err(missing("pushed authorization request")),
            (_, None) => false,
        };
        Ok(Loaded {
            issuer,
            endpoints,
            iss_parameter_supported: extra.authorization_response_iss_parameter_supported,
            frontchannel_session_supported: extra.frontchannel_logout_session_supported,
            use_par,
            id_token_algs,
        })
    }

    /// RFC 8414 metadata, for what OpenID discovery left out. Best effort: a miss changes nothing.
    async fn fill_from_oauth_metadata(&self, found: &mut Found) {
        for url in oauth_metadata_urls(&self.issuer) {
            let doc: serde_json::Value = match self.http.get(url.clone()).send().await {
                Ok(res) if res.status().is_success() => match res.json().await {
                    Ok(doc) => doc,
                    Err(_) => continue,
                },
                _ => continue,
            };
            // The document is only trusted for the issuer it names (RFC 8414 section 3.3).
            if doc["issuer"].as_str() != Some(self.issuer.as_str()) {
                tracing::warn!(%url, "authorization server metadata names another issuer; ignored");
                continue;
            }
            let endpoint = |name: &str| doc[name].as_str().and_then(|s| Url::parse(s).ok());
            found.revocation = found.revocation.take().or(endpoint("revocation_endpoint"));
            found.par = found
                .par
                .take()
                .or(endpoint("pushed_authorization_request_endpoint"));
            found.end_session = found
                .end_session
                .take()
                .or(endpoint("end_session_endpoint"));
            found.require_par |= doc["require_pushed_authorization_requests"] == true;
            tracing::debug!(%url, "endpoints filled from authorization server metadata");
            return;
        }
    }

    fn log_endpoints(&self, l: &Loaded) {
        let e = &l.endpoints;
        let show = |u: &Option<Url>| u.as_ref().map_or("none".to_owned(), Url::to_string);
        tracing::info!(
            issuer = %self.issuer,
            authorization = %e.authorization,
            token = %e.token,
            userinfo = %show(&e.userinfo),
            revocation = %show(&e.revocation),
            end_session = %show(&e.end_session),
            par = %show(&e.par),
            jwks = %show(&e.jwks),
            "IdP endpoints in use"
        );
        let mut off = Vec::new();
        if e.revocation.is_none() {
            off.push("refresh token revocation at logout (no revocation endpoint)");
        }
        if e.end_session.is_none() {
            off.push("logout at the IdP (no end-session endpoint)");
        }
        if !l.use_par {
            off.push("pushed authorization requests");
        }
        for feature in off {
            tracing::info!(feature, "off");
        }
        if self.frontchannel_session_required && l.frontchannel_session_supported == Some(false) {
            // Its front-channel logouts would name no IdP session, and be refused.
            tracing::warn!(
                "the IdP does not send iss and sid to front-channel logout URIs \
                 (frontchannel_logout_session_supported: false), and \
                 oidc.frontchannel_logout_session_required is true: its front-channel logouts \
                 will be refused"
            );
        }
    }

    /// Refetches the JWKS unless that was done less than [`JWKS_REFETCH_MIN_INTERVAL`] ago.
    /// Returns whether a new key set was loaded.
    #[tracing::instrument(level = "debug", name = "idp.jwks", skip_all, fields(otel.kind = "client"))]
    pub(super) async fn refetch_jwks(&self, loaded: &Loaded) -> bool {
        let Some(url) = &loaded.endpoints.jwks else {
            return false;
        };
        let mut last = self.last_jwks_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < JWKS_REFETCH_MIN_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        let url = JsonWebKeySetUrl::from_url(url.clone());
        match CoreJsonWebKeySet::fetch_async(&url, &self.http).await {
            Ok(jwks) => {
                *write(&self.jwks) = Arc::new(jwks);
                tracing::info!("JWKS refetched for an unknown key id");
                true
            }
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "JWKS refetch failed");
                false
            }
        }
    }
}

/// Where RFC 8414 metadata may be: `{origin}/.well-known/oauth-authorization-server{path}` (the
/// RFC's form), and for an issuer with a path also `{issuer}/.well-known/…` (what some servers
/// do, like OpenID discovery).
fn oauth_metadata_urls(issuer: &str) -> Vec<Url> {
    const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
    let Ok(url) = Url::parse(issuer) else {
        return Vec::new();
    };
    let path = url.path().trim_end_matches('/').to_owned();
    let origin = url.origin().ascii_serialization();
    let mut urls = vec![format!("{origin}{WELL_KNOWN}{path}")];
    if !path.is_empty() {
        urls.push(format!("{origin}{path}{WELL_KNOWN}"));
    }
    urls.iter().filter_map(|u| Url::parse(u).ok()).collect()
}

#[cfg(test)]
mod tests;

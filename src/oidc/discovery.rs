//! OpenID Connect Discovery and the IdP's keys: loaded in the background (the process starts,
//! and says why it is not ready, while the IdP is down), retried with backoff, refreshed every
//! 15 minutes, and the JWKS refetched (rate-limited) when a token names a key we do not know.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, ClientId, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySetUrl, JwsSigningAlgorithm, ProviderMetadata,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{OidcError, Provider};
use crate::support::{Chain, write};

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

/// The client with the endpoints discovery gives: authorization and token always; user info and
/// introspection when advertised (unused).
pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery produced.
pub struct Loaded {
    pub client: Client,
    pub issuer: IssuerUrl,
    pub jwks_uri: JsonWebKeySetUrl,
    pub extra: ExtraMetadata,
    /// Asymmetric algorithms the IdP signs ID tokens with; `none` and HMAC are never accepted.
    pub id_token_algs: Vec<CoreJwsSigningAlgorithm>,
}

impl Provider {
    /// Keeps the metadata loaded: retries with exponential backoff (1 s .. 30 s) until discovery
    /// succeeds, then refreshes it periodically. Runs for the life of the process.
    pub async fn keep_discovered(self: Arc<Self>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.discover().await {
                Ok(()) => {
                    backoff = Duration::from_secs(1);
                    tokio::time::sleep(METADATA_REFRESH).await;
                }
                Err(e) => {
                    let reason = Chain(&e).to_string();
                    tracing::warn!(error = %reason, retry_in_s = backoff.as_secs(), "OIDC discovery failed");
                    *write(&self.last_error) = reason;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Fetches discovery and JWKS once.
    pub async fn discover(&self) -> Result<(), OidcError> {
        let issuer =
            IssuerUrl::new(self.issuer.clone()).map_err(|e| OidcError::NotReady(e.to_string()))?;
        let metadata = Metadata::discover_async(issuer, &self.http)
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
        let extra = metadata.additional_metadata().clone();
        let issuer = metadata.issuer().clone();
        let jwks_uri = metadata.jwks_uri().clone();
        let jwks = metadata.jwks().clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(self.auth_type.clone());
        *write(&self.jwks) = Arc::new(jwks);
        *write(&self.loaded) = Some(Arc::new(Loaded {
            client,
            issuer,
            jwks_uri,
            extra,
            id_token_algs,
        }));
        tracing::info!(issuer = %self.issuer, "OIDC metadata loaded");
        Ok(())
    }

    /// Refetches the JWKS unless that was done less than [`JWKS_REFETCH_MIN_INTERVAL`] ago.
    /// Returns whether a new key set was loaded.
    pub(super) async fn refetch_jwks(&self, loaded: &Loaded) -> bool {
        let mut last = self.last_jwks_fetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < JWKS_REFETCH_MIN_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        match CoreJsonWebKeySet::fetch_async(&loaded.jwks_uri, &self.http).await {
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

//! The identity provider, as the proxy sees it: discovery, JWKS, the authorization request,
//! the code exchange and ID token validation. Built on the `openidconnect` crate; nothing here
//! checks a signature by hand.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    CoreTokenResponse,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySetUrl, JwsSigningAlgorithm, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadata, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;

use crate::config::{ClientAuth, Config};

pub mod logout_token;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider metadata not loaded yet: {0}")]
    NotReady(String),
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
    #[error("the identity provider refused the request: {0}")]
    Refused(String),
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    #[error("the token response has no ID token")]
    MissingIdToken,
    #[error("the authorization response's `iss` does not match the issuer")]
    IssuerMismatch,
    #[error("the refresh token is no longer valid (invalid_grant)")]
    InvalidGrant,
    #[error("invalid logout token: {0}")]
    InvalidLogoutToken(String),
}

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

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery produced.
struct Loaded {
    client: Client,
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    extra: ExtraMetadata,
    /// Asymmetric algorithms the IdP signs ID tokens with; `none` and HMAC are never accepted.
    id_token_algs: Vec<CoreJwsSigningAlgorithm>,
}

/// An authorization request ready to send the browser to.
pub struct AuthRequest {
    pub url: Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The result of a successful code exchange and ID token validation.
pub struct LoginTokens {
    pub sub: String,
    pub sid: Option<String>,
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub access_expires_in: Option<Duration>,
}

/// New tokens from a refresh.
pub struct RefreshedTokens {
    pub access_token: String,
    /// The rotated refresh token, when the IdP rotates; else keep the old one.
    pub refresh_token: Option<String>,
    pub access_expires_in: Option<Duration>,
}

pub use logout_token::{LogoutTarget, LogoutTokenError, MAX_AGE_SECS as LOGOUT_TOKEN_MAX_AGE_SECS};

/// How often the JWKS may be refetched because a token named an unknown key.
const JWKS_REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(10);
/// Once loaded, metadata and keys are refreshed this often (keeps up with key rotation).
const METADATA_REFRESH: Duration = Duration::from_secs(15 * 60);
/// Allowed clock skew for `iat` in the future.
const IAT_FUTURE_SKEW_SECS: i64 = 300;

pub struct Provider {
    issuer: String,
    client_id: String,
    client_secret: ClientSecret,
    auth_type: AuthType,
    scopes: Vec<String>,
    extra_params: Vec<(String, String)>,
    redirect_uri: RedirectUrl,
    http: reqwest::Client,
    loaded: RwLock<Option<Arc<Loaded>>>,
    jwks: RwLock<Arc<CoreJsonWebKeySet>>,
    last_error: RwLock<String>,
    /// When an unknown `kid` last caused a refetch (the rate limit's clock).
    last_jwks_fetch: Mutex<Option<Instant>>,
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
                    tracing::warn!(error = %e, retry_in_s = backoff.as_secs(), "OIDC discovery failed");
                    *write(&self.last_error) = e.to_string();
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
            .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
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

    fn loaded(&self) -> Result<Arc<Loaded>, OidcError> {
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

    /// Builds an authorization request with fresh state, nonce and PKCE (S256).
    pub fn authorization_request(&self) -> Result<AuthRequest, OidcError> {
        let loaded = self.loaded()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = loaded
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.scopes.iter().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(scope.clone()));
        }
        for (k, v) in &self.extra_params {
            req = req.add_extra_param(k.clone(), v.clone());
        }
        let (url, state, nonce) = req.url();
        Ok(AuthRequest {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// RFC 9207: when the IdP sends `iss` it must be ours; when it advertises sending it, it must.
    pub fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), OidcError> {
        let loaded = self.loaded()?;
        match iss {
            Some(i) if i == loaded.issuer.as_str() => Ok(()),
            Some(_) => Err(OidcError::IssuerMismatch),
            None if loaded.extra.authorization_response_iss_parameter_supported => {
                Err(OidcError::IssuerMismatch)
            }
            None => Ok(()),
        }
    }

    /// Exchanges the code (with the PKCE verifier) and validates the ID token against `nonce`.
    pub async fn finish_login(
        &self,
        code: String,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<LoginTokens, OidcError> {
        let loaded = self.loaded()?;
        let response: CoreTokenResponse = loaded
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::NotReady(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => OidcError::Refused(r.error().to_string()),
                // openidconnect reads the ID token's claims while parsing the response: a token
                // without `sub`, or with claims of the wrong type, fails to parse. (The token
                // response flattens its ID token fields, so the error carries no useful path.)
                RequestTokenError::Parse(e, _) => {
                    OidcError::InvalidIdToken(format!("unreadable token response: {}", e.inner()))
                }
                other => OidcError::Unreachable(error_chain(&other)),
            })?;
        let id_token = response.id_token().ok_or(OidcError::MissingIdToken)?;
        let claims = self.validate_id_token(&loaded, id_token, nonce).await?;
        let sub = claims
            .get("sub")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let sid = claims
            .get("sid")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(LoginTokens {
            sub,
            sid,
            claims,
            id_token: id_token.to_string(),
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            access_expires_in: response.expires_in(),
        })
    }

    /// Exchanges a refresh token (RFC 6749 section 6). `InvalidGrant` when the IdP refuses the
    /// token itself; `Unreachable` for network and server failures (the session should be kept).
    pub async fn refresh(&self, refresh_token: &str) -> Result<RefreshedTokens, OidcError> {
        let loaded = self.loaded()?;
        let token = RefreshToken::new(refresh_token.to_owned());
        let response: CoreTokenResponse = loaded
            .client
            .exchange_refresh_token(&token)
            .map_err(|e| OidcError::NotReady(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) if r.error().as_ref() == "invalid_grant" => {
                    OidcError::InvalidGrant
                }
                RequestTokenError::ServerResponse(r) => OidcError::Refused(r.error().to_string()),
                other => OidcError::Unreachable(error_chain(&other)),
            })?;
        Ok(RefreshedTokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            access_expires_in: response.expires_in(),
        })
    }

    /// Revokes a refresh token at the IdP's RFC 7009 endpoint; `Ok(false)` when it has none.
    ///
    /// Sent with reqwest rather than oauth2's `RevocationRequest`, which refuses every endpoint
    /// that is not https (and so every loopback IdP in development and in the tests). The request
    /// is RFC 7009's form with the same client authentication as the token endpoint.
    pub async fn revoke_refresh_token(&self, refresh_token: &str) -> Result<bool, OidcError> {
        let loaded = self.loaded()?;
        let Some(endpoint) = loaded.extra.revocation_endpoint.clone() else {
            return Ok(false);
        };
        let mut form = vec![
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        let mut req = self.http.post(endpoint);
        match self.auth_type {
            AuthType::RequestBody => {
                form.push(("client_id", self.client_id.as_str()));
                form.push(("client_secret", self.client_secret.secret().as_str()));
            }
            _ => {
                // RFC 6749 2.3.1: both parts form-urlencoded before Basic encoding.
                let enc = |v: &str| {
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                };
                req = req.basic_auth(enc(&self.client_id), Some(enc(self.client_secret.secret())));
            }
        }
        let res = req
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(error_chain(&e)))?;
        if res.status().is_success() {
            Ok(true)
        } else {
            Err(OidcError::Refused(format!(
                "revocation endpoint answered {}",
                res.status()
            )))
        }
    }

    /// Validates a back-channel logout token (see [`logout_token::check`]) against the cached
    /// JWKS, refetching it once (rate-limited) when no key verifies the signature.
    pub async fn validate_logout_token(&self, jwt: &str) -> Result<LogoutTarget, OidcError> {
        let loaded = self.loaded()?;
        let expected = logout_token::Expected {
            issuer: loaded.issuer.as_str(),
            client_id: &self.client_id,
            algs: &loaded.id_token_algs,
        };
        let now = crate::session::now_unix();
        let jwks = read(&self.jwks).clone();
        let result = match logout_token::check(jwt, &expected, &jwks, now) {
            Err(LogoutTokenError::Signature) if self.refetch_jwks(&loaded).await => {
                let jwks = read(&self.jwks).clone();
                logout_token::check(jwt, &expected, &jwks, now)
            }
            other => other,
        };
        result.map_err(|e| OidcError::InvalidLogoutToken(e.to_string()))
    }

    fn verifier(&self, loaded: &Loaded) -> CoreIdTokenVerifier<'static> {
        let jwks = (*read(&self.jwks).clone()).clone();
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.client_id.clone()),
            loaded.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(loaded.id_token_algs.clone())
        .set_issue_time_verifier_fn(|iat| {
            if iat.timestamp() > crate::session::now_unix() + IAT_FUTURE_SKEW_SECS {
                Err("issued in the future".into())
            } else {
                Ok(())
            }
        })
    }

    /// Validates signature (refetching the JWKS once, rate-limited, for an unknown key id), `iss`,
    /// `aud`, `azp`, `exp`, `iat` and `nonce`; returns all claims of the token.
    async fn validate_id_token(
        &self,
        loaded: &Loaded,
        token: &CoreIdToken,
        nonce: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
        let nonce = Nonce::new(nonce.to_owned());
        let azp = |c: &openidconnect::core::CoreIdTokenClaims| {
            c.authorized_party().map(|a| a.to_string())
        };
        let first = token.claims(&self.verifier(loaded), &nonce).map(azp);
        let azp = match first {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refetch_jwks(loaded).await => {
                token.claims(&self.verifier(loaded), &nonce).map(azp)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
        // OIDC Core 3.1.3.7 step 5, which openidconnect leaves to the client: a present `azp`
        // must be this client. (Extra untrusted audiences are already refused by the verifier.)
        if azp.is_some_and(|a| a != self.client_id) {
            return Err(OidcError::InvalidIdToken("`azp` is not this client".into()));
        }
        payload_claims(&token.to_string())
            .ok_or_else(|| OidcError::InvalidIdToken("unreadable payload".into()))
    }

    /// Refetches the JWKS unless that was done less than [`JWKS_REFETCH_MIN_INTERVAL`] ago.
    /// Returns whether a new key set was loaded.
    async fn refetch_jwks(&self, loaded: &Loaded) -> bool {
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
                tracing::warn!(error = %error_chain(&e), "JWKS refetch failed");
                false
            }
        }
    }
}

/// The claims of a compact JWS whose signature was already verified.
fn payload_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    decode_json(jwt.split('.').nth(1)?)
}

/// A base64url JSON segment of a JWS.
fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// An error and its sources on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn read<T: Clone>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}

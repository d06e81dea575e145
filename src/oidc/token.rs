//! The token endpoint and revocation: step (D), the code exchange (then the ID token is validated,
//! see `id_token`); the refresh-token grant (RFC 6749 section 6); and RFC 7009 revocation.

use std::time::Duration;

use openidconnect::core::CoreTokenResponse;
use openidconnect::{
    AuthType, AuthorizationCode, OAuth2TokenResponse, PkceCodeVerifier, RefreshToken,
    RequestTokenError, TokenResponse,
};

use super::{OidcError, Provider};

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

impl Provider {
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
                other => OidcError::unreachable(other),
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
                other => OidcError::unreachable(other),
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
            .map_err(OidcError::unreachable)?;
        if res.status().is_success() {
            Ok(true)
        } else {
            Err(OidcError::Refused(format!(
                "revocation endpoint answered {}",
                res.status()
            )))
        }
    }
}

//! Step (A): the authorization request, with fresh `state`, `nonce` and PKCE (S256); and at the
//! callback, the RFC 9207 check of the response's `iss`.

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
use url::Url;

use super::{OidcError, Provider};

/// An authorization request ready to send the browser to.
pub struct AuthRequest {
    pub url: Url,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl Provider {
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
}

//! Step (A): the authorization request, with fresh `state`, `nonce` (OpenID Connect only) and PKCE
//! (S256), the deployment's extra parameters and the login parameters the SPA passed; sent as a
//! URL, or first pushed to the IdP (RFC 9126 PAR) so that the browser carries only `client_id`
//! and `request_uri`. And at the callback, the RFC 9207 check of the response's `iss`.

use oauth2::{CsrfToken, PkceCodeChallenge};
use openidconnect::Nonce;
use serde::Deserialize;
use url::Url;

use super::metadata::Loaded;
use super::{OidcError, Provider};

/// An authorization request ready to send the browser to.
pub struct AuthRequest {
    pub url: Url,
    pub state: String,
    /// Empty with plain OAuth 2.0 (no ID token to carry it).
    pub nonce: String,
    pub pkce_verifier: String,
}

impl Provider {
    /// Whether a login makes a pushed authorization request (an IdP call) first.
    pub fn uses_par(&self) -> bool {
        self.loaded().is_ok_and(|l| l.use_par)
    }

    /// Builds an authorization request; `login_params` (already checked) are added last and win
    /// over the deployment's `extra_auth_params`.
    pub async fn authorization_request(
        &self,
        login_params: &[(&'static str, String)],
    ) -> Result<AuthRequest, OidcError> {
        let loaded = self.loaded()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random().secret().clone();
        let nonce = if self.is_oidc() {
            Nonce::new_random().secret().clone()
        } else {
            String::new()
        };
        let mut params: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), self.redirect_uri.clone()),
            ("scope".into(), self.scopes.join(" ")),
            ("state".into(), state.clone()),
            ("code_challenge".into(), challenge.as_str().to_owned()),
            ("code_challenge_method".into(), "S256".into()),
        ];
        if !nonce.is_empty() {
            params.push(("nonce".into(), nonce.clone()));
        }
        for r in &self.resources {
            params.push(("resource".into(), r.clone()));
        }
        for (k, v) in &self.extra_params {
            if !login_params.iter().any(|(name, _)| name == k) {
                params.push((k.clone(), v.clone()));
            }
        }
        params.extend(
            login_params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone())),
        );
        let mut url = loaded.endpoints.authorization.clone();
        if loaded.use_par {
            let request_uri = self.push(&loaded, params).await?;
            url.query_pairs_mut()
                .append_pair("client_id", &self.client_id)
                .append_pair("request_uri", &request_uri);
        } else {
            url.query_pairs_mut().extend_pairs(&params);
        }
        Ok(AuthRequest {
            url,
            state,
            nonce,
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// RFC 9126: posts the request's parameters, with client authentication, to the PAR endpoint;
    /// returns the `request_uri` the browser carries instead.
    async fn push(
        &self,
        loaded: &Loaded,
        params: Vec<(String, String)>,
    ) -> Result<String, OidcError> {
        #[derive(Deserialize)]
        struct Pushed {
            request_uri: String,
        }
        let Some(endpoint) = loaded.endpoints.par.clone() else {
            return Err(OidcError::NotReady("no PAR endpoint".into()));
        };
        let span = crate::telemetry::traces::client_span("idp.par", "POST", &endpoint);
        let mut form: Vec<(&'static str, String)> = Vec::new();
        let req = self.post_authenticated(loaded, endpoint, &mut form)?;
        // The client credentials may repeat `client_id`; it is already in `params`.
        form.retain(|(k, _)| *k != "client_id");
        let body: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(form.iter().map(|(k, v)| (*k, v.as_str())))
            .collect();
        let res = super::token::send(req.form(&body), &span).await?;
        let pushed: Pushed = super::token::read_json(res).await?;
        Ok(pushed.request_uri)
    }

    /// RFC 9207: when the IdP sends `iss` it must be ours; when it advertises sending it, it must.
    pub fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), OidcError> {
        let loaded = self.loaded()?;
        match iss {
            Some(i) if i == loaded.issuer.as_str() => Ok(()),
            Some(_) => Err(OidcError::IssuerMismatch),
            None if loaded.iss_parameter_supported => Err(OidcError::IssuerMismatch),
            None => Ok(()),
        }
    }
}

//! The userinfo endpoint: with plain OAuth 2.0 it names the user (the `subject_claim`, `id` at
//! GitHub); with OpenID Connect and `userinfo = true` it adds profile claims to the session's.

use reqwest::header::ACCEPT;

use super::metadata::Loaded;
use super::token::{LoginTokens, read_json, text};
use super::{OidcError, Provider};

type Claims = serde_json::Map<String, serde_json::Value>;

/// Claims that only the ID token may set: userinfo never overrides them.
const ID_TOKEN_CLAIMS: [&str; 15] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
];

impl Provider {
    /// `GET` userinfo with the access token; a JSON object.
    pub(super) async fn userinfo(
        &self,
        loaded: &Loaded,
        access_token: &str,
    ) -> Result<Claims, OidcError> {
        let Some(endpoint) = loaded.endpoints.userinfo.clone() else {
            return Err(OidcError::NotReady(
                "the IdP has no userinfo endpoint".into(),
            ));
        };
        let span = crate::telemetry::traces::client_span("idp.userinfo", "GET", &endpoint);
        let req = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .header(ACCEPT, "application/json");
        let res = super::token::send(req, &span).await?;
        read_json::<serde_json::Value>(res)
            .await
            .map_err(|e| match e {
                OidcError::InvalidTokenResponse(why) => OidcError::InvalidUserinfo(why),
                other => other,
            })?
            .as_object()
            .cloned()
            .ok_or_else(|| OidcError::InvalidUserinfo("not a JSON object".into()))
    }

    /// OpenID Connect: userinfo's `sub` must be the ID token's, and it adds claims the ID token
    /// did not have. Plain OAuth 2.0: userinfo is the identity.
    pub(super) fn merge_userinfo(
        &self,
        login: &mut LoginTokens,
        info: Claims,
    ) -> Result<(), OidcError> {
        if !self.is_oidc() {
            login.sub = text(&info, &self.subject_claim).ok_or_else(|| {
                OidcError::InvalidUserinfo(format!("no `{}` claim", self.subject_claim))
            })?;
            login.claims = info;
            return Ok(());
        }
        if text(&info, "sub").as_deref() != Some(login.sub.as_str()) {
            return Err(OidcError::InvalidUserinfo(
                "its `sub` is not the ID token's".into(),
            ));
        }
        for (k, v) in info {
            if !ID_TOKEN_CLAIMS.contains(&k.as_str()) {
                login.claims.entry(k).or_insert(v);
            }
        }
        Ok(())
    }
}

//! The token endpoint and revocation: step (D), the code exchange (then the ID token is validated,
//! see `id_token`, and userinfo read, see `userinfo`); the refresh-token grant (RFC 6749 section
//! 6); and RFC 7009 revocation. Every request carries the client's authentication
//! (`client_auth`).
//!
//! Token responses are read as IdPs really send them, not as the RFC spells them: `token_type`
//! in any case, `expires_in` as a number or a numeric string (or absent), no `refresh_token` in a
//! refresh answer (the old one stays), an `id_token` in a refresh answer (validated, and its `sub`
//! must not change). That leniency is why these requests are built here rather than with
//! `oauth2`'s typed token responses.

use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use tracing::Instrument;

use super::id_token::IdTokenCheck;
use super::metadata::Loaded;
use super::{OidcError, Provider};
use crate::telemetry::traces;

/// The result of a successful code exchange and ID token validation.
pub struct LoginTokens {
    pub sub: String,
    pub sid: Option<String>,
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Empty with plain OAuth 2.0.
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub access_expires_in: Option<Duration>,
    /// When `acr_values` were requested: whether the ID token's `acr` is one of them.
    pub acr_satisfied: Option<bool>,
}

/// What the callback expects of the login it finishes.
pub struct LoginCheck<'a> {
    pub nonce: &'a str,
    pub max_age: Option<u64>,
    pub acr_values: Option<&'a str>,
}

/// New tokens from a refresh.
pub struct RefreshedTokens {
    pub access_token: String,
    /// The rotated refresh token, when the IdP rotates; else keep the old one.
    pub refresh_token: Option<String>,
    pub access_expires_in: Option<Duration>,
    /// A new ID token (validated, same `sub`) and its claims, when the IdP sent one.
    pub id_token: Option<(String, serde_json::Map<String, serde_json::Value>)>,
}

/// A token response, read leniently.
#[derive(Deserialize)]
pub(super) struct TokenResponse {
    pub(super) access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub(super) expires_in: Option<u64>,
    #[serde(default)]
    pub(super) refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
}

/// `expires_in` as a number, a fractional number or a numeric string; anything else counts as
/// absent rather than failing the login.
fn lenient_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde_json::Value;
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        }),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A non-success HTTP status without an OAuth error body.
#[derive(Debug, thiserror::Error)]
#[error("the identity provider answered {0}")]
pub struct HttpStatus(reqwest::StatusCode);

/// Reads a JSON answer of the IdP: a success as `T`; an OAuth error as `Refused(error)`; a
/// server error without one as `Unreachable`.
/// Sends a request to the IdP as the client span `span` (which gets its status); a failure to get
/// an answer is `unreachable`.
pub(super) async fn send(
    req: reqwest::RequestBuilder,
    span: &tracing::Span,
) -> Result<reqwest::Response, OidcError> {
    match req.send().instrument(span.clone()).await {
        Ok(res) => {
            traces::record_status(span, res.status().as_u16());
            Ok(res)
        }
        Err(e) => {
            traces::record_failure(span);
            Err(OidcError::unreachable(e))
        }
    }
}

pub(super) async fn read_json<T: DeserializeOwned>(res: reqwest::Response) -> Result<T, OidcError> {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
    }
    let status = res.status();
    let body = res.bytes().await.map_err(OidcError::unreachable)?;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| OidcError::InvalidTokenResponse(e.to_string()));
    }
    match serde_json::from_slice::<OAuthError>(&body) {
        Ok(e) => Err(OidcError::Refused(e.error)),
        Err(_) if status.is_server_error() => Err(OidcError::unreachable(HttpStatus(status))),
        Err(_) => Err(OidcError::Refused(format!("HTTP {}", status.as_u16()))),
    }
}

impl Provider {
    /// A form POST to the token endpoint, with client authentication.
    pub(super) async fn token_request(
        &self,
        loaded: &Loaded,
        mut form: Vec<(&'static str, String)>,
    ) -> Result<TokenResponse, OidcError> {
        let span = traces::client_span("idp.token", "POST", &loaded.endpoints.token);
        if let Some((_, grant)) = form.iter().find(|(k, _)| *k == "grant_type") {
            span.record("oauth.grant_type", grant.as_str());
        }
        let req = self.post_authenticated(loaded, loaded.endpoints.token.clone(), &mut form)?;
        let req = req.header(ACCEPT, "application/json").form(&form);
        let res = send(req, &span).await?;
        let tokens: TokenResponse = read_json(res).await?;
        match &tokens.token_type {
            Some(t) if !t.eq_ignore_ascii_case("bearer") => Err(OidcError::InvalidTokenResponse(
                format!("token_type {t:?} is not supported (bearer only)"),
            )),
            _ => Ok(tokens),
        }
    }

    /// Exchanges the code (with the PKCE verifier); with OpenID Connect validates the ID token
    /// (`nonce`, `auth_time` against `max_age`); reads userinfo when configured (always with
    /// plain OAuth 2.0, where it names the user).
    pub async fn finish_login(
        &self,
        code: String,
        pkce_verifier: String,
        check: &LoginCheck<'_>,
    ) -> Result<LoginTokens, OidcError> {
        let loaded = self.loaded()?;
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", self.redirect_uri.clone()),
            ("code_verifier", pkce_verifier),
        ];
        let tokens = self.token_request(&loaded, form).await?;
        let mut login = LoginTokens {
            sub: String::new(),
            sid: None,
            claims: serde_json::Map::new(),
            id_token: String::new(),
            access_expires_in: tokens.expires_in.map(Duration::from_secs),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            acr_satisfied: None,
        };
        if self.is_oidc() {
            let raw = tokens.id_token.ok_or(OidcError::MissingIdToken)?;
            let expect = IdTokenCheck::Login {
                nonce: check.nonce,
                max_age: check.max_age,
            };
            login.claims = self.validate_id_token(&loaded, &raw, expect).await?;
            login.id_token = raw;
            login.sub = text(&login.claims, "sub").unwrap_or_default();
            login.sid = text(&login.claims, "sid");
            login.acr_satisfied = check.acr_values.map(|wanted| {
                text(&login.claims, "acr").is_some_and(|acr| wanted.split(' ').any(|w| w == acr))
            });
        }
        if self.userinfo {
            let info = self.userinfo(&loaded, &login.access_token).await?;
            self.merge_userinfo(&mut login, info)?;
        }
        Ok(login)
    }

    /// Exchanges a refresh token (RFC 6749 section 6). `InvalidGrant` when the IdP refuses the
    /// token itself; `Unreachable` for network and server failures (the session should be kept);
    /// `SubjectChanged` when a new ID token names someone else.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        sub: &str,
    ) -> Result<RefreshedTokens, OidcError> {
        let loaded = self.loaded()?;
        let tokens = self
            .refresh_grant(&loaded, refresh_token, Vec::new())
            .await?;
        let id_token = match tokens.id_token {
            Some(raw) if self.is_oidc() => {
                let claims = self
                    .validate_id_token(&loaded, &raw, IdTokenCheck::Refresh)
                    .await?;
                if text(&claims, "sub").as_deref() != Some(sub) {
                    return Err(OidcError::SubjectChanged);
                }
                Some((raw, claims))
            }
            _ => None,
        };
        Ok(RefreshedTokens {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            access_expires_in: tokens.expires_in.map(Duration::from_secs),
            id_token,
        })
    }

    /// The refresh-token grant, with `extra` parameters (a narrower `resource` or `scope`):
    /// `InvalidGrant` when the IdP refuses the refresh token itself.
    pub(super) async fn refresh_grant(
        &self,
        loaded: &Loaded,
        refresh_token: &str,
        extra: Vec<(&'static str, String)>,
    ) -> Result<TokenResponse, OidcError> {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.to_owned()),
        ];
        form.extend(extra);
        match self.token_request(loaded, form).await {
            Err(OidcError::Refused(e)) if e == "invalid_grant" => Err(OidcError::InvalidGrant),
            other => other,
        }
    }

    /// Revokes a refresh token at the IdP's RFC 7009 endpoint; `Ok(false)` when it has none.
    ///
    /// Sent with reqwest rather than oauth2's `RevocationRequest`, which refuses every endpoint
    /// that is not https (and so every loopback IdP in development and in the tests).
    pub async fn revoke_refresh_token(&self, refresh_token: &str) -> Result<bool, OidcError> {
        let loaded = self.loaded()?;
        let Some(endpoint) = loaded.endpoints.revocation.clone() else {
            return Ok(false);
        };
        let mut form = vec![
            ("token", refresh_token.to_owned()),
            ("token_type_hint", "refresh_token".to_owned()),
        ];
        let span = traces::client_span("idp.revoke", "POST", &endpoint);
        let req = self.post_authenticated(&loaded, endpoint, &mut form)?;
        let res = send(req.form(&form), &span).await?;
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

/// Revocations `revoke_all` runs at once.
const REVOCATIONS_AT_ONCE: usize = 4;

impl Provider {
    /// Revokes the refresh tokens of sessions ended from elsewhere (another device, an
    /// operator, a login that replaced them), a few at a time. A failure is logged, not returned: the sessions are over here
    /// either way.
    pub async fn revoke_all(&self, refresh_tokens: &[String]) {
        use futures_util::StreamExt;
        // Bounded: ending many sessions must not open as many connections to the IdP at once
        // (per-user work is bounded; an IdP rate-limits bursts).
        let mut results = futures_util::stream::iter(refresh_tokens)
            .map(|t| self.revoke_refresh_token(t))
            .buffer_unordered(REVOCATIONS_AT_ONCE);
        while let Some(r) = results.next().await {
            if let Err(e) = r {
                tracing::warn!(error = %crate::support::Chain(&e), "refresh token revocation failed");
            }
        }
    }
}

/// A claim as text: a string, or a number (plain OAuth 2.0 providers number their users).
pub(super) fn text(
    claims: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<String> {
    match claims.get(name)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

//! Tokens for one API rather than for the login: the refresh-token grant narrowed by `resource`
//! (RFC 8707) and/or `scope` (RFC 6749 section 6), an RFC 8693 token exchange of the user's access
//! token, and the client-credentials grant (RFC 6749 section 4.4) for the application's own token.
//! Each request is authenticated as this client, like every other (`client_auth`).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::token::TokenResponse;
use super::{OidcError, Provider};
use crate::config::RouteConfig;
use crate::crypto::hex;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// How a route's own user token is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantKind {
    /// The session's refresh token, with `resource` and/or `scope`.
    Narrowed {
        resource: Option<String>,
        scope: Option<String>,
    },
    /// RFC 8693, with the session's access token as `subject_token`.
    Exchange {
        audience: Option<String>,
        scope: Option<String>,
        resource: Option<String>,
    },
}

/// A route's user token: what to ask for, and the name it is kept under in the session. The
/// name hashes what is asked, so a changed route config never serves a token minted for the old.
#[derive(Debug, Clone)]
pub struct RouteGrant {
    pub key: String,
    pub kind: GrantKind,
}

/// The application's own token for a route: client credentials with these `scope` and
/// `resource`, kept under `key`.
#[derive(Debug, Clone)]
pub struct ClientGrant {
    pub key: String,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// A token the IdP issued for one route.
pub struct IssuedToken {
    pub access_token: String,
    /// A rotated refresh token (narrowed refreshes at IdPs that rotate): it replaces the session's.
    pub refresh_token: Option<String>,
    pub expires_in: Option<Duration>,
}

impl RouteGrant {
    /// The user-token grant of a route, when it has its own.
    pub fn for_route(r: &RouteConfig) -> Option<Self> {
        if !r.own_user_token() {
            return None;
        }
        let scope = r.scopes.as_ref().map(|s| s.join(" "));
        let kind = match &r.exchange {
            Some(x) => GrantKind::Exchange {
                audience: x.audience.clone(),
                scope: x.scope.clone(),
                resource: x.resource.clone(),
            },
            None => GrantKind::Narrowed {
                resource: r.resource.clone(),
                scope,
            },
        };
        Some(RouteGrant {
            key: short_hash(&format!("{}|{kind:?}", r.prefix)),
            kind,
        })
    }
}

impl ClientGrant {
    pub fn for_route(r: &RouteConfig) -> Option<Self> {
        if !r.token.uses_client() {
            return None;
        }
        let scope = r.scopes.as_ref().map(|s| s.join(" "));
        // Routes asking for the same token share it.
        let key = short_hash(&format!("{scope:?}|{:?}", r.resource));
        Some(ClientGrant {
            key,
            scope,
            resource: r.resource.clone(),
        })
    }
}

/// 16 hex digits of SHA-256: short, since it is stored in every session that uses the route.
fn short_hash(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes())[..8])
}

impl Provider {
    /// The user's token for a route: a narrowed refresh (`InvalidGrant` when the refresh token is
    /// refused: the session is over) or a token exchange (`Refused` when the IdP will not).
    pub async fn route_token(
        &self,
        grant: &GrantKind,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Result<IssuedToken, OidcError> {
        let mut form: Vec<(&'static str, String)> = Vec::new();
        let mut optional = |name: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                form.push((name, v.clone()));
            }
        };
        let narrowed = match grant {
            GrantKind::Narrowed { resource, scope } => {
                optional("resource", resource);
                optional("scope", scope);
                true
            }
            GrantKind::Exchange {
                audience,
                scope,
                resource,
            } => {
                optional("audience", audience);
                optional("scope", scope);
                optional("resource", resource);
                false
            }
        };
        let loaded = self.loaded()?;
        let tokens = if narrowed {
            let refresh_token = refresh_token.ok_or_else(|| {
                OidcError::Refused("the session has no refresh token to narrow".into())
            })?;
            self.refresh_grant(&loaded, refresh_token, form).await?
        } else {
            form.push(("grant_type", TOKEN_EXCHANGE.to_owned()));
            form.push(("subject_token", access_token.to_owned()));
            form.push(("subject_token_type", ACCESS_TOKEN_TYPE.to_owned()));
            form.push(("requested_token_type", ACCESS_TOKEN_TYPE.to_owned()));
            self.token_request(&loaded, form).await?
        };
        Ok(issued(tokens, narrowed))
    }

    /// The application's own token: the client-credentials grant.
    pub async fn client_token(&self, grant: &ClientGrant) -> Result<IssuedToken, OidcError> {
        let loaded = self.loaded()?;
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if let Some(s) = &grant.scope {
            form.push(("scope", s.clone()));
        }
        if let Some(r) = &grant.resource {
            form.push(("resource", r.clone()));
        }
        let tokens = self.token_request(&loaded, form).await?;
        Ok(issued(tokens, false))
    }

    /// Secret material of this client (see `Credentials::sealing_secret`).
    pub fn sealing_secret(&self) -> Vec<u8> {
        self.credentials.sealing_secret()
    }
}

/// An ID token in these answers is not read: the login's refresh keeps the claims current.
fn issued(tokens: TokenResponse, keep_refresh_token: bool) -> IssuedToken {
    IssuedToken {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token.filter(|_| keep_refresh_token),
        expires_in: tokens.expires_in.map(Duration::from_secs),
    }
}

//! [`Renewal`]: what a refresh renews (the login's tokens, or one route's own token) and what
//! the IdP's answer changes in the session.

use super::{RouteToken, Session};
use crate::oidc::{OidcError, Provider, RouteGrant};
use crate::support::{secs, unix_after};

/// What a refresh renews: the login's tokens, or one route's own token.
#[derive(Clone, Copy)]
pub(super) enum Renewal<'a> {
    Login,
    Route(&'a RouteGrant),
}

impl Renewal<'_> {
    /// For logs.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Renewal::Login => "login",
            Renewal::Route(_) => "route",
        }
    }

    /// The session with this renewal done at the IdP; `None` when there is nothing to renew with
    /// (no refresh token).
    pub(super) async fn renew(
        self,
        current: &Session,
        oidc: &Provider,
    ) -> Result<Option<Session>, OidcError> {
        let mut next = current.clone();
        match self {
            Renewal::Login => {
                let Some(refresh_token) = current.refresh_token.as_deref() else {
                    return Ok(None);
                };
                let tokens = oidc.refresh(refresh_token, &current.sub).await?;
                next.access_token = tokens.access_token;
                if tokens.refresh_token.is_some() {
                    next.refresh_token = tokens.refresh_token;
                }
                next.access_expires_at = tokens.access_expires_in.map(unix_after);
                next.access_lifetime = tokens.access_expires_in.map(secs);
                if let Some((id_token, claims)) = tokens.id_token {
                    // Kept for `id_token_hint` at logout; claims the IdP updated replace old ones.
                    next.id_token = id_token;
                    next.claims.extend(claims);
                }
            }
            Renewal::Route(grant) => {
                let issued = oidc
                    .route_token(
                        &grant.kind,
                        &current.access_token,
                        current.refresh_token.as_deref(),
                    )
                    .await?;
                if issued.refresh_token.is_some() {
                    // A narrowed refresh at an IdP that rotates spent the session's refresh token.
                    next.refresh_token = issued.refresh_token;
                }
                next.route_tokens.insert(
                    grant.key.clone(),
                    RouteToken {
                        access_token: issued.access_token,
                        expires_at: issued.expires_in.map(unix_after),
                        lifetime: issued.expires_in.map(secs),
                    },
                );
            }
        }
        Ok(Some(next))
    }
}

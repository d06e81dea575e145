//! The identity provider, as the proxy sees it. Built on the `openidconnect` crate; nothing here
//! checks a signature by hand.
//!
//! - [`Provider`] (`provider`): what Vestibule knows of the IdP and how it talks to it;
//! - `discovery`: endpoints (OpenID discovery, RFC 8414 metadata, `[oidc.endpoints]`) and JWKS,
//!   loaded in the background, refreshed, refetched on rotation;
//! - `metadata`: what discovery produced (the endpoints in use and what they imply);
//! - `client_auth`: client authentication (secret basic/post, `private_key_jwt`);
//! - `authorize`: the authorization request (state, nonce, PKCE, PAR) and the RFC 9207 `iss`
//!   check;
//! - `token`: the token endpoint (code exchange, refresh) and RFC 7009 revocation;
//! - `route_grant`: tokens for one API (narrowed refresh, token exchange, client credentials);
//! - `id_token`: ID token validation; `userinfo`; [`logout_token`]: back-channel logout tokens;
//! - [`OidcError`] (`error`): what can go wrong, with its cause.

mod authorize;
mod client_auth;
mod discovery;
mod error;
mod id_token;
pub mod logout_token;
mod metadata;
mod provider;
mod route_grant;
mod token;
mod userinfo;

pub use authorize::AuthRequest;
pub use error::{LogoutTokenError, OidcError};
pub use logout_token::{LogoutTarget, MAX_AGE_SECS as LOGOUT_TOKEN_MAX_AGE_SECS};
pub use provider::{Provider, ProviderError};
pub use route_grant::{ClientGrant, GrantKind, IssuedToken, RouteGrant};
pub use token::{LoginCheck, LoginTokens, RefreshedTokens};

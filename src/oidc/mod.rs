//! The identity provider, as the proxy sees it. Built on the `openidconnect` crate; nothing here
//! checks a signature by hand.
//!
//! - [`Provider`] (`provider`): what Vestibule knows of the IdP and how it talks to it;
//! - `discovery`: metadata and JWKS, loaded in the background, refreshed, refetched on rotation;
//! - `authorize`: the authorization request (state, nonce, PKCE) and the RFC 9207 `iss` check;
//! - `token`: the token endpoint (code exchange, refresh) and RFC 7009 revocation;
//! - `id_token`: ID token validation; [`logout_token`]: back-channel logout tokens;
//! - [`OidcError`] (`error`): what can go wrong, with its cause.

mod authorize;
mod discovery;
mod error;
mod id_token;
pub mod logout_token;
mod provider;
mod token;

pub use authorize::AuthRequest;
pub use error::OidcError;
pub use logout_token::{LogoutTarget, LogoutTokenError, MAX_AGE_SECS as LOGOUT_TOKEN_MAX_AGE_SECS};
pub use provider::Provider;
pub use token::{LoginTokens, RefreshedTokens};

//! What can go wrong between Vestibule and the IdP. Network failures keep their cause
//! (`#[source]`); the HTTP answer is decided in `crate::error`.

/// Any error, boxed, as the cause of an [`OidcError::Unreachable`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// Discovery has not succeeded yet (the reason is the last attempt's error), or what it
    /// found cannot serve this configuration.
    #[error("identity provider metadata not loaded yet: {0}")]
    NotReady(String),
    #[error("identity provider unreachable")]
    Unreachable(#[source] BoxError),
    /// The IdP answered with an OAuth error (its code), or a non-success status.
    #[error("the identity provider refused the request: {0}")]
    Refused(String),
    /// A success answer that is not a token response Vestibule can use.
    #[error("invalid token response: {0}")]
    InvalidTokenResponse(String),
    #[error("invalid ID token: {0}")]
    InvalidIdToken(String),
    #[error("the token response has no ID token")]
    MissingIdToken,
    #[error("invalid userinfo response: {0}")]
    InvalidUserinfo(String),
    /// A refresh returned an ID token for another user.
    #[error("the refreshed ID token names another subject")]
    SubjectChanged,
    #[error("the authorization response's `iss` does not match the issuer")]
    IssuerMismatch,
    #[error("the refresh token is no longer valid (invalid_grant)")]
    InvalidGrant,
    #[error("invalid logout token")]
    InvalidLogoutToken(#[source] LogoutTokenError),
    /// The client assertion (`private_key_jwt`) could not be signed.
    #[error("cannot sign the client assertion")]
    ClientAssertion(#[source] jsonwebtoken::errors::Error),
}

/// Why a back-channel logout token was refused (the cause of
/// [`OidcError::InvalidLogoutToken`]).
#[derive(Debug, thiserror::Error)]
pub enum LogoutTokenError {
    /// No key of the set verifies the signature (the caller may refetch the JWKS and retry).
    #[error("signature")]
    Signature,
    #[error("{0}")]
    Invalid(&'static str),
}

impl OidcError {
    pub(super) fn unreachable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        OidcError::Unreachable(Box::new(e))
    }
}

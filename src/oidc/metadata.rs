//! What the provider knows of the IdP once discovery (or the configured endpoints) has run: the
//! endpoints in use and the rules they imply. Kept apart from `discovery`, which produces it, so
//! the provider and every request that reads it depend on the data and not on how it was found.

use openidconnect::IssuerUrl;
use openidconnect::core::CoreJwsSigningAlgorithm;
use url::Url;

/// The endpoints in use.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoints {
    pub authorization: Url,
    pub token: Url,
    pub userinfo: Option<Url>,
    pub revocation: Option<Url>,
    pub end_session: Option<Url>,
    pub par: Option<Url>,
    pub jwks: Option<Url>,
}

/// What discovery produced.
pub struct Loaded {
    pub issuer: IssuerUrl,
    pub endpoints: Endpoints,
    pub iss_parameter_supported: bool,
    /// What the IdP says of `iss` and `sid` in its front-channel logouts (`None`: nothing).
    pub frontchannel_session_supported: Option<bool>,
    /// Send authorization requests through the PAR endpoint.
    pub use_par: bool,
    /// Asymmetric algorithms the IdP signs ID tokens with; `none` and HMAC are never accepted.
    pub id_token_algs: Vec<CoreJwsSigningAlgorithm>,
}

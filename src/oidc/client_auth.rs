//! How Vestibule proves to the IdP that it is this client, on every request that needs it
//! (token, refresh, revocation, PAR): `client_secret_basic` (the default), `client_secret_post`,
//! or `private_key_jwt` (RFC 7523): a short-lived JWT signed with the client's private key
//! (RS256, PS256 or ES256; `jsonwebtoken` on RustCrypto signs it), so no shared secret exists.
//!
//! The assertion's `aud` is the token endpoint (OpenID Connect Core 9; RFC 9126 and the IdPs we
//! know accept it at the PAR and revocation endpoints too), `iss` = `sub` = `client_id`, with a
//! fresh `jti` and a 60-second `exp`.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::OidcError;
use crate::config::{ClientAuth, KeyError, OidcConfig, SigningKey};
use crate::support::now_unix;

/// How long a client assertion is valid.
const ASSERTION_LIFETIME_SECS: i64 = 60;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client assertion (RFC 7523) for `audience`, signed with the client's key.
fn assertion(
    key: &SigningKey,
    client_id: &str,
    audience: &str,
) -> Result<String, jsonwebtoken::errors::Error> {
    #[derive(Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        jti: String,
        iat: i64,
        exp: i64,
    }
    let now = now_unix();
    key.sign(&Claims {
        iss: client_id,
        sub: client_id,
        aud: audience,
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + ASSERTION_LIFETIME_SECS,
    })
}

/// This client's credentials, as configured.
pub enum Credentials {
    Basic(SecretString),
    Post(SecretString),
    PrivateKeyJwt(SigningKey),
}

impl Credentials {
    pub fn from_config(config: &OidcConfig) -> Result<Self, KeyError> {
        let secret = || {
            config
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new()))
        };
        Ok(match config.client_auth {
            ClientAuth::ClientSecretBasic => Credentials::Basic(secret()),
            ClientAuth::ClientSecretPost => Credentials::Post(secret()),
            ClientAuth::PrivateKeyJwt => Credentials::PrivateKeyJwt(config.signing_key()?),
        })
    }

    /// Secret material only this deployment holds (the client secret, or a hash of the private
    /// key): what seals the application's own tokens in the store.
    pub fn sealing_secret(&self) -> Vec<u8> {
        match self {
            Credentials::Basic(s) | Credentials::Post(s) => s.expose_secret().as_bytes().to_vec(),
            Credentials::PrivateKeyJwt(k) => k.fingerprint().to_vec(),
        }
    }

    /// Authenticates a form POST: `req` gets a Basic header, or `form` the credentials.
    /// `token_endpoint` is the audience of a client assertion.
    pub fn apply(
        &self,
        client_id: &str,
        token_endpoint: &str,
        req: reqwest::RequestBuilder,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<reqwest::RequestBuilder, OidcError> {
        Ok(match self {
            Credentials::Basic(secret) => {
                // RFC 6749 2.3.1: both parts form-urlencoded before Basic encoding.
                let enc = |v: &str| {
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                };
                req.basic_auth(enc(client_id), Some(enc(secret.expose_secret())))
            }
            Credentials::Post(secret) => {
                form.push(("client_id", client_id.to_owned()));
                form.push(("client_secret", secret.expose_secret().to_owned()));
                req
            }
            Credentials::PrivateKeyJwt(key) => {
                let assertion = assertion(key, client_id, token_endpoint)
                    .map_err(OidcError::ClientAssertion)?;
                form.push(("client_id", client_id.to_owned()));
                form.push(("client_assertion_type", ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion));
                req
            }
        })
    }
}

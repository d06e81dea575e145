//! How Vestibule proves to the IdP that it is this client, on every request that needs it
//! (token, refresh, revocation, PAR): `client_secret_basic` (the default), `client_secret_post`,
//! or `private_key_jwt` (RFC 7523): a short-lived JWT signed with the client's private key
//! (RS256, PS256 or ES256; `jsonwebtoken` on RustCrypto signs it), so no shared secret exists.
//!
//! The assertion's `aud` is the token endpoint (OpenID Connect Core 9; RFC 9126 and the IdPs we
//! know accept it at the PAR and revocation endpoints too), `iss` = `sub` = `client_id`, with a
//! fresh `jti` and a 60-second `exp`.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Digest;

use super::discovery::Loaded;
use super::{OidcError, Provider};
use crate::config::{ClientAuth, KeyAlg, OidcConfig};
use crate::support::now_unix;

/// How long a client assertion is valid.
const ASSERTION_LIFETIME_SECS: i64 = 60;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("expected a PEM private key for {alg} (PKCS#8, or PKCS#1 for RSA)")]
    Parse {
        alg: KeyAlg,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

/// The private key of `private_key_jwt`.
pub struct SigningKey {
    key: EncodingKey,
    /// SHA-256 of the PEM: key material for sealing what only this client may read.
    fingerprint: [u8; 32],
    alg: Algorithm,
    kid: Option<String>,
}

impl SigningKey {
    pub fn from_file(path: &Path, config: &OidcConfig) -> Result<Self, KeyError> {
        let pem = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_pem(&pem, config)
    }

    pub fn from_pem_secret(pem: &SecretString, config: &OidcConfig) -> Result<Self, KeyError> {
        Self::from_pem(pem.expose_secret().as_bytes(), config)
    }

    fn from_pem(pem: &[u8], config: &OidcConfig) -> Result<Self, KeyError> {
        let alg = config.private_key_alg;
        let parsed = match alg {
            KeyAlg::Rs256 | KeyAlg::Ps256 => EncodingKey::from_rsa_pem(pem),
            KeyAlg::Es256 => EncodingKey::from_ec_pem(pem),
        };
        let key = parsed.map_err(|source| KeyError::Parse { alg, source })?;
        let signing = SigningKey {
            key,
            fingerprint: sha2::Sha256::digest(pem).into(),
            alg: match alg {
                KeyAlg::Rs256 => Algorithm::RS256,
                KeyAlg::Ps256 => Algorithm::PS256,
                KeyAlg::Es256 => Algorithm::ES256,
            },
            kid: config.private_key_id.clone(),
        };
        // A key of the wrong kind for the algorithm parses, but cannot sign: find out now.
        signing
            .assertion(&config.client_id, "https://check.invalid/token")
            .map_err(|source| KeyError::Parse { alg, source })?;
        Ok(signing)
    }

    fn assertion(
        &self,
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
        let claims = Claims {
            iss: client_id,
            sub: client_id,
            aud: audience,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
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
            ClientAuth::PrivateKeyJwt => {
                Credentials::PrivateKeyJwt(match (&config.private_key_file, &config.private_key) {
                    (Some(file), _) => SigningKey::from_file(file, config)?,
                    (None, Some(pem)) => SigningKey::from_pem_secret(pem, config)?,
                    // Validated at load: one of them is set.
                    (None, None) => SigningKey::from_pem(b"", config)?,
                })
            }
        })
    }

    /// Secret material only this deployment holds (the client secret, or a hash of the private
    /// key): what seals the application's own tokens in the store.
    pub fn sealing_secret(&self) -> Vec<u8> {
        match self {
            Credentials::Basic(s) | Credentials::Post(s) => s.expose_secret().as_bytes().to_vec(),
            Credentials::PrivateKeyJwt(k) => k.fingerprint.to_vec(),
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
                let assertion = key
                    .assertion(client_id, token_endpoint)
                    .map_err(OidcError::ClientAssertion)?;
                form.push(("client_id", client_id.to_owned()));
                form.push(("client_assertion_type", ASSERTION_TYPE.to_owned()));
                form.push(("client_assertion", assertion));
                req
            }
        })
    }
}

impl Provider {
    /// A form POST to one of the IdP's endpoints, authenticated as this client: the returned
    /// request has any Basic header, `form` gets the rest. Send it with `.form(&form)`.
    pub(super) fn post_authenticated(
        &self,
        loaded: &Loaded,
        endpoint: url::Url,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<reqwest::RequestBuilder, OidcError> {
        self.credentials.apply(
            &self.client_id,
            loaded.endpoints.token.as_str(),
            self.http.post(endpoint),
            form,
        )
    }
}

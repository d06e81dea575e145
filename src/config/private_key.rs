//! A private key that signs JWTs: the client's for `private_key_jwt` (`oidc.private_key_file` or
//! `oidc.private_key`), and the one of the identity sent upstreams (`[identity]`). Read, parsed
//! and tried once while the config is checked, so that a key that cannot sign fails
//! `check-config`, not the first login or call. `oidc::client_auth` signs the client assertions
//! with it, `identity` the identities.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// A JWT signing algorithm: it must fit the key (`RS256` and `PS256` take an RSA key, `ES256` a
/// P-256 key); for `private_key_jwt` assertions, one the IdP accepts for this client.
#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
pub enum KeyAlg {
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "PS256")]
    Ps256,
    #[serde(rename = "ES256")]
    Es256,
}

impl std::fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Ps256 => "PS256",
            KeyAlg::Es256 => "ES256",
        })
    }
}

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
    #[error("expected an RSA key of at least {MIN_RSA_BITS} bits, found {bits}")]
    WeakRsa { bits: usize },
}

/// The smallest RSA key Vestibule signs with (NIST SP 800-131A; a smaller one can also be too
/// small for PS256's padding, and the signing library then panics rather than failing).
pub const MIN_RSA_BITS: usize = 2048;

/// The size of an RSA private key in PEM (PKCS#8 or PKCS#1); `None` when it is not one.
fn rsa_bits(pem: &[u8]) -> Option<usize> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::traits::PublicKeyParts;
    let text = std::str::from_utf8(pem).ok()?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(text)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(text))
        .ok()?;
    Some(key.size() * 8)
}

/// A private key that signs JWTs (`private_key_jwt`, the identity).
pub struct SigningKey {
    key: EncodingKey,
    /// SHA-256 of the PEM: key material for sealing what only this client may read.
    fingerprint: [u8; 32],
    alg: Algorithm,
    kid: Option<String>,
}

impl SigningKey {
    pub fn from_file(path: &Path, alg: KeyAlg, kid: Option<String>) -> Result<Self, KeyError> {
        let pem = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_pem(&pem, alg, kid)
    }

    pub fn from_pem_secret(
        pem: &SecretString,
        alg: KeyAlg,
        kid: Option<String>,
    ) -> Result<Self, KeyError> {
        Self::from_pem(pem.expose_secret().as_bytes(), alg, kid)
    }

    pub fn from_pem(pem: &[u8], alg: KeyAlg, kid: Option<String>) -> Result<Self, KeyError> {
        if let (KeyAlg::Rs256 | KeyAlg::Ps256, Some(bits)) = (alg, rsa_bits(pem))
            && bits < MIN_RSA_BITS
        {
            return Err(KeyError::WeakRsa { bits });
        }
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
            kid,
        };
        // A key of the wrong kind for the algorithm parses, but cannot sign: find out now.
        signing
            .sign(&serde_json::json!({}))
            .map_err(|source| KeyError::Parse { alg, source })?;
        Ok(signing)
    }

    /// A JWT of `claims`, signed with the configured algorithm and `kid`.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, claims, &self.key)
    }

    /// SHA-256 of the PEM.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }
}

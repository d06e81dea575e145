//! [`PublicJwk`]: the public part of a signing key as a JWK (RFC 7517), whatever PEM it came in
//! (a P-256 or RSA private key, or the public key alone), named by its RFC 7638 thumbprint; and
//! [`generate_p256`], a new P-256 key as PKCS#8 PEM. Parsing and generating are RustCrypto's
//! (`p256`, `rsa`); only the JWK's members are written here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    #[error(
        "expected a PEM P-256 or RSA key (a private key in PKCS#8, SEC1 or PKCS#1, or a public key)"
    )]
    NotAKey,
    /// A new key could not be written as PEM (a bug, not an input's fault).
    #[error("cannot write the new key as PKCS#8 PEM")]
    Encode,
}

/// Which family a key is of, for the algorithms it may sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    /// NIST P-256: `ES256`.
    P256,
    /// RSA: `RS256`, `PS256`.
    Rsa,
}

/// A key's public part, ready to publish.
#[derive(Debug, Clone)]
pub struct PublicJwk {
    pub family: KeyFamily,
    /// The RFC 7638 thumbprint (SHA-256, base64url): the same on every replica that has the key.
    pub kid: String,
    /// The members that define the key (`kty`, `crv`, `x`, `y` or `kty`, `n`, `e`).
    members: serde_json::Map<String, Value>,
}

impl PublicJwk {
    /// The public part of the key in `pem`, private or public.
    pub fn from_pem(pem: &[u8]) -> Result<Self, PublicKeyError> {
        let text = std::str::from_utf8(pem).map_err(|_| PublicKeyError::NotAKey)?;
        if let Some(p) = p256_public(text) {
            let point = p.to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(PublicKeyError::NotAKey);
            };
            return Ok(Self::new(
                KeyFamily::P256,
                json!({ "crv": "P-256", "kty": "EC", "x": b64(x), "y": b64(y) }),
            ));
        }
        let rsa = rsa_public(text).ok_or(PublicKeyError::NotAKey)?;
        Ok(Self::new(
            KeyFamily::Rsa,
            json!({ "e": b64(&rsa.e().to_bytes_be()), "kty": "RSA", "n": b64(&rsa.n().to_bytes_be()) }),
        ))
    }

    /// `members` are the required members in lexicographic order, as RFC 7638 hashes them.
    fn new(family: KeyFamily, members: Value) -> Self {
        let members = match members {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        // serde_json keeps a map's keys sorted and writes no whitespace: the thumbprint's input.
        let canonical = Value::Object(members.clone()).to_string();
        PublicJwk {
            family,
            kid: b64(&Sha256::digest(canonical.as_bytes())),
            members,
        }
    }

    /// The JWK as published: its members, `kid`, `use: sig` and, when known, the algorithm it
    /// signs with (an RSA key may sign with more than one).
    pub fn to_json(&self, alg: Option<&str>) -> Value {
        let mut out = self.members.clone();
        out.insert("kid".into(), self.kid.clone().into());
        out.insert("use".into(), "sig".into());
        if let Some(alg) = alg {
            out.insert("alg".into(), alg.into());
        }
        Value::Object(out)
    }
}

fn p256_public(pem: &str) -> Option<p256::PublicKey> {
    p256::SecretKey::from_pkcs8_pem(pem)
        .or_else(|_| p256::SecretKey::from_sec1_pem(pem))
        .map(|k| k.public_key())
        .ok()
        .or_else(|| p256::PublicKey::from_public_key_pem(pem).ok())
}

fn rsa_public(pem: &str) -> Option<rsa::RsaPublicKey> {
    rsa::RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
        .map(|k| k.to_public_key())
        .ok()
        .or_else(|| rsa::RsaPublicKey::from_public_key_pem(pem).ok())
        .or_else(|| rsa::RsaPublicKey::from_pkcs1_pem(pem).ok())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new P-256 private key from the OS's random source, as PKCS#8 PEM (wiped when dropped).
pub fn generate_p256() -> Result<Zeroizing<String>, PublicKeyError> {
    p256::SecretKey::random(&mut rand::rngs::OsRng)
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| PublicKeyError::Encode)
}

#[cfg(test)]
mod tests;

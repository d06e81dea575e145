//! [`KeySet`]: the key that signs identities, and the JWKS document that publishes it with the
//! retired keys (`identity.previous_keys`), built once.

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;

use super::IdentityError;
use crate::config::{KeyAlg, Pem, SigningKey, family_of};
use crate::crypto::{KeyFamily, PublicJwk};

pub struct KeySet {
    signer: SigningKey,
    kid: String,
    /// `{"keys": […]}`: the signing key first, public members only.
    jwks: Bytes,
}

impl KeySet {
    /// `current` signs (with `alg`, which validation matched to it); `previous` are only
    /// published.
    pub fn new(current: &[u8], alg: KeyAlg, previous: &[Pem]) -> Result<Self, IdentityError> {
        let public = PublicJwk::from_pem(current)?;
        let signer = SigningKey::from_pem(current, alg, Some(public.kid.clone()))?;
        let alg_name = alg.to_string();
        let mut kids = vec![public.kid.clone()];
        let mut keys = vec![public.to_json(Some(&alg_name))];
        for pem in previous {
            let old = PublicJwk::from_pem(pem)?;
            if kids.contains(&old.kid) {
                continue;
            }
            // An RSA key may have signed with RS256 or PS256: said only when it is the
            // current algorithm's family (then it is that one), else left to the verifier.
            let old_alg = match old.family {
                KeyFamily::P256 => Some("ES256"),
                KeyFamily::Rsa if family_of(alg) == KeyFamily::Rsa => Some(alg_name.as_str()),
                KeyFamily::Rsa => None,
            };
            keys.push(old.to_json(old_alg));
            kids.push(old.kid);
        }
        let jwks = serde_json::to_vec(&json!({ "keys": keys })).unwrap_or_default();
        Ok(KeySet {
            signer,
            kid: public.kid,
            jwks: Bytes::from(jwks),
        })
    }

    /// A JWT of `claims`, signed by the current key, its `kid` in the header.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, IdentityError> {
        self.signer.sign(claims).map_err(IdentityError::Sign)
    }

    /// The current key's `kid` (its RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Bytes {
        self.jwks.clone()
    }
}

//! [`Keyring`]: the deployment's own keys for what the store keeps beside sessions (the session
//! registry: handles, devices, refresh tokens to revoke). A session opens with its cookie's id
//! alone; the registry cannot (the server does not keep ids), so it needs a key that only the
//! proxies hold: `session.encryption_key`, 32 random bytes from the environment, never derived
//! from the client secret (a dump plus that secret, which the IdP's admins and every CI system
//! see, must not yield refresh tokens).
//!
//! Rotation: new entries are always sealed with the current key; `previous_encryption_keys`
//! still open older entries, which are sealed again under the current key the next time they are
//! read (a session list) or written (a refresh). A `legacy` secret (the client credentials'
//! material, which sealed entries before `encryption_key` existed) opens only, so an upgrade
//! loses no entry either; entries it opens are re-sealed the same way.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

use super::seal;

/// Bytes of an encryption key.
pub const KEY_LEN: usize = 32;

pub struct Keyring {
    current: [u8; KEY_LEN],
    /// Open only: older keys, newest first, then the legacy secret.
    older: Vec<Vec<u8>>,
}

/// What [`Keyring::open`] found.
pub struct Opened {
    pub plain: Vec<u8>,
    /// Opened with an older key: seal it again under the current one.
    pub stale: bool,
}

impl Keyring {
    pub fn new(current: [u8; KEY_LEN], previous: Vec<[u8; KEY_LEN]>) -> Self {
        Keyring {
            current,
            older: previous.into_iter().map(|k| k.to_vec()).collect(),
        }
    }

    /// A key of this process alone (the memory store without a configured key: nothing it seals
    /// outlives the process).
    pub fn random() -> Self {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self::new(key, Vec::new())
    }

    /// Also opens (never seals) entries sealed under `secret` by versions before
    /// `session.encryption_key`.
    pub fn with_legacy(mut self, secret: Vec<u8>) -> Self {
        if !secret.is_empty() {
            self.older.push(secret);
        }
        self
    }

    pub fn seal(&self, kind: &str, aad: &str, plain: &[u8]) -> Vec<u8> {
        seal::seal(&self.current, kind, aad, plain)
    }

    /// Opens with the current key, else with an older one; `None` when none opens it.
    pub fn open(&self, kind: &str, aad: &str, sealed: &[u8]) -> Option<Opened> {
        if let Some(plain) = seal::open(&self.current, kind, aad, sealed) {
            return Some(Opened {
                plain,
                stale: false,
            });
        }
        self.older.iter().find_map(|key| {
            seal::open(key, kind, aad, sealed).map(|plain| Opened { plain, stale: true })
        })
    }

    /// An opaque, stable name for `slot` (a store key) of `len` base64url characters (at most
    /// 43): a keyed hash (HKDF-SHA256 expand, an HMAC), so it can be recomputed by every replica
    /// with the key and guessed by no one without it.
    pub fn name_of(&self, purpose: &str, slot: &str, len: usize) -> String {
        let hk = Hkdf::<Sha256>::new(Some(purpose.as_bytes()), &self.current);
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit, so expand cannot fail.
        let _ = hk.expand(slot.as_bytes(), &mut out);
        let mut name = URL_SAFE_NO_PAD.encode(out);
        name.truncate(len);
        name
    }
}

/// An encryption key from its text: base64, standard or url-safe, padded or not, of exactly 32
/// bytes. `Err` says what is wrong, never what was given.
pub fn decode_key(text: &str) -> Result<[u8; KEY_LEN], String> {
    let text = text.trim();
    let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| "not base64".to_owned())?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} bytes, not {KEY_LEN}", bytes.len()))
}

#[cfg(test)]
mod tests;

//! The session store never sees a usable secret: entries are keyed by a SHA-256 of the random
//! id the browser holds (see `store::keys`), and sealed with XChaCha20-Poly1305 under a key
//! derived (HKDF-SHA256) from that same id. A dump of the store therefore yields neither cookies
//! nor tokens.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const NONCE_LEN: usize = 24;

fn cipher(secret: &[u8], kind: &str) -> XChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(Some(b"vestibule/v1/seal"), secret);
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let _ = hk.expand(kind.as_bytes(), &mut key);
    XChaCha20Poly1305::new(&key.into())
}

/// Encrypts `plaintext` under a key derived from `secret`; `aad` (the store key) binds the
/// ciphertext to its slot so entries cannot be swapped.
pub fn seal(secret: &[u8], kind: &str, aad: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher(secret, kind)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        // XChaCha20-Poly1305 encryption only fails for messages over 256 GiB.
        .unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Decrypts what [`seal`] produced; `None` for a wrong key, wrong slot or tampered bytes.
pub fn open(secret: &[u8], kind: &str, aad: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + 16 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher(secret, kind)
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .ok()
}

#[cfg(test)]
mod tests;

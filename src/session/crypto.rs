//! The session store never sees a usable secret: entries are keyed by a SHA-256 of the random
//! id the browser holds, and sealed with XChaCha20-Poly1305 under a key derived (HKDF-SHA256)
//! from that same id. A dump of the store therefore yields neither cookies nor tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Length of a token's text form: 32 random bytes, base64url without padding.
pub const TOKEN_LEN: usize = 43;
const NONCE_LEN: usize = 24;

/// A fresh 256-bit random token, base64url (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// True when `s` has the exact shape of a token we issued (cheap filter before any store I/O).
pub fn is_token_shaped(s: &str) -> bool {
    s.len() == TOKEN_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Store key for a secret: `vestibule:{kind}:{{hex sha256(kind, namespace, secret)}}`. The
/// namespace names the deployment, so deployments sharing a store never see each other's entries.
/// The hash is a Redis Cluster hash tag (in braces): keys derived from a session's key by a
/// suffix (its refresh lock, `…:refresh-lock`) land in the session's slot, so one script can
/// touch both.
pub fn storage_key(kind: &str, namespace: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vestibule/v1/");
    h.update(kind.as_bytes());
    h.update(b"/");
    h.update(namespace.as_bytes());
    h.update(b"/");
    h.update(secret.as_bytes());
    format!("vestibule:{kind}:{{{}}}", hex(&h.finalize()))
}

/// The store keys of one deployment, as the IdP knows it (`issuer|client_id`): replicas share
/// it, another application sharing the store does not.
#[derive(Clone)]
pub struct Namespace(String);

impl Namespace {
    pub fn new(issuer: &str, client_id: &str) -> Self {
        Namespace(format!("{issuer}|{client_id}"))
    }

    /// The store key of a secret (session id, state, `jti`, index value) of `kind`.
    pub fn key(&self, kind: &str, secret: &str) -> String {
        storage_key(kind, &self.0, secret)
    }
}

/// Hex of bytes (lower case).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

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

/// Constant-time equality for secrets.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests;

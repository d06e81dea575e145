//! Store keys: a secret (session id, state, `jti`, index value) never appears in one, only its
//! hash, scoped by kind and by deployment, in a layout that keeps related keys in one Redis
//! Cluster slot.

use sha2::{Digest, Sha256};

use crate::crypto::hex;

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

#[cfg(test)]
mod tests;

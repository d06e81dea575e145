//! Store keys: a secret (session id, state, `jti`, index value) never appears in one, only its
//! hash, scoped by kind and by deployment, in a layout that keeps related keys in one Redis
//! Cluster slot.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

    /// The namespace of one app's provider: `issuer|client_id` for the one app of a file without
    /// `[[apps]]` (as before there were apps), else with the app's name in front, so that two
    /// apps of one client never read each other's sessions.
    pub fn of(config: &crate::config::Config) -> Self {
        let (o, app) = (&config.oidc, &config.app);
        if app.is_implicit() {
            Self::new(&o.issuer, &o.client_id)
        } else {
            Namespace(format!("app:{}|{}|{}", app.name, o.issuer, o.client_id))
        }
    }

    pub fn text(&self) -> &str {
        &self.0
    }

    /// The store key of a secret (session id, state, `jti`, index value) of `kind`.
    pub fn key(&self, kind: &str, secret: &str) -> String {
        storage_key(kind, &self.0, secret)
    }
}

/// The short form of store key `key`, as an index keeps it: the key's hash, base64url (43
/// characters for the key's 78), short enough for the compact form Redis gives a small hash
/// (fields of at most 64 bytes). The kind is not kept: an index knows what it holds. Anything
/// that is not a store key is kept as it is.
pub fn short_form(key: &str) -> String {
    hash_of(key).map_or_else(|| key.to_owned(), |h| URL_SAFE_NO_PAD.encode(h))
}

/// The store key of `kind` whose short form is `member`. A member in the long form (a whole key:
/// what versions before kept in indexes), or anything else, is given back as it is.
pub fn from_short_form(kind: &str, member: &str) -> String {
    match URL_SAFE_NO_PAD.decode(member) {
        Ok(h) if h.len() == 32 => format!("vestibule:{kind}:{{{}}}", hex(&h)),
        _ => member.to_owned(),
    }
}

/// The 32 bytes of a store key's hash (lower-case hex in the key, as [`storage_key`] writes).
fn hash_of(key: &str) -> Option<[u8; 32]> {
    let (_kind, tag) = key.strip_prefix("vestibule:")?.split_once(':')?;
    let digits = tag.strip_prefix('{')?.strip_suffix('}')?.as_bytes();
    let mut hash = [0u8; 32];
    if digits.len() != 64 {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    for (byte, pair) in hash.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(hash)
}

#[cfg(test)]
mod tests;

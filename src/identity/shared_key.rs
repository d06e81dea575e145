//! The signing key Vestibule generates when none is configured: made once, at the first start of
//! the first replica, and kept in the store sealed under the deployment's keyring
//! (`session.encryption_key`), so that every replica signs with it and a dump of the store does
//! not yield it. Two replicas starting at once agree through `put_if_absent`: one writes, both
//! read what was written.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::IdentityError;
use crate::config::Pem;
use crate::crypto::{Keyring, generate_p256};
use crate::store::{Namespace, Store};

/// The store kind of the key's entry (see `store::keys`), and what it is sealed as.
const KIND: &str = "idk";
const SEALED_AS: &str = "identity-key";
/// The entry lives this long past the last start that read it: a replica's start pushes it on,
/// so it never expires under a deployment that runs.
const KEEP: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Generate-and-write rounds before giving up (each loses only to a key another wrote, which the
/// next round reads).
const ROUNDS: usize = 3;

/// The shared key's PEM: read from the store, or generated and written there.
pub async fn shared_pem(
    store: &dyn Store,
    namespace: &Namespace,
    keyring: &Keyring,
) -> Result<Pem, IdentityError> {
    let key = namespace.key(KIND, "signing-key");
    for _ in 0..ROUNDS {
        if let Some(stored) = store.get(&key, Some(KEEP)).await? {
            return opened(store, &key, keyring, &stored).await;
        }
        let pem = generate_p256()?;
        let sealed = STANDARD.encode(keyring.seal(SEALED_AS, &key, pem.as_bytes()));
        if store.put_if_absent(&key, &sealed, KEEP).await? {
            tracing::info!("identity: generated a signing key, shared through the store");
            return Ok(Pem::new(pem.as_bytes().to_vec()));
        }
    }
    Err(IdentityError::Vanished)
}

/// The stored key opened; sealed again under the current key when an older one opened it.
async fn opened(
    store: &dyn Store,
    key: &str,
    keyring: &Keyring,
    stored: &[u8],
) -> Result<Pem, IdentityError> {
    let sealed = STANDARD
        .decode(stored)
        .map_err(|_| IdentityError::StoredKeyUnreadable)?;
    let opened = keyring
        .open(SEALED_AS, key, &sealed)
        .ok_or(IdentityError::StoredKeyUnreadable)?;
    let pem = Pem::new(opened.plain);
    if opened.stale {
        let resealed = STANDARD.encode(keyring.seal(SEALED_AS, key, &pem));
        // Lost to another replica's re-sealing: the same key either way.
        store
            .replace_if(key, stored, resealed.into_bytes(), KEEP)
            .await?;
    }
    Ok(pem)
}

#[cfg(test)]
mod tests;

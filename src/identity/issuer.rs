//! [`Identity`]: what every route's identity shares: the `iss` (`public_url`) and the signing
//! keys. Configured keys are ready at start; a shared key is read from (or generated into) the
//! store once, on first use or by the warm-up at start, and kept for the process's life.

use std::sync::Arc;

use tokio::sync::OnceCell;

use super::{IdentityError, KeySet, shared_key};
use crate::config::{Config, KeyAlg, Pem};
use crate::crypto::Keyring;
use crate::store::{Namespace, Store};

pub struct Identity {
    /// Some route has an `identity_header`: keys are loaded and the JWKS is served.
    enabled: bool,
    issuer: String,
    keys: OnceCell<Arc<KeySet>>,
    /// Where the key comes from when it is not configured.
    shared: Shared,
}

/// What the shared key needs: the store, the deployment's namespace and keyring, and the retired
/// keys to publish beside it.
struct Shared {
    store: Arc<dyn Store>,
    namespace: Namespace,
    keyring: Keyring,
    previous: Vec<Pem>,
}

impl Identity {
    /// The identity of this config; a configured key is loaded now (the config's validation
    /// tried it already).
    pub fn new(config: &Config, store: Arc<dyn Store>) -> Result<Self, IdentityError> {
        let enabled = config.routes.iter().any(|r| r.identity_header.is_some());
        let c = &config.identity;
        let previous = c.previous_pems()?;
        let keys = match c.signing_pem()? {
            Some(pem) if enabled => OnceCell::new_with(Some(Arc::new(KeySet::new(
                &pem,
                c.signing_key_alg,
                &previous,
            )?))),
            _ => OnceCell::new(),
        };
        Ok(Identity {
            enabled,
            issuer: config.origin().to_owned(),
            keys,
            shared: Shared {
                store,
                namespace: Namespace::of(config),
                keyring: config.session.keyring(),
                previous,
            },
        })
    }

    /// Whether any route sends an identity (else no key is made and no JWKS served).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `iss` of every identity: `public_url` without its trailing slash.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The signing keys: configured, or the shared key (read or generated on first call; a
    /// failure is retried on the next).
    pub async fn keys(&self) -> Result<Arc<KeySet>, IdentityError> {
        self.keys
            .get_or_try_init(|| async {
                let s = &self.shared;
                let pem = shared_key::shared_pem(&*s.store, &s.namespace, &s.keyring).await?;
                KeySet::new(&pem, KeyAlg::Es256, &s.previous).map(Arc::new)
            })
            .await
            .cloned()
    }

    /// Loads the keys at start, so that the first call does not wait for the store; a failure
    /// is logged and the first call tries again.
    pub async fn warm(self: Arc<Self>) {
        if !self.enabled {
            return;
        }
        match self.keys().await {
            Ok(keys) => tracing::info!(kid = %keys.kid(), "identity: signing key ready"),
            Err(e) => tracing::warn!(
                error = %crate::support::Chain(&e),
                "identity: signing key not ready; the first identity call retries"
            ),
        }
    }
}

//! Pending logins: what a started login needs at its callback (nonce, PKCE verifier,
//! `return_to`), kept in the store under the login's `state` from `/auth/login` until the
//! callback.
//!
//! - **Bound to the browser**: the entry is sealed under a key derived from the state *and* the
//!   browser's login cookie, so a state carried to another browser (login CSRF, session swapping)
//!   cannot be opened there.
//! - **Single use**: the callback takes the entry atomically; of two concurrent callbacks with
//!   one state, one finds nothing.
//! - **Short-lived**: the entry expires after `login_timeout` in the store, and the time is checked
//!   again on use.
//!
//! Several tabs may log in at once: they share the login cookie, each has its own state.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::store::Namespace;
use crate::store::{Store, StoreError};
use crate::support::{now_unix, secs};

const LOGIN_KIND: &str = "l";

/// A login in progress: what the callback needs to finish it.
#[derive(Serialize, Deserialize)]
pub struct PendingLogin {
    /// Empty with plain OAuth 2.0.
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
    /// A silent login (`prompt=none`): the IdP's "login required" is an answer, not an error.
    #[serde(default)]
    pub prompt_none: bool,
    /// The `max_age` sent: the ID token's `auth_time` must be within it.
    #[serde(default)]
    pub max_age: Option<u64>,
    /// The `acr_values` sent: the SPA is told when the ID token's `acr` is none of them.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// Started from a live session with `acr_values` or `max_age` (a step-up): a login whose
    /// `acr` is none of them does not replace that session.
    #[serde(default)]
    pub step_up: bool,
    /// The store key of the session this browser had when the login started, ended when the
    /// login completes. The callback is a cross-site navigation, so with `same_site = "strict"`
    /// it arrives without the session cookie. (A key, not the session id: it opens nothing.)
    #[serde(default)]
    pub replaces: Option<String>,
}

/// Why a callback's state did not lead to a pending login.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error("no login is in progress in this browser")]
    NoLoginCookie,
    #[error("unknown, already used or expired state")]
    UnknownState,
    #[error("the login was started in another browser")]
    OtherBrowser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct PendingLogins {
    store: Arc<dyn Store>,
    namespace: Namespace,
    timeout: Duration,
}

impl PendingLogins {
    pub(super) fn new(store: Arc<dyn Store>, namespace: Namespace, timeout: Duration) -> Self {
        Self {
            store,
            namespace,
            timeout,
        }
    }

    /// Remembers a login started with `state` in the browser holding the login cookie `binding`.
    pub async fn save(
        &self,
        binding: &str,
        state: &str,
        pending: &PendingLogin,
    ) -> Result<(), StoreError> {
        let key = self.namespace.key(LOGIN_KIND, state);
        let plain = serde_json::to_vec(pending).map_err(StoreError::Encode)?;
        let sealed = crypto::seal(&secret(binding, state), LOGIN_KIND, &key, &plain);
        self.store.put(&key, sealed, self.timeout).await
    }

    /// Consumes the pending login for `state` (single use, even under concurrent callbacks) and
    /// checks it was started by the browser holding `binding`.
    pub async fn take(
        &self,
        binding: Option<&str>,
        state: &str,
    ) -> Result<PendingLogin, PendingError> {
        let binding = binding.ok_or(PendingError::NoLoginCookie)?;
        let key = self.namespace.key(LOGIN_KIND, state);
        let sealed = self
            .store
            .take(&key)
            .await?
            .ok_or(PendingError::UnknownState)?;
        let pending = crypto::open(&secret(binding, state), LOGIN_KIND, &key, &sealed)
            .and_then(|plain| serde_json::from_slice::<PendingLogin>(&plain).ok())
            .ok_or(PendingError::OtherBrowser)?;
        if pending.created_at.saturating_add(secs(self.timeout)) < now_unix() {
            return Err(PendingError::UnknownState);
        }
        Ok(pending)
    }
}

/// The sealing secret of a pending login needs both the browser's login cookie and the state.
fn secret(binding: &str, state: &str) -> Vec<u8> {
    let mut s = Vec::with_capacity(binding.len() + state.len() + 1);
    s.extend_from_slice(binding.as_bytes());
    s.push(b'|');
    s.extend_from_slice(state.as_bytes());
    s
}

#[cfg(test)]
mod tests;

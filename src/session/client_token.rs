//! The application's own tokens (client credentials), one per distinct `scope`/`resource`
//! asked by `token = "client"` routes: held in this process, shared with the other replicas
//! through the store (sealed under a key derived from the client's own credentials, so a dump
//! of the store yields nothing usable), and obtained exactly once under concurrency: one gate
//! per token in the process, the store lock across replicas, and a re-read under the lock.
//!
//! They never reach a browser: only the upstream of a route that asks for them sees them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RefreshError;
use super::single_flight::{Flights, Held};
use crate::config::Config;
use crate::crypto;
use crate::oidc::{ClientGrant, OidcError, Provider};
use crate::store::Namespace;
use crate::store::{Store, StoreError};
use crate::support::{Chain, due, lock, secs, unix_after};
use crate::telemetry::metrics::METRICS;

const CLIENT_KIND: &str = "c";
/// How long a token the IdP gave no lifetime is kept (until an upstream refuses it sooner).
const NO_EXPIRY_TTL: Duration = Duration::from_secs(3600);

/// One application token.
#[derive(Serialize, Deserialize)]
pub struct ClientToken {
    pub access_token: String,
    expires_at: Option<i64>,
    lifetime: Option<i64>,
}

pub struct ClientTokens {
    store: Arc<dyn Store>,
    namespace: Namespace,
    secret: Vec<u8>,
    held: Mutex<HashMap<String, Arc<ClientToken>>>,
    flights: Flights,
    skew: Duration,
}

impl ClientTokens {
    /// `secret`: material only this deployment holds (see `Provider::sealing_secret`).
    pub fn new(config: &Config, store: Arc<dyn Store>, secret: Vec<u8>) -> Self {
        Self {
            flights: Flights::new(
                store.clone(),
                config.oidc.http_timeout + Duration::from_secs(5),
            ),
            store,
            namespace: Namespace::of(config),
            secret,
            held: Mutex::new(HashMap::new()),
            skew: config.session.refresh_skew,
        }
    }

    /// A usable token for `grant`, never the `rejected` one (an upstream refused it).
    pub async fn get(
        &self,
        grant: &ClientGrant,
        oidc: &Provider,
        rejected: Option<&str>,
    ) -> Result<Arc<ClientToken>, RefreshError> {
        let usable = |t: &ClientToken| {
            rejected != Some(t.access_token.as_str()) && !due(t.expires_at, t.lifetime, self.skew)
        };
        let held = || lock(&self.held).get(&grant.key).cloned();
        if let Some(t) = held().filter(|t| usable(t)) {
            return Ok(t);
        }
        let key = self.namespace.key(CLIENT_KIND, &grant.key);
        let key = key.as_str();
        let (held, usable) = (&held, &usable);
        let done = move || async move {
            if let Some(t) = held().filter(|t| usable(t)) {
                return Ok(Some(t));
            }
            let stored = self.read(key).await?.filter(|t| usable(t));
            Ok(stored.map(|t| self.hold(grant, t)))
        };
        let work = move |lock: Held| async move {
            let result = self.fetch_locked(grant, oidc, key, usable).await;
            self.flights.release(&lock).await?;
            result
        };
        self.flights
            .run(key, format!("{key}:lock"), done, work)
            .await
    }

    /// Under the store lock: another replica may have just stored one; else ask the IdP.
    async fn fetch_locked(
        &self,
        grant: &ClientGrant,
        oidc: &Provider,
        key: &str,
        usable: &dyn Fn(&ClientToken) -> bool,
    ) -> Result<Arc<ClientToken>, RefreshError> {
        if let Some(t) = self.read(key).await?.filter(|t| usable(t)) {
            return Ok(self.hold(grant, t));
        }
        let issued = oidc.client_token(grant).await.map_err(|e| {
            tracing::warn!(error = %Chain(&e), "client credentials grant");
            METRICS.refreshes.with_label_values(&["failure"]).inc();
            match e {
                OidcError::Refused(_) => RefreshError::NotGranted(e),
                e => RefreshError::IdpUnavailable(e),
            }
        })?;
        tracing::info!(
            result = "success",
            token = "client",
            "client credentials grant"
        );
        let token = ClientToken {
            access_token: issued.access_token,
            expires_at: issued.expires_in.map(unix_after),
            lifetime: issued.expires_in.map(secs),
        };
        let ttl = issued
            .expires_in
            .filter(|d| !d.is_zero())
            .unwrap_or(NO_EXPIRY_TTL);
        let plain = serde_json::to_vec(&token).map_err(StoreError::Encode)?;
        let sealed = crypto::seal(&self.secret, CLIENT_KIND, key, &plain);
        self.store.put(key, sealed, ttl).await?;
        Ok(self.hold(grant, token))
    }

    async fn read(&self, key: &str) -> Result<Option<ClientToken>, StoreError> {
        let Some(sealed) = self.store.get(key, None).await? else {
            return Ok(None);
        };
        // One sealed under another deployment's credentials (a rotated secret) reads as none.
        Ok(crypto::open(&self.secret, CLIENT_KIND, key, &sealed)
            .and_then(|plain| serde_json::from_slice(&plain).ok()))
    }

    fn hold(&self, grant: &ClientGrant, token: ClientToken) -> Arc<ClientToken> {
        let token = Arc::new(token);
        lock(&self.held).insert(grant.key.clone(), token.clone());
        token
    }
}

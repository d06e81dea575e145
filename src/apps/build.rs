//! A [`Deployment`] made into [`Apps`]: per app, a state per provider. A reload builds anew,
//! taking from the apps before what must outlive it: a provider's discovered metadata and keys
//! (so `/readyz` and logins do not wait for a new discovery) and a store namespace's session
//! cache and event streams (one subscription to ended sessions per namespace, ever).

use std::collections::HashMap;
use std::sync::Arc;

use super::live::Apps;
use crate::config::{Config, Deployment};
use crate::identity::{Identity, IdentityError};
use crate::oidc::{Provider, ProviderError};
use crate::proxy::{self, BadRule};
use crate::session::{ClientTokens, SessionManager};
use crate::store::Store;
use crate::{App, AppState, auth};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("app {app:?}, provider {provider:?}: cannot set up the identity provider client")]
    Provider {
        app: String,
        provider: String,
        #[source]
        source: ProviderError,
    },
    #[error("app {app:?}")]
    Rule {
        app: String,
        #[source]
        source: BadRule,
    },
    #[error("app {app:?}: cannot load the identity signing keys")]
    Identity {
        app: String,
        #[source]
        source: IdentityError,
    },
}

/// The apps of `deployment`, on `store`, taking what it can from `before`. Must run inside the
/// runtime: it starts discovery loops.
pub fn build(
    deployment: Arc<Deployment>,
    store: &Arc<dyn Store>,
    login_rate: &Arc<auth::LoginRate>,
    before: Option<&Apps>,
) -> Result<Apps, BuildError> {
    let old = before.map(states_by_namespace).unwrap_or_default();
    let mut list = Vec::with_capacity(deployment.apps.len());
    for config in &deployment.apps {
        list.push(Arc::new(build_app(config, store, login_rate, &old)?));
    }
    Ok(Apps::new(list, deployment, before))
}

/// Every provider state of `apps`, by its store namespace.
fn states_by_namespace(apps: &Apps) -> HashMap<String, Arc<AppState>> {
    apps.list
        .iter()
        .flat_map(|a| a.providers.iter())
        .map(|s| {
            (
                crate::store::Namespace::of(&s.config).text().to_owned(),
                s.clone(),
            )
        })
        .collect()
}

fn build_app(
    config: &Config,
    store: &Arc<dyn Store>,
    login_rate: &Arc<auth::LoginRate>,
    old: &HashMap<String, Arc<AppState>>,
) -> Result<App, BuildError> {
    let name = config.app.name.clone();
    let router = Arc::new(proxy::Router::new(proxy::routes(config).map_err(
        |source| BuildError::Rule {
            app: name.clone(),
            source,
        },
    )?));
    let identity =
        Arc::new(
            Identity::new(config, store.clone()).map_err(|source| BuildError::Identity {
                app: name.clone(),
                source,
            })?,
        );
    tokio::spawn(identity.clone().warm());
    let spa_upstream = proxy::spa_upstream(config);
    let shared = Shared {
        store,
        login_rate,
        identity: &identity,
        router: &router,
        spa_upstream: &spa_upstream,
    };
    let providers = config
        .app
        .providers
        .iter()
        .map(|oidc| provider_state(config, oidc, &shared, old))
        .collect::<Result<Vec<_>, _>>()?;
    let default = match &config.app.default_provider {
        Some(d) => config.app.providers.iter().position(|p| &p.name == d),
        None if providers.len() == 1 => Some(0),
        None => None,
    };
    Ok(App {
        name: name.into(),
        providers,
        default,
    })
}

/// What an app's provider states share.
struct Shared<'a> {
    store: &'a Arc<dyn Store>,
    login_rate: &'a Arc<auth::LoginRate>,
    identity: &'a Arc<Identity>,
    router: &'a Arc<proxy::Router>,
    spa_upstream: &'a Option<Arc<proxy::Route>>,
}

/// The state of one provider of the app `config` is: its IdP client (with what the one before
/// discovered) and its sessions (sharing the cache and streams of the manager before).
fn provider_state(
    config: &Config,
    oidc: &crate::config::OidcConfig,
    shared: &Shared<'_>,
    old: &HashMap<String, Arc<AppState>>,
) -> Result<Arc<AppState>, BuildError> {
    let mut c = config.clone();
    c.oidc = oidc.clone();
    let c = Arc::new(c);
    let before = old.get(crate::store::Namespace::of(&c).text());
    let provider = Provider::new(&c).map_err(|source| BuildError::Provider {
        app: config.app.name.clone(),
        provider: oidc.name.clone(),
        source,
    })?;
    let provider = Arc::new(match before {
        Some(b) => provider.adopting(&b.oidc),
        None => provider,
    });
    tokio::spawn(Provider::keep_discovered(Arc::downgrade(&provider)));
    let store = shared.store.clone();
    let sessions = Arc::new(match before {
        Some(b) => {
            SessionManager::reusing(&c, store.clone(), provider.sealing_secret(), &b.sessions)
        }
        None => {
            let s = SessionManager::new(&c, store.clone(), provider.sealing_secret());
            s.listen_for_ended_sessions();
            s
        }
    });
    let client_tokens = Arc::new(ClientTokens::new(&c, store, provider.sealing_secret()));
    Ok(Arc::new(AppState {
        config: c,
        oidc: provider,
        sessions,
        client_tokens,
        identity: shared.identity.clone(),
        router: shared.router.clone(),
        spa_upstream: shared.spa_upstream.clone(),
        login_rate: shared.login_rate.clone(),
    }))
}

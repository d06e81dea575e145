//! [`Live`]: the apps now served. A reload swaps the whole set at once; a request keeps the
//! set it started with (an `Arc`), so it finishes on the config it began on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::App;
use crate::config::Deployment;

/// One config's apps, by host.
pub struct Apps {
    pub list: Vec<Arc<App>>,
    by_host: HashMap<String, usize>,
    /// A file without `[[apps]]`: its one app answers any host.
    implicit: bool,
    /// The config they were built from.
    pub deployment: Arc<Deployment>,
    /// `(app, provider)` pairs a reload of this process removed (and none put back): a cookie
    /// naming one is a session that ended `config_removed`, any other unknown name is just no
    /// session.
    removed: HashSet<(String, String)>,
}

impl Apps {
    pub fn new(list: Vec<Arc<App>>, deployment: Arc<Deployment>, before: Option<&Apps>) -> Self {
        let pairs = |apps: &Apps| -> HashSet<(String, String)> {
            apps.list
                .iter()
                .flat_map(|a| {
                    a.providers
                        .iter()
                        .map(|p| (a.name.to_string(), p.config.oidc.name.clone()))
                })
                .collect()
        };
        let by_host = deployment
            .apps
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.app.host.clone().map(|h| (h, i)))
            .collect();
        let mut apps = Self {
            implicit: !deployment.has_apps(),
            list,
            by_host,
            deployment,
            removed: HashSet::new(),
        };
        if let Some(before) = before {
            let now = pairs(&apps);
            apps.removed = before
                .removed
                .iter()
                .cloned()
                .chain(pairs(before))
                .filter(|p| !now.contains(p))
                .collect();
        }
        apps
    }

    /// Whether a reload removed provider `provider` of app `app`.
    pub fn was_removed(&self, app: &str, provider: &str) -> bool {
        self.removed
            .contains(&(app.to_owned(), provider.to_owned()))
    }

    /// The app for the request whose host `host` reads (as `support::host` spells it); the one
    /// app of a file without `[[apps]]` answers any host, without reading it.
    pub fn pick(&self, host: impl FnOnce() -> Option<String>) -> Option<&Arc<App>> {
        if self.implicit {
            return self.list.first();
        }
        self.by_host.get(&host()?).and_then(|&i| self.list.get(i))
    }

    pub fn named(&self, name: &str) -> Option<&Arc<App>> {
        self.list.iter().find(|a| &*a.name == name)
    }

    /// Whether the file had `[[apps]]`.
    pub fn has_apps(&self) -> bool {
        !self.implicit
    }
}

/// The apps now served, swapped whole by a reload.
pub struct Live(ArcSwap<Apps>);

impl Live {
    pub fn new(apps: Apps) -> Self {
        Self(ArcSwap::from_pointee(apps))
    }

    pub fn now(&self) -> Arc<Apps> {
        self.0.load_full()
    }

    pub fn swap(&self, apps: Apps) -> Arc<Apps> {
        self.0.swap(Arc::new(apps))
    }
}

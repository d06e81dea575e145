//! Reloading the config without a restart: on `SIGHUP`, and when `server.watch_config` is on,
//! on a change of the file's content (checked every 2 s: a Kubernetes ConfigMap volume changes
//! by swapping a symlink, which file-change notifications on the file itself miss).
//!
//! The whole file is loaded and checked as `check-config` does; a file that fails, or whose apps
//! cannot be built, changes nothing. Else the new apps replace the old at once, and requests
//! already running finish on the apps they started with.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use super::build::build;
use crate::config::{Config, Deployment};
use crate::store::Store;
use crate::support::Chain;
use crate::telemetry::metrics::METRICS;
use crate::{Process, auth};

/// How often `watch_config` reads the file.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// What a reload needs: the file, and what the apps are built on.
pub struct Reloader {
    pub file: PathBuf,
    pub process: web::Data<Process>,
    pub store: Arc<dyn Store>,
    pub login_rate: Arc<auth::LoginRate>,
}

impl Reloader {
    /// Loads, checks and swaps in the file's apps; `false` (and nothing changed) when the file
    /// is refused.
    pub fn reload(&self) -> bool {
        let applied = match Deployment::load(&self.file) {
            Ok(deployment) => self.apply(deployment),
            Err(e) => {
                tracing::error!(error = %Chain(&e), "config reload rejected; the config before stays");
                false
            }
        };
        let result = if applied { "applied" } else { "rejected" };
        METRICS.config_reloads.with_label_values(&[result]).inc();
        applied
    }

    fn apply(&self, mut deployment: Deployment) -> bool {
        let before = self.process.apps.now();
        let unchanged = restart_only_changes(&self.process.config, deployment.process());
        if !unchanged.is_empty() {
            tracing::warn!(
                keys = %unchanged.join(", "),
                "config reload: these keys take effect at the next restart"
            );
        }
        for app in &mut deployment.apps {
            keep_process_keys(app, &self.process.config);
        }
        let deployment = Arc::new(deployment);
        match build(
            deployment.clone(),
            &self.store,
            &self.login_rate,
            Some(&before),
        ) {
            Ok(apps) => {
                let names: Vec<&str> = deployment
                    .apps
                    .iter()
                    .map(|a| a.app.name.as_str())
                    .collect();
                tracing::info!(apps = %names.join(","), "config reloaded");
                self.process.apps.swap(apps);
                true
            }
            Err(e) => {
                tracing::error!(error = %Chain(&e), "config reload rejected; the config before stays");
                false
            }
        }
    }
}

/// What a reload does not change, in a reloaded app's config: `[server]` but the app's own
/// `public_url`, the store's keys, `[telemetry]` and `[identity]` stay those the process started
/// with. Else the handlers would read new values the server was not built with: a new
/// `auth_prefix` in every URL handed out while the endpoints stay at the old one, a new
/// `trusted_proxies` for `/auth/check` while the app picker keeps the old.
fn keep_process_keys(app: &mut Config, process: &Config) {
    let public_url = app.server.public_url.clone();
    app.server = process.server.clone();
    app.server.public_url = public_url;
    let (s, p) = (&mut app.session, &process.session);
    s.store = p.store;
    s.redis_url = p.redis_url.clone();
    s.redis = p.redis.clone();
    s.encryption_key = p.encryption_key.clone();
    s.previous_encryption_keys = p.previous_encryption_keys.clone();
    s.cache_ttl = p.cache_ttl;
    app.telemetry = process.telemetry.clone();
    app.identity = process.identity.clone();
}

/// The process-wide keys that differ between `now` and `next`: a reload cannot change them.
fn restart_only_changes(now: &Config, next: &Config) -> Vec<&'static str> {
    let differ =
        |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") != format!("{b:?}");
    let (s, t) = (&now.server, &next.server);
    let secrets = |c: &Config| {
        use secrecy::ExposeSecret;
        let key = c
            .session
            .encryption_key
            .as_ref()
            .map(|k| k.expose_secret().to_owned());
        let previous: Vec<String> = c
            .session
            .previous_encryption_keys
            .iter()
            .map(|k| k.expose_secret().to_owned())
            .collect();
        (key, previous)
    };
    let mut keys = Vec::new();
    for (key, changed) in [
        ("server.listen", s.listen != t.listen),
        ("server.admin_listen", s.admin_listen != t.admin_listen),
        ("server.auth_prefix", s.auth_prefix != t.auth_prefix),
        (
            "server.max_connections",
            s.max_connections != t.max_connections,
        ),
        (
            "server.max_header_bytes",
            s.max_header_bytes != t.max_header_bytes,
        ),
        ("server.max_in_flight", s.max_in_flight != t.max_in_flight),
        (
            "server.logins_per_minute",
            s.logins_per_minute != t.logins_per_minute,
        ),
        (
            "server.trusted_proxies",
            differ(&s.trusted_proxies, &t.trusted_proxies),
        ),
        (
            "session.store",
            differ(
                &now.session.redis_deployment(),
                &next.session.redis_deployment(),
            ),
        ),
        ("server (its other keys)", without_url(s) != without_url(t)),
        ("session.encryption_key", secrets(now) != secrets(next)),
        (
            "session.cache_ttl",
            now.session.cache_ttl != next.session.cache_ttl,
        ),
        ("telemetry", differ(&now.telemetry, &next.telemetry)),
        ("identity", differ(&now.identity, &next.identity)),
    ] {
        if changed {
            keys.push(key);
        }
    }
    keys
}

/// The `SIGHUP` handler, installed at once (before it, a `SIGHUP` would end the process);
/// `None` when the platform refuses it. Call inside the runtime.
pub fn hangups() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "no SIGHUP handler: reload by signal is off");
            None
        }
    }
}

/// `[server]` but `public_url` (which is each app's), as debug text for a comparison.
fn without_url(s: &crate::config::ServerConfig) -> String {
    let mut s = s.clone();
    s.public_url = url::Url::parse("http://x.invalid").unwrap_or(s.public_url);
    format!("{s:?}")
}

/// Reloads on every `SIGHUP` (from `hup`), and on file changes when `server.watch_config` is
/// on, for as long as the process runs.
pub async fn watch(reloader: Reloader, mut hup: Option<tokio::signal::unix::Signal>, poll: bool) {
    if hup.is_none() && !poll {
        return;
    }
    let mut seen = std::fs::read(&reloader.file).ok();
    let mut tick = tokio::time::interval(WATCH_EVERY);
    loop {
        tokio::select! {
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => None } } => {
                tracing::info!("SIGHUP: reloading the config");
                reloader.reload();
                seen = std::fs::read(&reloader.file).ok();
            }
            _ = tick.tick(), if poll => {
                let now = std::fs::read(&reloader.file).ok();
                if now.is_some() && now != seen {
                    tracing::info!("config file changed: reloading");
                    reloader.reload();
                    seen = now;
                }
            }
        }
    }
}

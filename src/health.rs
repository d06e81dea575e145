//! Health: `GET /healthz` (liveness) and `GET /readyz` (the store answers and IdP metadata is
//! loaded), and the client side of `vestibule healthcheck`, which asks `/healthz` for a
//! container's `HEALTHCHECK` (so the image needs no curl).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::Process;
use crate::config::Config;
use crate::support::Chain;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// `GET /healthz`: 200 while the process serves.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the store answers, IdP metadata is loaded and no shutdown has begun;
/// else 503 with the reasons.
async fn readyz(process: web::Data<Process>) -> HttpResponse {
    let mut reasons = Vec::new();
    if process.draining.load(std::sync::atomic::Ordering::SeqCst) {
        reasons.push("shutting down".to_owned());
    }
    let apps = process.apps.now();
    if let Some(store) = apps.list.first().map(|a| a.first().sessions.store())
        && let Err(e) = store.ping().await
    {
        reasons.push(format!("{} {}", store.kind(), Chain(&e)));
    }
    // Every provider of every app: a replica that cannot sign users of one app in is not ready.
    for app in &apps.list {
        for state in &app.providers {
            if let Some(why) = state.oidc.not_ready_reason() {
                reasons.push(if apps.has_apps() {
                    format!(
                        "app {}, provider {}: {why}",
                        app.name, state.config.oidc.name
                    )
                } else {
                    why
                });
            }
        }
    }
    crate::telemetry::metrics::METRICS
        .ready
        .set(i64::from(reasons.is_empty()));
    if reasons.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "not_ready", "reasons": reasons }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{addr}: no answer")]
    Io {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} answered {status_line}")]
    NotHealthy {
        addr: SocketAddr,
        status_line: String,
    },
}

/// `vestibule healthcheck`: asks the running proxy's `/healthz` (on `admin_listen` when set) over
/// plain HTTP/1.1 and succeeds on a 200.
pub fn probe(config: &Config) -> Result<(), ProbeError> {
    let addr = config.server.local_admin_addr();
    let timeout = Duration::from_secs(3);
    let head = TcpStream::connect_timeout(&addr, timeout)
        .and_then(|mut s| {
            s.set_read_timeout(Some(timeout))?;
            s.write_all(
                b"GET /healthz HTTP/1.1\r\nHost: healthcheck\r\nConnection: close\r\n\r\n",
            )?;
            let mut head = [0u8; 12];
            s.read_exact(&mut head)?;
            Ok(head)
        })
        .map_err(|source| ProbeError::Io { addr, source })?;
    if head.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(ProbeError::NotHealthy {
            addr,
            status_line: String::from_utf8_lossy(&head).into_owned(),
        })
    }
}

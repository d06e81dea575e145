//! A TCP relay on loopback that can be paused: between a Vestibule and its Redis, it makes
//! "Redis blinked" or "this replica stalled" happen at a chosen moment. Paused, it stops moving
//! bytes both ways (connections stay open and new ones are accepted but go nowhere). With a
//! latency, it holds each chunk toward the server that long: a far-away Redis, where round trips
//! are what a request costs.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    pub port: u16,
    paused: watch::Sender<bool>,
}

/// What the relay adds to each round trip.
#[derive(Clone, Copy)]
struct Latency(std::time::Duration);

impl Relay {
    /// Relays 127.0.0.1:`port` (a free one) to 127.0.0.1:`target`.
    pub async fn start(target: u16) -> Relay {
        Self::start_with_latency(target, std::time::Duration::ZERO).await
    }

    /// [`Relay::start`], holding every chunk toward `target` for `latency`.
    pub async fn start_with_latency(target: u16, latency: std::time::Duration) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let (paused, watching) = watch::channel(false);
        let watching = Arc::new(watching);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let watching = watching.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                        return;
                    };
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    tokio::join!(
                        pipe(ri, wo, (*watching).clone(), Latency(latency)),
                        pipe(
                            ro,
                            wi,
                            (*watching).clone(),
                            Latency(std::time::Duration::ZERO)
                        )
                    );
                });
            }
        });
        Relay { port, paused }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn pause(&self) {
        let _ = self.paused.send(true);
    }

    pub fn resume(&self) {
        let _ = self.paused.send(false);
    }
}

/// Copies `from` to `to`, holding each chunk while paused, and for `latency`.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut paused: watch::Receiver<bool>,
    latency: Latency,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if !latency.0.is_zero() {
            tokio::time::sleep(latency.0).await;
        }
        if paused.wait_for(|p| !*p).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

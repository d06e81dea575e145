//! A real upstream API on loopback that reports exactly what reached it.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::config::TestRoute;

#[derive(Default)]
pub struct Hits(pub AtomicUsize, Mutex<Vec<String>>);

pub struct Upstream {
    pub port: u16,
    pub hits: Arc<Hits>,
    handle: actix_web::dev::ServerHandle,
}

impl Upstream {
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// `keep_alive = false`: every response closes its connection, so once the port refuses
    /// connections the upstream is wholly down (no pooled connection lingers on a stopping server).
    pub async fn start_with(keep_alive: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Hits::default());
        let data = web::Data::from(hits.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/{any:.*}/slow", web::to(slow))
                .route("/{any:.*}/big", web::get().to(big))
                .route("/{any:.*}/slowstream", web::get().to(slow_stream))
                .route("/{any:.*}/slowerstream", web::get().to(slower_stream))
                .route("/{any:.*}/ws", web::get().to(ws_echo))
                .route("/{any:.*}/set-cookies", web::get().to(set_cookies))
                .route("/{any:.*}/own-401", web::get().to(own_401))
                .route("/{any:.*}/guarded", web::to(guarded))
                .default_service(web::to(echo))
        })
        .workers(2)
        .keep_alive(if keep_alive {
            actix_web::http::KeepAlive::Os
        } else {
            actix_web::http::KeepAlive::Disabled
        })
        .listen(listener)
        .expect("listen upstream")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Upstream { port, hits, handle }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A `[[routes]]` entry forwarding `prefix` here with the given token policy.
    pub fn route(&self, prefix: &str, token: &str) -> TestRoute {
        TestRoute::new(prefix, &self.url(), token)
    }

    /// The usual one: `/api`.
    pub fn api_route(&self, token: &str) -> TestRoute {
        self.route("/api", token)
    }

    /// From now on `…/guarded` answers 401 `invalid_token` to this bearer token.
    pub fn reject(&self, token: &str) {
        self.hits.1.lock().expect("rejected").push(token.to_owned());
    }

    pub fn hit_count(&self) -> usize {
        self.hits.0.load(Ordering::SeqCst)
    }

    /// Stops the server and waits until its port refuses connections.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                std::time::Instant::now() < deadline,
                "upstream on port {} did not stop",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Echoes method, raw path and query, headers, and the body's length and SHA-256 (streamed).
async fn echo(req: HttpRequest, mut body: web::Payload, hits: web::Data<Hits>) -> HttpResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    let mut len = 0u64;
    let mut hash = Sha256::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return HttpResponse::BadRequest().finish();
        };
        len += chunk.len() as u64;
        hash.update(&chunk);
    }
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                json!(v.to_str().unwrap_or("<bytes>")),
            )
        })
        .collect();
    let duplicates: Vec<String> = req
        .headers()
        .keys()
        .filter(|k| req.headers().get_all(*k).count() > 1)
        .map(|k| k.as_str().to_owned())
        .collect();
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "query": req.uri().query(),
        "headers": headers,
        "duplicate_headers": duplicates,
        "body_len": len,
        "body_sha256": vestibule::crypto::hex(&hash.finalize()),
    }))
}

/// `echo`, unless the bearer token was [`Upstream::reject`]ed: then 401 `invalid_token`, as a
/// resource server says "expired or revoked".
async fn guarded(req: HttpRequest, body: web::Payload, hits: web::Data<Hits>) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if hits.1.lock().expect("rejected").contains(&bearer) {
        hits.0.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::Unauthorized()
            .insert_header((
                "www-authenticate",
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"",
            ))
            .finish();
    }
    echo(req, body, hits).await
}

async fn slow(hits: web::Data<Hits>) -> HttpResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    HttpResponse::Ok().body("finally")
}

/// `?n=BYTES`: a streamed body of that many bytes (0, 1, 2, ... 255 repeating), in 64 KiB chunks.
async fn big(req: HttpRequest) -> HttpResponse {
    let n: u64 = req
        .query_string()
        .strip_prefix("n=")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let chunk: bytes::Bytes = (0..65536u32)
        .map(|i| (i % 256) as u8)
        .collect::<Vec<u8>>()
        .into();
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let chunk = chunk.clone();
        async move {
            if sent >= n {
                return None;
            }
            let take = (n - sent).min(chunk.len() as u64) as usize;
            Some((
                Ok::<_, std::io::Error>(chunk.slice(..take)),
                sent + take as u64,
            ))
        }
    });
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(actix_web::body::SizedStream::new(n, stream))
}

/// 1 MiB in 10 chunks, 200 ms apart (2 s in all).
async fn slow_stream() -> HttpResponse {
    paced_stream(Duration::from_millis(200))
}

/// [`slow_stream`] over 4.5 s (a chunk every 500 ms).
async fn slower_stream() -> HttpResponse {
    paced_stream(Duration::from_millis(500))
}

/// 1 MiB (and 10 bytes) in 10 chunks, `pace` apart.
fn paced_stream(pace: Duration) -> HttpResponse {
    let stream = futures_util::stream::unfold(0u32, move |i| async move {
        if i == 10 {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(pace).await;
        }
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![
                b'x';
                104_858 + usize::from(i == 9) * 6
            ])),
            i + 1,
        ))
    });
    HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(actix_web::body::SizedStream::new(1_048_586, stream))
}

async fn set_cookies() -> HttpResponse {
    HttpResponse::Ok()
        .append_header(("set-cookie", "vestibule=planted-by-upstream; Path=/"))
        .append_header(("set-cookie", "app_pref=dark; Path=/"))
        .finish()
}

/// The upstream's own 401, dressed as Vestibule's refusal (its body and its marking header).
async fn own_401() -> HttpResponse {
    HttpResponse::Unauthorized()
        .append_header(("vestibule-refusal", "unauthenticated"))
        .json(serde_json::json!({ "error": "unauthenticated", "reason": "revoked" }))
}

/// WebSocket echo; its first message reports the `Authorization` header of the upgrade request.
/// Each upgrade request that reaches it is a hit.
async fn ws_echo(
    req: HttpRequest,
    body: web::Payload,
    hits: web::Data<Hits>,
) -> Result<HttpResponse, actix_web::Error> {
    hits.0.fetch_add(1, Ordering::SeqCst);
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    let identity = req
        .headers()
        .get("x-vestibule-identity")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (res, mut session, mut stream) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        if session
            .text(format!("authorization: {auth}"))
            .await
            .is_err()
        {
            return;
        }
        // Only on routes that send an identity: the others' greeting stays one message.
        if let Some(id) = identity
            && session.text(format!("identity: {id}")).await.is_err()
        {
            return;
        }
        while let Some(Ok(msg)) = stream.next().await {
            let ok = match msg {
                actix_ws::Message::Text(t) => session.text(format!("echo: {t}")).await.is_ok(),
                actix_ws::Message::Binary(b) => session.binary(b).await.is_ok(),
                actix_ws::Message::Ping(b) => session.pong(&b).await.is_ok(),
                actix_ws::Message::Close(r) => {
                    let _ = session.close(r).await;
                    return;
                }
                _ => true,
            };
            if !ok {
                return;
            }
        }
    });
    Ok(res)
}

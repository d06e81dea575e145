//! Bench-only: the floor of the stack Vestibule is built on. An actix-web server whose one
//! handler forwards a GET to an upstream on the same pooled hyper client Vestibule uses
//! (`UpstreamClient`), copying the request's headers and the response: no session, no cookie,
//! no CSRF rule, no logs, no metrics. Its CPU per request, against nginx `proxy_pass` in the same
//! run, is the least Vestibule could cost on actix-web and hyper.
//!
//!   cargo run --release --example proxy_floor -- 127.0.0.1:LISTEN http://127.0.0.1:UPSTREAM

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use http_body_util::BodyExt;
use vestibule::proxy::UpstreamClient;

// The allocator Vestibule runs on (see `src/main.rs`).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

async fn forward(
    req: HttpRequest,
    upstream: web::Data<String>,
    client: web::Data<UpstreamClient>,
) -> HttpResponse {
    let uri = format!("{}{}", upstream.get_ref(), req.uri());
    let mut out = http::Request::new(
        http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *out.uri_mut() = match uri.parse() {
        Ok(u) => u,
        Err(_) => return HttpResponse::BadRequest().finish(),
    };
    for (name, value) in req.headers() {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.headers_mut().append(n, v);
        }
    }
    let response = match client.send(out).await {
        Ok(r) => r,
        Err(_) => return HttpResponse::BadGateway().finish(),
    };
    let status = actix_web::http::StatusCode::from_u16(response.status().as_u16())
        .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    let mut answer = HttpResponse::build(status);
    for (name, value) in response.headers() {
        if name != http::header::CONTENT_LENGTH {
            answer.append_header((name.as_str(), value.as_bytes()));
        }
    }
    match response.into_body().collect().await {
        Ok(body) => answer.body(body.to_bytes()),
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: proxy_floor LISTEN UPSTREAM_ORIGIN");
        std::process::exit(2);
    };
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(upstream.clone()))
                .app_data(web::Data::new(UpstreamClient::new()))
                .default_service(web::to(forward))
        })
        .workers(2)
        .bind(listen)?
        .run()
        .await
    })
}

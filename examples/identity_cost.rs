//! Bench-only: what the identity header costs a proxied call, in microseconds of CPU on this
//! thread: signing a new ES256 identity (every call, without the cache) against reusing the one
//! signed for the session (a cache hit, what nearly every call does).
//!
//!   cargo run --release --example identity_cost

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use vestibule::config::Config;
use vestibule::identity::{Holder, Identity, RouteIdentity};
use vestibule::store::memory::MemoryStore;

const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "https://app.example"
[oidc]
issuer = "https://idp.example"
client_id = "bench"
client_secret = "bench-client-secret-0123"
[[routes]]
prefix = "/api"
upstream = "http://127.0.0.1:9"
identity_header = "X-Vestibule-Identity"
"#;

fn main() -> ExitCode {
    let config = match Config::from_toml_str(CONFIG, "bench") {
        Ok(c) => c,
        Err(e) => {
            eprintln!("identity_cost: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("identity_cost: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(measure(&config))
}

async fn measure(config: &Config) -> ExitCode {
    let identity = match Identity::new(config, Arc::new(MemoryStore::new())) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("identity_cost: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(route) = config
        .routes
        .first()
        .and_then(|r| RouteIdentity::for_route(r, config.origin()))
    else {
        return ExitCode::from(2);
    };
    let claims = serde_json::json!({
        "email": "ada@example.test", "email_verified": true, "name": "Ada Lovelace",
        "preferred_username": "ada", "groups": ["staff", "admins", "ops"],
    });
    let claims = claims.as_object().cloned().unwrap_or_default();
    let holder = || Holder {
        session_key: "vestibule:s:{0123456789abcdef}",
        generation: 1,
        sub: "248289761001",
        claims: &claims,
    };
    // Warm: the key is made, the caches of the allocator and CPU are filled.
    for _ in 0..200 {
        if route.header_value(&identity, holder()).await.is_err() {
            return ExitCode::FAILURE;
        }
    }
    let (signs, hits) = (5_000u32, 500_000u32);
    let start = Instant::now();
    for _ in 0..signs {
        if route.sign(&identity, &holder()).await.is_err() {
            return ExitCode::FAILURE;
        }
    }
    let signed = start.elapsed() / signs;
    let start = Instant::now();
    for _ in 0..hits {
        if route.header_value(&identity, holder()).await.is_err() {
            return ExitCode::FAILURE;
        }
    }
    let reused = start.elapsed() / hits;
    println!(
        "identity per call, signed every time (no cache): {:.2} µs",
        signed.as_secs_f64() * 1e6
    );
    println!(
        "identity per call, reused from the cache:        {:.3} µs",
        reused.as_secs_f64() * 1e6
    );
    ExitCode::SUCCESS
}

//! The signed identity Vestibule sends upstreams (`identity_header`): verified the way an
//! upstream would, with the JWKS from `/.well-known/jwks.json`; with and without the access
//! token; across replicas and across a key rotation.

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::common::*;

const HEADER: &str = "x-vestibule-identity";

/// The identity the echo upstream saw, if any.
fn identity_in(seen: &Value) -> Option<String> {
    seen["headers"][HEADER].as_str().map(str::to_owned)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// `/api` (user token) and `/public` (no token), both with an identity; `/maybe` (optional)
/// with one too; `/plain` without.
fn routes(config: TestConfig, api: &Upstream) -> TestConfig {
    config
        .route(
            api.api_route("user")
                .set("identity_header", "X-Vestibule-Identity"),
        )
        .route(
            api.route("/public", "none")
                .set("identity_header", "X-Vestibule-Identity")
                .set("identity_claims", Raw(r#"["email", "groups", "acr"]"#))
                .set("identity_audience", "https://orders.internal")
                .set("identity_ttl", "20s"),
        )
        .route(
            api.route("/maybe", "optional")
                .set("identity_header", "X-Vestibule-Identity"),
        )
        .route(api.route("/plain", "user"))
}

#[actix_web::test]
async fn the_upstream_gets_an_identity_that_verifies_with_the_jwks_vestibule_serves() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = routes(TestConfig::for_idp(&idp), &api).start().await;
    let mut b = Browser::new();
    let res = b
        .log_in(
            &proxy,
            &idp,
            Tweak::Claims(r#"{"groups": ["admins", "ops"]}"#),
            "/",
        )
        .await;
    assert_eq!(res.status(), 302);
    let seen = b.api_seen(&proxy, "/api/x", &[]).await;
    assert!(
        seen["headers"]["authorization"]
            .as_str()
            .is_some_and(|a| a.starts_with("Bearer ")),
        "a user route still sends the token"
    );
    let jwt = identity_in(&seen).expect("an identity");
    let jwks = Jwks::of(&proxy).await;
    assert_eq!(jwks.kids(), vec![kid_of(&jwt)], "one key, the signing one");
    let claims = jwks
        .verify(&jwt, &proxy, &format!("{}/api", proxy.base))
        .expect("verifies as an identity for /api");
    assert_eq!(claims["sub"], idp::SUB);
    assert_eq!(claims["email"], "ada@example.test");
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["groups"], json!(["admins", "ops"]));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 60, "the default lifetime, the longest allowed");
    assert!((now() - 5..=now()).contains(&iat), "issued now: {iat}");
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 32));
    for never in ["nonce", "sid", "auth_time", "at_hash", "azp"] {
        assert!(
            claims.get(never).is_none(),
            "{never} is not an identity claim"
        );
    }
    assert_eq!(
        jsonwebtoken::decode_header(&jwt).unwrap().alg,
        jsonwebtoken::Algorithm::ES256
    );
    let key = &jwks.json["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["use"].as_str()),
        (Some("EC"), Some("sig"))
    );
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(
            key.get(private).is_none(),
            "the JWKS never holds `{private}`"
        );
    }
    // Reused while fresh: the next call carries the same identity, not a new signature.
    let again = b.api_seen(&proxy, "/api/y", &[]).await;
    assert_eq!(identity_in(&again), Some(jwt.clone()));
    // A route with its own claims, audience and lifetime; a token-less route.
    let seen = b.api_seen(&proxy, "/public/x", &[]).await;
    assert!(
        seen["headers"].get("authorization").is_none(),
        "token = \"none\": the identity without the access token"
    );
    let jwt = identity_in(&seen).expect("an identity on a token-less route");
    let claims = jwks
        .verify(&jwt, &proxy, "https://orders.internal")
        .expect("verifies for its own audience");
    assert!(
        jwks.verify(&jwt, &proxy, &format!("{}/api", proxy.base))
            .is_err()
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        20
    );
    assert_eq!(claims["groups"], json!(["admins", "ops"]));
    assert!(claims.get("name").is_none(), "only the route's claims");
    assert!(
        claims.get("acr").is_none(),
        "a claim the session lacks is left out"
    );
}

#[actix_web::test]
async fn anonymous_calls_carry_no_identity() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = routes(TestConfig::for_idp(&idp), &api).start().await;
    let mut anon = Browser::new();
    for path in ["/public/x", "/maybe/x"] {
        let seen = anon.api_seen(&proxy, path, &[]).await;
        assert_eq!(identity_in(&seen), None, "{path}");
        assert!(seen["headers"].get("authorization").is_none(), "{path}");
    }
    // The same browser signed in: now it has one on both.
    let mut b = Browser::signed_in(&proxy, &idp).await;
    for path in ["/public/x", "/maybe/x"] {
        assert!(
            identity_in(&b.api_seen(&proxy, path, &[]).await).is_some(),
            "{path}"
        );
    }
    // A route without identity_header sends none, signed in.
    assert_eq!(
        identity_in(&b.api_seen(&proxy, "/plain/x", &[]).await),
        None
    );
    // Logged out, the old cookie gets none on the token-less route (forwarded as anonymous).
    let mut stolen = b.copy();
    let url = b.logout_url(&proxy).await;
    assert_eq!(b.get(&proxy.url(&url)).await.status(), 302);
    let seen = stolen.api_seen(&proxy, "/public/x", &[]).await;
    assert_eq!(identity_in(&seen), None);
}

#[actix_web::test]
async fn a_websocket_upgrade_carries_the_identity_too() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = routes(TestConfig::for_idp(&idp), &api).start().await;
    let b = Browser::signed_in(&proxy, &idp).await;
    let mut req = proxy
        .url("/public/ws")
        .replace("http://", "ws://")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("cookie", b.session_cookie().parse().expect("header"));
    req.headers_mut()
        .insert("origin", proxy.base.parse().expect("header"));
    req.headers_mut()
        .insert(HEADER, "forged".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let greeting = ws.next().await.expect("message").expect("ok");
    assert_eq!(greeting.to_text().unwrap(), "authorization: none");
    let identity = ws.next().await.expect("message").expect("ok");
    let jwt = identity
        .to_text()
        .unwrap()
        .strip_prefix("identity: ")
        .expect("the identity")
        .to_owned();
    let claims = Jwks::of(&proxy)
        .await
        .verify(&jwt, &proxy, "https://orders.internal")
        .expect("ours, not the forged one");
    assert_eq!(claims["sub"], idp::SUB);
}

#[actix_web::test]
async fn replicas_on_one_redis_sign_with_the_same_key() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let redis = RedisServer::start();
    // Both start at once: they must agree on one generated key.
    let config = routes(TestConfig::for_idp(&idp).redis(&redis), &api);
    let (a, b) = futures_util::join!(config.clone().start(), config.start());
    let mut browser = Browser::signed_in(&a, &idp).await;
    let (ja, jb) = (Jwks::of(&a).await, Jwks::of(&b).await);
    assert_eq!(ja.kids().len(), 1);
    assert_eq!(ja.kids(), jb.kids(), "one key for the deployment");
    let from_a = identity_in(&browser.api_seen(&a, "/public/x", &[]).await).expect("from a");
    let from_b = identity_in(&browser.api_seen(&b, "/public/x", &[]).await).expect("from b");
    for (jwt, signer) in [(&from_a, &a), (&from_b, &b)] {
        for verifier in [&ja, &jb] {
            verifier
                .verify(jwt, signer, "https://orders.internal")
                .expect("any replica's JWKS verifies any replica's identity");
        }
    }
    // The key is in the store sealed, under its own kind, and a third replica started later
    // reads it rather than making another.
    let mut conn = redis.client().get_connection().expect("redis");
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg("vestibule:idk:*")
        .query(&mut conn)
        .expect("KEYS");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let stored = String::from_utf8_lossy(&redis.get_raw(&keys[0])).into_owned();
    assert!(!stored.contains("PRIVATE KEY"), "sealed: {stored}");
    let c = routes(TestConfig::for_idp(&idp).redis(&redis), &api)
        .start()
        .await;
    assert_eq!(Jwks::of(&c).await.kids(), ja.kids());
}

/// A P-256 key in a PEM file of its own, removed when dropped.
struct KeyFile {
    path: std::path::PathBuf,
    pem: String,
}

impl KeyFile {
    fn new() -> KeyFile {
        let pem = vestibule::crypto::generate_p256().expect("key").to_string();
        let path = std::env::temp_dir().join(format!("vestibule-it-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, &pem).expect("write key");
        KeyFile { path, pem }
    }

    fn path(&self) -> String {
        self.path.display().to_string()
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[actix_web::test]
async fn after_a_rotation_old_identities_still_verify_and_new_ones_use_the_new_key() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let (k1, k2) = (KeyFile::new(), KeyFile::new());
    let base = routes(TestConfig::for_idp(&idp), &api);
    let before = base
        .clone()
        .set("identity.signing_key_file", k1.path())
        .start()
        .await;
    let mut b = Browser::signed_in(&before, &idp).await;
    let old = identity_in(&b.api_seen(&before, "/public/x", &[]).await).expect("signed by K1");
    let k1_kid = kid_of(&old);
    assert_eq!(Jwks::of(&before).await.kids(), vec![k1_kid.clone()]);
    before.stop().await;
    // The restart: K2 (from the environment's PEM text) signs, K1 is only published.
    let after = base
        .set("identity.signing_key", k2.pem.as_str())
        .set("identity.previous_keys", Raw(&format!("[{:?}]", k1.path())))
        .start()
        .await;
    let jwks = Jwks::of(&after).await;
    assert_eq!(jwks.kids().len(), 2);
    assert_eq!(
        jwks.kids()[1],
        k1_kid,
        "the current key first, then the old"
    );
    // An identity K1 signed before the restart, still inside its minute.
    jwks.verify(&old, &before, "https://orders.internal")
        .expect("an old identity verifies with the new JWKS");
    let mut b = Browser::signed_in(&after, &idp).await;
    let new = identity_in(&b.api_seen(&after, "/public/x", &[]).await).expect("signed by K2");
    assert_eq!(kid_of(&new), jwks.kids()[0]);
    assert_ne!(kid_of(&new), k1_kid, "K1 never signs again");
    jwks.verify(&new, &after, "https://orders.internal")
        .expect("verifies");
}

#[actix_web::test]
async fn the_jwks_is_served_only_where_a_route_sends_an_identity() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("user"))
        .start()
        .await;
    let (status, _) = http::text(&proxy.url("/.well-known/jwks.json")).await;
    assert_eq!(status, 404);
}

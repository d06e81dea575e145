use std::sync::Arc;

use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::json;

use super::*;
use crate::config::Config;
use crate::store::memory::MemoryStore;

fn config(route: &str) -> Config {
    Config::from_toml_str(
        &format!(
            "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"https://app.example\"\n\
             [oidc]\nissuer = \"https://idp.example\"\nclient_id = \"c\"\n\
             client_secret = \"test-client-secret-0123\"\n\
             [[routes]]\nprefix = \"/api\"\nupstream = \"http://127.0.0.1:9\"\n{route}"
        ),
        "test",
    )
    .expect("valid config")
}

fn setup(route: &str) -> (Identity, RouteIdentity) {
    let config = config(route);
    let identity = Identity::new(&config, Arc::new(MemoryStore::new())).expect("identity");
    let route = RouteIdentity::for_route(&config.routes[0], config.origin()).expect("route");
    (identity, route)
}

fn claims() -> Map<String, Value> {
    json!({
        "email": "ada@example.test", "groups": ["admins"], "name": "Ada",
        "nonce": "n-123", "at_hash": "h", "sid": "s-1", "iss": "https://idp.example",
    })
    .as_object()
    .cloned()
    .expect("object")
}

fn holder<'a>(key: &'a str, generation: u64, claims: &'a Map<String, Value>) -> Holder<'a> {
    Holder {
        session_key: key,
        generation,
        sub: "user-1",
        claims,
    }
}

/// Verified with the JWKS the identity publishes (jsonwebtoken does the checking).
async fn verified(identity: &Identity, jwt: &HeaderValue, aud: &str) -> Map<String, Value> {
    let jwt = jwt.to_str().expect("ASCII");
    let kid = jsonwebtoken::decode_header(jwt).expect("header").kid;
    let set: JwkSet =
        serde_json::from_slice(&identity.keys().await.expect("keys").jwks()).expect("a JWKS");
    let jwk = set.find(kid.as_deref().expect("kid")).expect("published");
    let mut v = Validation::new(jsonwebtoken::Algorithm::ES256);
    v.set_audience(&[aud]);
    v.set_issuer(&["https://app.example"]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Map<String, Value>>(jwt, &DecodingKey::from_jwk(jwk).expect("key"), &v)
        .expect("verifies")
        .claims
}

#[tokio::test]
async fn an_identity_carries_the_selected_claims_and_verifies_with_the_jwks() {
    let (identity, route) = setup("identity_header = \"X-Id\"\nidentity_ttl = \"30s\"\n");
    let c = claims();
    let jwt = route
        .sign(&identity, &holder("k", 1, &c))
        .await
        .expect("signed");
    assert!(jwt.is_sensitive(), "kept out of logs and HPACK tables");
    let got = verified(&identity, &jwt, "https://app.example/api").await;
    assert_eq!(got["sub"], "user-1");
    assert_eq!(got["iss"], "https://app.example", "ours, not the IdP's");
    assert_eq!(got["email"], "ada@example.test");
    assert_eq!(got["groups"], json!(["admins"]));
    assert_eq!(got["name"], "Ada");
    assert_eq!(
        got["exp"].as_i64().unwrap() - got["iat"].as_i64().unwrap(),
        30
    );
    for absent in ["nonce", "at_hash", "sid", "email_verified"] {
        assert!(got.get(absent).is_none(), "{absent}");
    }
    assert!(got["jti"].as_str().is_some_and(|j| j.len() >= 32));
}

#[tokio::test]
async fn a_route_names_its_claims_and_audience() {
    let (identity, route) = setup(
        "identity_header = \"X-Id\"\nidentity_claims = [\"sid\", \"missing\"]\n\
         identity_audience = \"orders\"\n",
    );
    let c = claims();
    let jwt = route
        .sign(&identity, &holder("k", 1, &c))
        .await
        .expect("signed");
    let got = verified(&identity, &jwt, "orders").await;
    assert_eq!(got["sid"], "s-1");
    assert!(got.get("missing").is_none() && got.get("email").is_none());
}

#[tokio::test]
async fn an_identity_is_reused_for_its_session_and_generation_only() {
    let (identity, route) = setup("identity_header = \"X-Id\"\n");
    let c = claims();
    let first = route
        .header_value(&identity, holder("a", 1, &c))
        .await
        .expect("first");
    let again = route
        .header_value(&identity, holder("a", 1, &c))
        .await
        .expect("again");
    assert_eq!(first, again, "signed once while fresh");
    let refreshed = route
        .header_value(&identity, holder("a", 2, &c))
        .await
        .expect("new gen");
    assert_ne!(first, refreshed, "a refresh may have changed the claims");
    let other = route
        .header_value(&identity, holder("b", 2, &c))
        .await
        .expect("other");
    assert_ne!(refreshed, other, "another session's own");
}

#[tokio::test]
async fn an_identity_past_half_its_lifetime_is_signed_again() {
    let (identity, route) = setup("identity_header = \"X-Id\"\nidentity_ttl = \"1s\"\n");
    let c = claims();
    let first = route
        .header_value(&identity, holder("a", 1, &c))
        .await
        .expect("first");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = route
        .header_value(&identity, holder("a", 1, &c))
        .await
        .expect("later");
    assert_ne!(first, later);
}

#[tokio::test]
async fn claims_too_large_for_a_header_are_refused_not_cut() {
    let (identity, route) = setup("identity_header = \"X-Id\"\n");
    let groups: Vec<String> = (0..400).map(|i| format!("group-number-{i}")).collect();
    let c = json!({ "groups": groups })
        .as_object()
        .cloned()
        .expect("object");
    let refused = route.sign(&identity, &holder("k", 1, &c)).await;
    assert!(
        matches!(refused, Err(IdentityError::TooLarge { size, .. }) if size > MAX_CLAIMS_BYTES)
    );
}

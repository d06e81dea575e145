//! Sessions stored by versions before the compact form keep working after the upgrade: a
//! session sealed in the JSON form (as those versions wrote it: `tests/fixtures/session-v0.json`
//! is what their `encode` sealed), its registry entry under a key of its own, and the indexes
//! as sets of whole keys, written with the commands those versions sent. Such a session is
//! served, listed, counted, refreshed (then stored in the compact form, its entry moved into its
//! value), and ended by back-channel logout and by the admin API through the old sets.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use vestibule::crypto::{Keyring, decode_key, random_token, seal};
use vestibule::store::redis::RedisStore;
use vestibule::store::{Store, storage_key};

use crate::common::*;

const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef0123456789";
const TWELVE_HOURS: Duration = Duration::from_secs(12 * 3600);

/// The session of versions before, as they sealed it (the sealed value's plain JSON).
fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/session-v0.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON")
}

/// A session stored as versions before stored it, in a browser that holds its cookie.
struct Legacy {
    browser: Browser,
    key: String,
    entry_key: String,
}

/// Stores the fixture's session under a new cookie as versions before did (its IdP session
/// `sid`, its access token expiring in `expires_in` s, its refresh token `refresh_token`): the
/// generation, then the JSON sealed under the cookie's id; its registry entry, JSON sealed under
/// the deployment's key, at a key of its own; its key, whole, in the sets of its IdP session, its
/// user and the deployment.
async fn store_legacy(
    redis: &RedisServer,
    idp: &TestIdp,
    sid: &str,
    expires_in: i64,
    refresh_token: &str,
) -> Legacy {
    let namespace = format!("{}|{}", idp.state.issuer, idp::CLIENT_ID);
    let id = random_token();
    let key = storage_key("s", &namespace, &id);
    let now = chrono::Utc::now().timestamp();
    let mut session = fixture();
    session["sid"] = json!(sid);
    session["created_at"] = json!(now);
    session["access_expires_at"] = json!(now + expires_in);
    session["refresh_token"] = json!(refresh_token);
    let plain = serde_json::to_vec(&session).unwrap();
    let mut value = 0u64.to_be_bytes().to_vec();
    value.extend(seal(id.as_bytes(), "s", &key, &plain));
    let entry_key = storage_key("m", &namespace, &key);
    let entry = json!({
        "handle": &random_token()[..22], "sub": "bench", "created_at": now,
        "device": {"user_agent": "Firefox on Linux", "ip": "127.0.0.0/24"},
        "refresh_token": refresh_token, "sid": sid, "registered_ms": now * 1000,
    });
    let keyring = Keyring::new(decode_key(config::ENCRYPTION_KEY).unwrap(), Vec::new());
    let sealed_entry = keyring.seal("m", &entry_key, &serde_json::to_vec(&entry).unwrap());
    let store = RedisStore::connect(&redis.url()).unwrap();
    store.put(&key, value, TWELVE_HOURS).await.unwrap();
    store
        .put(&entry_key, sealed_entry, TWELVE_HOURS)
        .await
        .unwrap();
    for index in [
        storage_key("sid", &namespace, sid),
        storage_key("sub", &namespace, "bench"),
        storage_key("all", &namespace, "sessions"),
    ] {
        store.set_add(&index, &key, TWELVE_HOURS).await.unwrap();
    }
    let mut browser = Browser::new();
    browser.cookies.insert("vestibule".into(), id);
    Legacy {
        browser,
        key,
        entry_key,
    }
}

#[actix_web::test]
async fn sessions_stored_in_the_json_form_keep_working_through_their_old_keys_and_indexes() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("required"))
        .set("session.cache_ttl", "0s")
        .start_with_admin(ADMIN_TOKEN)
        .await;
    let golden = fixture();
    let golden_sid = golden["sid"].as_str().unwrap();
    let mut fresh = store_legacy(&redis, &idp, golden_sid, 600, "legacy-refresh-1").await;
    let mut due = store_legacy(&redis, &idp, "legacy-sid-2", 5, "legacy-refresh-2").await;
    idp.accept_refresh_token("legacy-refresh-2");
    // And a session of the same user made by this version.
    let mut new = Browser::new();
    let res = new.log_in(&proxy, &idp, Tweak::Sub("bench"), "/").await;
    assert_eq!(res.status(), 302);

    // Served as it was stored: its claims, its access token to the upstream; reading it
    // rewrites nothing.
    let stored = redis.get_raw(&fresh.key);
    let info = fresh.browser.session_info(&proxy).await;
    assert_eq!(info["sub"], "bench");
    assert_eq!(info["claims"]["name"], "Demo user bench");
    let seen = fresh.browser.api_seen(&proxy, "/api/x", &[]).await;
    let golden_access = golden["access_token"].as_str().unwrap();
    assert_eq!(
        seen["headers"]["authorization"],
        format!("Bearer {golden_access}")
    );
    assert_eq!(redis.get_raw(&fresh.key), stored, "still as stored");

    // Listed with its device (from its entry's own key), beside the others of its user, through
    // the old set and the new index; counted through the deployment's set.
    let list = fresh.browser.sessions(&proxy).await;
    assert_eq!(list.len(), 3, "{list:?}");
    let own = list.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(own["device"], "known", "{own}");
    assert_eq!(own["user_agent"], "Firefox on Linux");
    let count = proxy
        .admin(Method::GET, "/admin/sessions/count", Some(ADMIN_TOKEN))
        .await;
    assert_eq!(count.json::<Value>().await.unwrap()["live"], 3);

    // A due access token is refreshed with the stored refresh token; the session is then
    // stored in the compact form, its entry (with the rotated token) in its value.
    let seen = due.browser.api_seen(&proxy, "/api/x", &[]).await;
    assert_eq!(
        idp.state
            .refresh_calls
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let minted = idp.last_access_token();
    assert_eq!(seen["headers"]["authorization"], format!("Bearer {minted}"));
    let rotated = idp.state.issued.lock().unwrap().last().cloned().unwrap();
    assert!(rotated.starts_with("rt-"), "{rotated}");
    assert_eq!(
        redis.get_raw(&due.key)[8],
        1,
        "the layout that holds the entry"
    );
    assert!(!redis.exists(&due.entry_key), "the entry left its own key");
    assert_eq!(due.browser.session(&proxy).await.status(), 200);
    let list = due.browser.sessions(&proxy).await;
    let own = list.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(own["user_agent"], "Firefox on Linux", "{own}");

    // Back-channel logout finds the session of the IdP session through its old set.
    let token = idp.logout_token(idp.logout_claims(Some(golden_sid), None), false);
    let res = proxy.backchannel_logout(logout_form(&token), FORM).await;
    assert_eq!(res.status(), 200);
    assert_eq!(fresh.browser.session(&proxy).await.status(), 401);
    assert!(!redis.exists(&fresh.entry_key), "its entry went with it");
    assert_eq!(due.browser.session(&proxy).await.status(), 200);

    // The admin API lists and ends the user's sessions through the old set and the new index;
    // the rotated refresh token, kept in the moved entry, is revoked.
    let listed = proxy
        .admin(Method::GET, "/admin/sessions?sub=bench", Some(ADMIN_TOKEN))
        .await;
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 2, "{listed}");
    let ended = proxy
        .admin(
            Method::DELETE,
            "/admin/sessions?sub=bench",
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(ended.json::<Value>().await.unwrap()["ended"], 2);
    assert!(idp.state.revoked.lock().unwrap().contains(&rotated));
    assert_eq!(due.browser.session(&proxy).await.status(), 401);
    assert_eq!(new.session(&proxy).await.status(), 401);
    assert_eq!(redis.session_count(), 0);
}

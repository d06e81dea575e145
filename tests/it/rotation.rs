//! Secrets rotated with no session lost (SECURITY.md, "Secrets and rotation"): the session
//! encryption key (the old one kept in `previous_encryption_keys` for a while) and the client
//! secret (which no longer seals anything the store keeps). Each proxy restart is a new proxy on
//! the same Redis, as a rolling deploy makes one.

use serde_json::Value;

use crate::common::*;

/// A browser signed in with a user agent (as a real one sends).
async fn device(proxy: &Proxy, idp: &TestIdp) -> Browser {
    Browser::signed_in_as_device(proxy, idp).await
}

/// Every session of the list, with its device.
fn all_known(list: &[Value]) -> bool {
    list.iter()
        .all(|s| s["device"] == "known" && s["user_agent"] == "Firefox on Linux")
}

#[actix_web::test]
async fn sessions_made_under_the_old_encryption_key_keep_working_after_a_key_rotation() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("user"));
    let before = config.clone().start().await;
    let mut laptop = device(&before, &idp).await;
    let mut phone = device(&before, &idp).await;
    before.stop().await;

    // Restarted with a new key, the old one kept to open what it sealed.
    let rotating = config
        .clone()
        .set("session.encryption_key", config::OTHER_ENCRYPTION_KEY)
        .set(
            "session.previous_encryption_keys",
            Raw(&format!("[\"{}\"]", config::ENCRYPTION_KEY)),
        )
        .start()
        .await;
    assert_eq!(laptop.api_get(&rotating, "/api/x", &[]).await.status(), 200);
    let list = laptop.sessions(&rotating).await;
    assert_eq!(list.len(), 2);
    assert!(all_known(&list), "{list:?}");
    rotating.stop().await;

    // The old key dropped: the listing above sealed every entry again under the new one.
    let after = config
        .set("session.encryption_key", config::OTHER_ENCRYPTION_KEY)
        .start()
        .await;
    let list = phone.sessions(&after).await;
    assert_eq!(list.len(), 2);
    assert!(all_known(&list), "{list:?}");
    // And what the entries hold still works: ending the laptop revokes its refresh token.
    let res = phone.end_other_sessions(&after).await;
    assert_eq!(res.json::<Value>().await.unwrap()["ended"], 1);
    assert_eq!(idp.state.revoked.lock().unwrap().len(), 1);
    assert_eq!(laptop.api_get(&after, "/api/x", &[]).await.status(), 401);
}

#[actix_web::test]
async fn a_client_secret_rotation_loses_no_session_and_no_registry_entry() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let config = TestConfig::for_idp(&idp).redis(&redis);
    let before = config.clone().start().await;
    let mut laptop = device(&before, &idp).await;
    device(&before, &idp).await;
    // A replica with the IdP's next secret, beside one with the current secret.
    let after = config
        .set("oidc.client_secret", "the-next-client-secret-4711")
        .start()
        .await;
    for proxy in [&before, &after] {
        assert_eq!(laptop.session(proxy).await.status(), 200);
        let list = laptop.sessions(proxy).await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(all_known(&list), "{list:?}");
    }
}

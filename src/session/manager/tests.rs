use super::*;
use crate::config::Config;
use crate::store::memory::MemoryStore;

fn manager() -> SessionManager {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n",
        "test",
    )
    .expect("valid config");
    SessionManager::new(&config, Arc::new(MemoryStore::new()), b"test".to_vec())
}

/// A session whose token expires `left` seconds from now, issued for `lifetime` seconds.
fn session(left: i64, lifetime: Option<i64>) -> Session {
    let now = now_unix();
    Session {
        sub: "u".into(),
        sid: None,
        claims: Default::default(),
        id_token: String::new(),
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        access_expires_at: Some(now + left),
        access_lifetime: lifetime,
        created_at: now,
        logout_token: String::new(),
        route_tokens: Default::default(),
        generation: 0,
    }
}

#[tokio::test]
async fn an_ended_session_is_not_served_from_tokens_waiting_to_be_written() {
    let m = manager();
    let id = m
        .create(session(300, Some(600)), Default::default())
        .await
        .expect("created")
        .id;
    let key = m.session_key(&id);
    // A refresh got new tokens the store did not take yet.
    let mut refreshed = session(600, Some(600));
    refreshed.access_token = "at-2".into();
    m.unsaved.put(&key, Arc::new(refreshed));
    let served = m.load_by_id(&id, &key).await.expect("store").expect("live");
    assert_eq!(
        served.access_token, "at-2",
        "served from the unsaved tokens"
    );
    m.end(&id, EndReason::Revoked).await.expect("ended");
    assert!(m.load_by_id(&id, &key).await.expect("store").is_none());
    // Even if they were put back after the end (a refresh that raced it).
    m.unsaved.put(&key, Arc::new(session(600, Some(600))));
    assert!(m.load_by_id(&id, &key).await.expect("store").is_none());
}

use super::*;
use crate::config::Config;
use crate::crypto::KEY_LEN;
use crate::session::record::with_stored_entry;
use crate::session::{EndReason, SessionManager};
use crate::store::Store;
use crate::store::memory::MemoryStore;
use crate::support::now_unix;

fn config(session: &str) -> Config {
    Config::from_toml_str(
        &format!(
            "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
             [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\n\
             client_secret = \"test-client-secret-0123\"\n[session]\n{session}"
        ),
        "test",
    )
    .expect("valid config")
}

fn key_text(b: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([b; KEY_LEN])
}

fn manager(store: &Arc<MemoryStore>, session: &str) -> SessionManager {
    SessionManager::new(&config(session), store.clone(), Vec::new())
}

fn session(sub: &str, n: i64) -> Session {
    Session {
        sub: sub.into(),
        sid: Some(format!("sid-{n}")),
        claims: Default::default(),
        id_token: String::new(),
        access_token: "at".into(),
        refresh_token: Some(format!("rt-{n}")),
        access_expires_at: None,
        access_lifetime: None,
        created_at: now_unix() - 100 + n,
        logout_token: String::new(),
        route_tokens: Default::default(),
        generation: 0,
        rule_claims: Default::default(),
        registry_entry: None,
    }
}

fn device(n: i64) -> Device {
    Device {
        user_agent: format!("Browser {n}"),
        ip: "127.0.0.0/24".into(),
    }
}

#[tokio::test]
async fn n_sessions_are_listed_newest_first_with_their_devices() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, "max_per_user = 0\n");
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(m.create(session("ada", n), device(n)).await.unwrap().id);
    }
    m.create(session("bob", 0), device(0)).await.unwrap();
    let listed = m.sessions_of("ada", Some(&ids[3])).await.unwrap();
    assert_eq!(listed.len(), 12);
    for (l, n) in listed.iter().zip((0..12).rev()) {
        assert_eq!(l.device, Some(device(n)));
        assert_eq!(l.current, n == 3);
    }
}

#[tokio::test]
async fn a_live_session_whose_entry_does_not_open_is_listed_unknown_and_can_be_ended() {
    let store = Arc::new(MemoryStore::new());
    let a = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(1)));
    let b = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(2)));
    let id = a.create(session("ada", 1), device(1)).await.unwrap().id;
    let key = a.session_key(&id);
    for _ in 0..2 {
        let listed = b.sessions_of("ada", None).await.unwrap();
        assert_eq!(listed.len(), 1, "listed, and still listed: not pruned");
        assert_eq!(listed[0].device, None);
        assert_eq!(listed[0].created_at, None);
        assert_eq!(listed[0].handle.len(), HANDLE_LEN);
    }
    // Junk in place of the entry: the same.
    let value = store.get(&key, None).await.unwrap().unwrap();
    let junk = with_stored_entry(&value, b"junk").unwrap();
    store
        .put(&key, junk, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let listed = a.sessions_of("ada", None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].device, None);
    let handle = listed[0].handle.clone();
    let ended = a
        .end_by_handle("ada", &handle, EndReason::Revoked)
        .await
        .unwrap();
    assert!(ended.is_some(), "ended by its handle");
    assert!(
        store.ttls(&[key]).await.unwrap()[0].is_none(),
        "the session is gone"
    );
    assert!(a.sessions_of("ada", None).await.unwrap().is_empty());
}

#[tokio::test]
async fn entries_an_old_key_sealed_open_and_are_sealed_again_under_the_new_one() {
    let store = Arc::new(MemoryStore::new());
    let old = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(1)));
    old.create(session("ada", 1), device(1)).await.unwrap();
    let rotated = manager(
        &store,
        &format!(
            "encryption_key = \"{}\"\nprevious_encryption_keys = [\"{}\"]\n",
            key_text(2),
            key_text(1)
        ),
    );
    let listed = rotated.sessions_of("ada", None).await.unwrap();
    assert_eq!(listed[0].device, Some(device(1)));
    let only_new = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(2)));
    let listed = only_new.sessions_of("ada", None).await.unwrap();
    assert_eq!(
        listed[0].device,
        Some(device(1)),
        "re-sealed at the listing"
    );
}

#[tokio::test]
async fn a_login_past_max_per_user_replaces_the_oldest_and_returns_its_refresh_token() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, "max_per_user = 2\n");
    let first = m.create(session("ada", 1), device(1)).await.unwrap();
    assert!(first.replaced.is_empty());
    m.create(session("ada", 2), device(2)).await.unwrap();
    let third = m.create(session("ada", 3), device(3)).await.unwrap();
    assert_eq!(third.replaced, vec!["rt-1".to_owned()]);
    let listed = m.sessions_of("ada", None).await.unwrap();
    let devices: Vec<_> = listed.iter().map(|l| l.device.clone()).collect();
    assert_eq!(devices, vec![Some(device(3)), Some(device(2))]);
}

#[tokio::test]
async fn a_replaced_session_of_the_same_idp_session_keeps_its_grant() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, "");
    let old = m.create(session("ada", 1), device(1)).await.unwrap();
    let other = m.create(session("ada", 2), device(2)).await.unwrap();
    let keys = [m.session_key(&old.id), m.session_key(&other.id)];
    let revoke = m.end_replaced(&keys, Some("sid-1")).await.unwrap();
    assert_eq!(revoke, vec!["rt-2".to_owned()], "not sid-1's own token");
}

#[tokio::test]
async fn logins_prune_dead_members_of_the_deployment_index() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, "max_per_user = 0\n");
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(m.create(session("ada", n), device(n)).await.unwrap().id);
    }
    // Gone from the store without an end (expired): still members of the index.
    for id in &ids {
        store.delete(&m.session_key(id)).await.unwrap();
    }
    let deployment = || m.registry.indexes().members(Index::Deployment);
    assert_eq!(deployment().await.unwrap().len(), 8);
    m.create(session("bob", 0), device(0)).await.unwrap();
    assert_eq!(deployment().await.unwrap().len(), 1, "a login pruned them");
}

#[tokio::test]
async fn a_refresh_keeps_the_entry_and_updates_it_when_the_refresh_token_rotates() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(1)));
    let id = m.create(session("ada", 1), device(1)).await.unwrap().id;
    let key = m.session_key(&id);
    let current = m.load_by_id(&id, &key).await.unwrap().unwrap();
    let mut next = (*current).clone();
    let kept = m.registry.entry_after_refresh(&key, &current, &next).await;
    assert!(!kept.moved);
    let (kept, sealed) = (kept.entry.unwrap(), current.registry_entry.clone().unwrap());
    assert!(Arc::ptr_eq(&kept, &sealed), "not sealed again");
    next.refresh_token = Some("rt-rotated".into());
    let rotated = m.registry.entry_after_refresh(&key, &current, &next).await;
    let (entry, stale) = m
        .registry
        .open_entry(&key, &rotated.entry.unwrap())
        .unwrap();
    assert!(!stale);
    assert_eq!(entry.refresh_token.as_deref(), Some("rt-rotated"));
    assert_eq!(entry.device, Some(device(1)), "the rest as it was");

    // On a replica with another key: kept as it is, unless the token rotates (then a new entry,
    // its device unknown, so that the new token can be revoked).
    let other = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(2)));
    let mut unchanged = (*current).clone();
    let kept = other
        .registry
        .entry_after_refresh(&key, &current, &unchanged)
        .await;
    assert!(Arc::ptr_eq(&kept.entry.unwrap(), &sealed));
    unchanged.refresh_token = Some("rt-rotated".into());
    let new = other
        .registry
        .entry_after_refresh(&key, &current, &unchanged)
        .await;
    let (entry, _) = other
        .registry
        .open_entry(&key, &new.entry.unwrap())
        .unwrap();
    assert_eq!(
        (entry.device, entry.refresh_token.as_deref()),
        (None, Some("rt-rotated"))
    );
}

#[tokio::test]
async fn the_entry_of_a_session_stored_by_versions_before_moves_into_its_value_at_a_refresh() {
    let store = Arc::new(MemoryStore::new());
    let m = manager(&store, &format!("encryption_key = \"{}\"\n", key_text(1)));
    let key = "vestibule:s:{an old session}";
    let mut current = session("ada", 1);
    current.registry_entry = None;
    // No entry anywhere (a session from before the registry): nothing to move.
    let carried = m
        .registry
        .entry_after_refresh(key, &current, &current)
        .await;
    assert!(carried.entry.is_none() && !carried.moved);
    // Its entry in JSON under a key of its own, as versions before wrote it.
    let json = serde_json::to_vec(&serde_json::json!({
        "handle": "h", "sub": "ada", "created_at": 1, "device": device(1),
        "refresh_token": "rt-1", "sid": "sid-1", "registered_ms": 1000,
    }))
    .unwrap();
    let entry_key = m.registry.entry_key(key);
    let sealed = m.registry.keyring.seal(ENTRY_KIND, &entry_key, &json);
    store
        .put(&entry_key, sealed, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let carried = m
        .registry
        .entry_after_refresh(key, &current, &current)
        .await;
    assert!(carried.moved);
    let (entry, _) = m.registry.open_entry(key, &carried.entry.unwrap()).unwrap();
    assert_eq!(
        (entry.handle.as_str(), entry.device),
        ("h", Some(device(1)))
    );
    m.registry.forget_own_entry(key).await.unwrap();
    assert!(store.get(&entry_key, None).await.unwrap().is_none());
}

use std::sync::Arc;

use super::*;
use crate::crypto::KEY_LEN;
use crate::store::memory::MemoryStore;

fn ring(current: u8, previous: &[u8]) -> Keyring {
    Keyring::new(
        [current; KEY_LEN],
        previous.iter().map(|p| [*p; KEY_LEN]).collect(),
    )
}

fn namespace() -> Namespace {
    Namespace::new("https://idp.example", "client")
}

#[tokio::test]
async fn replicas_starting_at_once_agree_on_one_key() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (ns, keyring) = (namespace(), ring(1, &[]));
    let starts = (0..8).map(|_| shared_pem(&*store, &ns, &keyring));
    let pems = futures_util::future::try_join_all(starts)
        .await
        .expect("every start gets the key");
    assert!(pems.iter().all(|p| p.as_slice() == pems[0].as_slice()));
    assert!(pems[0].starts_with(b"-----BEGIN PRIVATE KEY-----"));
    let again = shared_pem(&*store, &ns, &keyring).await.expect("read back");
    assert_eq!(again.as_slice(), pems[0].as_slice(), "a restart reads it");
}

#[tokio::test]
async fn the_store_holds_the_key_sealed_only() {
    let store = MemoryStore::new();
    let pem = shared_pem(&store, &namespace(), &ring(1, &[]))
        .await
        .expect("generated");
    let entry = namespace().key(KIND, "signing-key");
    let stored = store.get(&entry, None).await.expect("get").expect("stored");
    let text = String::from_utf8_lossy(&stored);
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    let body: String = String::from_utf8_lossy(&pem)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!text.contains(&body[..20]), "no part of the key in plain");
}

#[tokio::test]
async fn a_rotated_encryption_key_opens_the_key_and_seals_it_again() {
    let store = MemoryStore::new();
    let ns = namespace();
    let before = shared_pem(&store, &ns, &ring(1, &[])).await.expect("made");
    let after = shared_pem(&store, &ns, &ring(2, &[1]))
        .await
        .expect("the old key still opens it");
    assert_eq!(before.as_slice(), after.as_slice());
    let only_new = shared_pem(&store, &ns, &ring(2, &[]))
        .await
        .expect("sealed again under the new key");
    assert_eq!(before.as_slice(), only_new.as_slice());
}

#[tokio::test]
async fn a_key_that_opens_with_no_encryption_key_is_refused_and_kept() {
    let store = MemoryStore::new();
    let ns = namespace();
    shared_pem(&store, &ns, &ring(1, &[])).await.expect("made");
    let entry = ns.key(KIND, "signing-key");
    let stored = store.get(&entry, None).await.expect("get");
    let refused = shared_pem(&store, &ns, &ring(3, &[])).await;
    assert!(matches!(refused, Err(IdentityError::StoredKeyUnreadable)));
    assert_eq!(
        store.get(&entry, None).await.expect("get"),
        stored,
        "another replica's key is not replaced"
    );
}

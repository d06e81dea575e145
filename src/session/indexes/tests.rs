use super::*;
use crate::store::memory::MemoryStore;

const HOUR: Duration = Duration::from_secs(3600);

fn indexes() -> (Arc<MemoryStore>, Indexes) {
    let store = Arc::new(MemoryStore::new());
    let namespace = Namespace::new("https://idp.example", "client");
    (store.clone(), Indexes::new(store, namespace))
}

fn session_key(n: u8) -> String {
    Namespace::new("https://idp.example", "client").key(SESSION_KIND, &format!("id-{n}"))
}

#[tokio::test]
async fn an_index_gives_back_the_session_keys_it_was_given_and_keeps_them_short() {
    let (store, indexes) = indexes();
    for index in [
        Index::IdpSession("sid-1"),
        Index::User("ada"),
        Index::Deployment,
    ] {
        indexes.add(index, &session_key(1), HOUR).await.unwrap();
        indexes.add(index, &session_key(2), HOUR).await.unwrap();
        let mut want = vec![session_key(1), session_key(2)];
        want.sort();
        assert_eq!(indexes.members(index).await.unwrap(), want);
    }
    let stored = store
        .index_members(&indexes.keys(Index::User("ada")).key)
        .await
        .unwrap();
    assert!(stored.iter().all(|m| m.len() == 43), "{stored:?}");
    let sample = indexes.sample(1).await.unwrap();
    assert_eq!(sample.len(), 1);
    assert!(sample[0].starts_with("vestibule:s:{"));
}

#[tokio::test]
async fn members_an_older_version_added_as_whole_keys_to_its_sets_are_read_and_removed() {
    let (store, indexes) = indexes();
    let (old, new) = (session_key(1), session_key(2));
    let both = {
        let mut both = vec![old.clone(), new.clone()];
        both.sort();
        both
    };
    // What versions before wrote: a set under the `sid`/`sub` key, whole keys as members; and
    // the deployment's set, under the key it still has.
    let ns = Namespace::new("https://idp.example", "client");
    for key in [
        ns.key("sid", "sid-1"),
        ns.key("sub", "ada"),
        ns.key("all", "sessions"),
    ] {
        store.set_add(&key, &old, HOUR).await.unwrap();
    }
    for index in [
        Index::IdpSession("sid-1"),
        Index::User("ada"),
        Index::Deployment,
    ] {
        indexes.add(index, &new, HOUR).await.unwrap();
        assert_eq!(indexes.members(index).await.unwrap(), both);
        indexes
            .remove(index, std::slice::from_ref(&old))
            .await
            .unwrap();
        assert_eq!(indexes.members(index).await.unwrap(), vec![new.clone()]);
    }
    store
        .set_add(&ns.key("sid", "sid-1"), &old, HOUR)
        .await
        .unwrap();
    let taken = indexes.take(Index::IdpSession("sid-1")).await.unwrap();
    assert_eq!(taken, both);
    assert!(
        indexes
            .members(Index::IdpSession("sid-1"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_that_is_no_session_key_is_given_back_as_it_is_and_can_be_removed() {
    let (store, indexes) = indexes();
    let key = indexes.keys(Index::User("ada")).key;
    store.index_add(&key, "not a key", HOUR).await.unwrap();
    assert_eq!(
        indexes.members(Index::User("ada")).await.unwrap(),
        vec!["not a key".to_owned()]
    );
    indexes
        .remove(Index::User("ada"), &["not a key".to_owned()])
        .await
        .unwrap();
    assert!(
        indexes
            .members(Index::User("ada"))
            .await
            .unwrap()
            .is_empty()
    );
}

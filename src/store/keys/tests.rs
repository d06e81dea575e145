use super::*;
use crate::crypto::random_token;

#[test]
fn storage_key_hides_the_secret() {
    let t = random_token();
    let k = storage_key("s", "app", &t);
    assert!(!k.contains(&t));
    assert_eq!(k, storage_key("s", "app", &t));
    assert_ne!(k, storage_key("l", "app", &t));
    assert_ne!(k, storage_key("s", "other-app", &t));
}

#[test]
fn a_key_is_its_own_cluster_hash_tag() {
    let k = storage_key("s", "app", &random_token());
    let tag = |key: &str| {
        let open = key.find('{').expect("tag opens");
        let close = key[open..].find('}').expect("tag closes") + open;
        key[open + 1..close].to_owned()
    };
    assert_eq!(tag(&k).len(), 64);
    assert_eq!(
        tag(&format!("{k}:refresh-lock")),
        tag(&k),
        "the lock shares the slot"
    );
}

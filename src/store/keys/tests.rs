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

#[test]
fn a_key_and_its_short_form_name_each_other() {
    let k = storage_key("s", "app", &random_token());
    let short = short_form(&k);
    assert_eq!(short.len(), 43);
    assert!(!short.contains(['{', '}', ':']));
    assert_eq!(from_short_form("s", &short), k);
    // A whole key (what an older index holds) names itself.
    assert_eq!(from_short_form("s", &k), k);
}

#[test]
fn what_is_not_a_store_key_keeps_its_form() {
    let k = storage_key("s", "app", &random_token());
    let upper = k.to_uppercase().replace("VESTIBULE:S:", "vestibule:s:");
    for not_a_key in [
        format!("{k}:refresh-lock"),
        k.replace('{', ""),
        k[..k.len() - 2].to_owned() + "}",
        upper,
        "vestibule:s:{zz}".to_owned(),
        "".to_owned(),
        "garbage".to_owned(),
    ] {
        assert_eq!(short_form(&not_a_key), not_a_key);
        assert_eq!(from_short_form("s", &not_a_key), not_a_key);
    }
    // 43 characters that decode to 32 bytes are a short form, whatever they name.
    let forged = "A".repeat(43);
    assert_eq!(
        from_short_form("s", &forged),
        format!("vestibule:s:{{{}}}", "0".repeat(64))
    );
}

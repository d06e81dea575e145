use super::*;

#[test]
fn tokens_are_random_and_shaped() {
    let a = random_token();
    let b = random_token();
    assert_ne!(a, b);
    assert!(is_token_shaped(&a));
    assert!(!is_token_shaped("short"));
    assert!(!is_token_shaped(&format!("{}=", &a[..42])));
}

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
fn seal_roundtrip_and_refusals() {
    let t = random_token();
    let sealed = seal(t.as_bytes(), "s", "slot", b"hello tokens");
    assert!(!sealed.windows(6).any(|w| w == b"tokens"));
    assert_eq!(
        open(t.as_bytes(), "s", "slot", &sealed).as_deref(),
        Some(&b"hello tokens"[..])
    );
    assert!(open(random_token().as_bytes(), "s", "slot", &sealed).is_none());
    assert!(open(t.as_bytes(), "s", "other-slot", &sealed).is_none());
    assert!(open(t.as_bytes(), "l", "slot", &sealed).is_none());
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(open(t.as_bytes(), "s", "slot", &tampered).is_none());
    assert!(open(t.as_bytes(), "s", "slot", &sealed[..10]).is_none());
}

#[test]
fn hex_is_lower_case_pairs() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
}

#[test]
fn ct_eq_works() {
    assert!(ct_eq("abc", "abc"));
    assert!(!ct_eq("abc", "abd"));
    assert!(!ct_eq("abc", "abcd"));
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

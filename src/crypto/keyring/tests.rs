use super::*;

fn key(b: u8) -> [u8; KEY_LEN] {
    [b; KEY_LEN]
}

#[test]
fn the_current_key_seals_and_older_ones_still_open() {
    let old = Keyring::new(key(1), Vec::new());
    let sealed_old = old.seal("m", "slot", b"entry");
    let rotated = Keyring::new(key(2), vec![key(1)]);
    let opened = rotated
        .open("m", "slot", &sealed_old)
        .expect("an old key opens");
    assert_eq!(opened.plain, b"entry");
    assert!(opened.stale, "opened with an old key: to be sealed again");
    let sealed_new = rotated.seal("m", "slot", b"entry");
    let opened = rotated.open("m", "slot", &sealed_new).expect("opens");
    assert!(!opened.stale);
    assert!(
        old.open("m", "slot", &sealed_new).is_none(),
        "new entries use the new key"
    );
    let forgotten = Keyring::new(key(2), Vec::new());
    assert!(forgotten.open("m", "slot", &sealed_old).is_none());
}

#[test]
fn a_legacy_secret_opens_but_never_seals() {
    let legacy = seal::seal(b"client-secret", "m", "slot", b"entry");
    let ring = Keyring::new(key(3), Vec::new()).with_legacy(b"client-secret".to_vec());
    assert!(ring.open("m", "slot", &legacy).is_some_and(|o| o.stale));
    let sealed = ring.seal("m", "slot", b"entry");
    assert!(seal::open(b"client-secret", "m", "slot", &sealed).is_none());
}

#[test]
fn names_are_stable_per_key_and_slot() {
    let ring = Keyring::new(key(4), Vec::new());
    let a = ring.name_of("handle", "vestibule:s:{a}", 22);
    assert_eq!(a.len(), 22);
    assert_eq!(a, ring.name_of("handle", "vestibule:s:{a}", 22));
    assert_ne!(a, ring.name_of("handle", "vestibule:s:{b}", 22));
    assert_ne!(
        a,
        Keyring::new(key(5), Vec::new()).name_of("handle", "vestibule:s:{a}", 22)
    );
}

#[test]
fn keys_decode_from_either_base64_alphabet_and_must_be_32_bytes() {
    let bytes: [u8; KEY_LEN] = std::array::from_fn(|i| (i * 8 + 3) as u8);
    for text in [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ] {
        assert_eq!(decode_key(&text), Ok(bytes), "{text}");
    }
    assert_eq!(
        decode_key(&STANDARD.encode([0u8; 16])),
        Err("16 bytes, not 32".into())
    );
    assert_eq!(decode_key("not a key!"), Err("not base64".into()));
    assert_eq!(decode_key(""), Err("0 bytes, not 32".into()));
}

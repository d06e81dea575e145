use super::*;
use crate::crypto::random_token;

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

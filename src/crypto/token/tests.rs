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
fn hex_is_lower_case_pairs() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
}

#[test]
fn ct_eq_works() {
    assert!(ct_eq("abc", "abc"));
    assert!(!ct_eq("abc", "abd"));
    assert!(!ct_eq("abc", "abcd"));
}

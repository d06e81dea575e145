use p256::pkcs8::EncodePublicKey;
use rsa::pkcs8::EncodePrivateKey as _;

use super::*;

#[test]
fn the_kid_is_the_rfc_7638_thumbprint() {
    // RFC 7638 section 3.1's example key and its thumbprint.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let jwk = PublicJwk::new(KeyFamily::Rsa, json!({ "e": "AQAB", "kty": "RSA", "n": n }));
    assert_eq!(jwk.kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn a_private_key_and_its_public_key_publish_the_same_jwk() {
    let private = generate_p256().expect("a new key");
    let public = p256::SecretKey::from_pkcs8_pem(&private)
        .expect("PKCS#8")
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("SPKI");
    let a = PublicJwk::from_pem(private.as_bytes()).expect("private");
    let b = PublicJwk::from_pem(public.as_bytes()).expect("public");
    assert_eq!(a.family, KeyFamily::P256);
    assert_eq!(a.kid, b.kid);
    let published = a.to_json(Some("ES256"));
    assert_eq!(published, b.to_json(Some("ES256")));
    assert_eq!(published["kty"], "EC");
    assert_eq!(published["crv"], "P-256");
    assert_eq!(published["alg"], "ES256");
    assert_eq!(published["use"], "sig");
    assert!(published.get("d").is_none(), "no private member");
    assert_ne!(
        a.kid,
        PublicJwk::from_pem(generate_p256().expect("key").as_bytes())
            .expect("another")
            .kid,
        "each new key is another"
    );
}

#[test]
fn rsa_keys_in_each_pem_form_publish_n_and_e_only() {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key");
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8");
    let pkcs1 =
        rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&key, LineEnding::LF).expect("PKCS#1");
    let spki = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("SPKI");
    let kids: Vec<String> = [pkcs8.as_str(), pkcs1.as_str(), spki.as_str()]
        .iter()
        .map(|pem| {
            let jwk = PublicJwk::from_pem(pem.as_bytes()).expect("RSA");
            assert_eq!(jwk.family, KeyFamily::Rsa);
            let published = jwk.to_json(None);
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(published.get(private).is_none(), "{private}");
            }
            assert_eq!(published["e"], "AQAB");
            assert!(published.get("alg").is_none(), "RS256 or PS256: not said");
            jwk.kid
        })
        .collect();
    assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
}

#[test]
fn what_is_not_a_p256_or_rsa_key_is_refused() {
    for pem in [
        &b""[..],
        b"not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\xff\xfe",
    ] {
        assert!(PublicJwk::from_pem(pem).is_err());
    }
}

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

const ID: &str = "golden-session-id-0123456789abcdefghijklmno";
const KEY: &str = "vestibule:s:{0000000000000000000000000000000000000000000000000000000000000000}";

/// A session as a login at the bench's IdP makes one (oidc-provider with profile and email
/// claims in the ID token, RS256, opaque access and refresh tokens): the same lengths, fixed
/// values.
fn bench_like() -> Session {
    let claims = serde_json::json!({
        "aud": "vestibule", "auth_time": 1796097063, "email": "bench@example.test",
        "email_verified": true, "exp": 1796100663, "groups": ["users"], "iat": 1796097063,
        "iss": "http://127.0.0.2:49111", "name": "Demo user bench",
        "nonce": "JJrcAxQelY2Ni5I1h4GovQ", "sid": "Mhx9YAjDjNAWJ7JMYKekBQDFOuV9alRIIrR73p2yEuU",
        "sub": "bench"
    });
    let header = r#"{"alg":"RS256","kid":"r1LkbBo3925Rb2ZFFrK"}"#;
    let signature: Vec<u8> = (0..=255u8).collect();
    let id_token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    );
    Session {
        sub: "bench".into(),
        sid: Some("Mhx9YAjDjNAWJ7JMYKekBQDFOuV9alRIIrR73p2yEuU".into()),
        claims: claims.as_object().cloned().unwrap_or_default(),
        id_token,
        access_token: "Wf1kZ3w0pH3mDq1n0bD8Ue2cF7yWqkJm3b4rT9sXaYc".into(),
        refresh_token: Some("p0zQe8S3x2Yv7LmN1kJhG4fD6sA9wE5rT2yU8iO3pQa".into()),
        access_expires_at: Some(1796098863),
        access_lifetime: Some(600),
        created_at: 1796097063,
        logout_token: "pGOWNrS6gJXgY27Gvglrttn6HL7yKUtAcHmOZ02Aoh0".into(),
        route_tokens: BTreeMap::new(),
        generation: 3,
        rule_claims: ClaimsCell::default(),
    }
}

#[test]
fn a_session_round_trips_through_its_sealed_form() {
    let session = bench_like();
    let value = encode(ID, KEY, &session).unwrap();
    let back = decode(ID, KEY, &value).expect("opens");
    assert_eq!(back.generation, 3);
    assert_eq!(back.sub, session.sub);
    assert_eq!(back.claims, session.claims);
    assert_eq!(back.id_token, session.id_token);
    assert_eq!(back.refresh_token, session.refresh_token);
    assert!(decode("another-id", KEY, &value).is_none());
    assert!(decode(ID, "vestibule:s:{1}", &value).is_none());
}

/// Writes the sealed value today's code stores for [`bench_like`], and its plain JSON, as
/// fixtures (`cargo test --lib golden -- --ignored`): what later formats must still read.
#[test]
#[ignore]
fn golden_fixtures_of_the_json_format() {
    let session = bench_like();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let value = encode(ID, KEY, &session).unwrap();
    std::fs::write(
        format!("{dir}/session-v0.sealed.hex"),
        crate::crypto::hex(&value),
    )
    .unwrap();
    std::fs::write(
        format!("{dir}/session-v0.json"),
        serde_json::to_vec(&session).unwrap(),
    )
    .unwrap();
}

/// Decoding on the hot path (a cache miss): `cargo test --release --lib decode_timing --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn decode_timing() {
    let value = encode(ID, KEY, &bench_like()).unwrap();
    const N: u32 = 50_000;
    for _ in 0..N / 10 {
        std::hint::black_box(decode(ID, KEY, &value));
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..N {
            std::hint::black_box(decode(ID, KEY, std::hint::black_box(&value)));
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / f64::from(N));
    }
    println!("decode ({} bytes stored): {best:.0} ns", value.len());
}

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;

const ID: &str = "golden-session-id-0123456789abcdefghijklmno";
const KEY: &str = "vestibule:s:{0000000000000000000000000000000000000000000000000000000000000000}";

/// What the JSON form (format 0) stored for [`bench_like`] under [`ID`] and [`KEY`]: the sealed
/// value written by `encode` before the compact form, kept byte for byte.
const GOLDEN_V0: &str = include_str!("../../../tests/fixtures/session-v0.sealed.hex");

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
        registry_entry: Some(Arc::from(&b"a sealed registry entry"[..])),
    }
}

/// Every stored field of `a` and `b` is the same.
fn assert_same(a: &Session, b: &Session) {
    assert_eq!(a.sub, b.sub);
    assert_eq!(a.sid, b.sid);
    assert_eq!(a.claims, b.claims);
    assert_eq!(a.id_token, b.id_token);
    assert_eq!(a.access_token, b.access_token);
    assert_eq!(a.refresh_token, b.refresh_token);
    assert_eq!(a.access_expires_at, b.access_expires_at);
    assert_eq!(a.access_lifetime, b.access_lifetime);
    assert_eq!(a.created_at, b.created_at);
    assert_eq!(a.logout_token, b.logout_token);
    assert_eq!(a.route_tokens.len(), b.route_tokens.len());
    for ((ka, ta), (kb, tb)) in a.route_tokens.iter().zip(&b.route_tokens) {
        assert_eq!(ka, kb);
        assert_eq!(ta.access_token, tb.access_token);
        assert_eq!((ta.expires_at, ta.lifetime), (tb.expires_at, tb.lifetime));
    }
    assert_eq!(a.generation, b.generation);
}

fn golden_v0() -> Vec<u8> {
    let hex = GOLDEN_V0.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_session_round_trips_through_its_sealed_form_with_its_registry_entry() {
    let session = bench_like();
    let value = encode(ID, KEY, &session).unwrap();
    assert_eq!(&value[..8], &3u64.to_be_bytes(), "the generation, in plain");
    let back = decode(ID, KEY, &value).expect("opens");
    assert_same(&back, &session);
    assert_eq!(back.registry_entry, session.registry_entry);
    assert_eq!(
        stored_entry(&value),
        session.registry_entry.as_deref(),
        "read without the id"
    );
    assert!(decode("another-id", KEY, &value).is_none());
    assert!(decode(ID, "vestibule:s:{1}", &value).is_none());
    let mut without = session.clone();
    without.registry_entry = None;
    let value = encode(ID, KEY, &without).unwrap();
    assert!(decode(ID, KEY, &value).unwrap().registry_entry.is_none());
    assert!(stored_entry(&value).is_none());
}

#[test]
fn a_registry_entry_is_replaced_in_the_stored_value_without_opening_the_session() {
    let value = encode(ID, KEY, &bench_like()).unwrap();
    let replaced = with_stored_entry(&value, b"another entry, longer than the first one").unwrap();
    assert_eq!(&replaced[..8], &value[..8], "the same generation");
    let back = decode(ID, KEY, &replaced).unwrap();
    assert_eq!(
        back.registry_entry.as_deref(),
        Some(&b"another entry, longer than the first one"[..])
    );
    assert_same(&back, &bench_like());
    assert!(
        with_stored_entry(&golden_v0(), b"x").is_none(),
        "no entry to replace"
    );
}

#[test]
fn a_value_of_versions_before_that_looks_like_the_new_layout_still_opens() {
    // The JSON form sealed as versions before did, until its first sealed byte (random) is the
    // new layout's.
    let plain = serde_json::to_vec(&bench_like()).unwrap();
    let value = std::iter::repeat_with(|| {
        let mut value = 7u64.to_be_bytes().to_vec();
        value.extend(crypto::seal(ID.as_bytes(), SESSION_KIND, KEY, &plain));
        value
    })
    .find(|v| v[8] == WITH_ENTRY)
    .unwrap();
    let back = decode(ID, KEY, &value).expect("opens as the older layout");
    assert_eq!(back.generation, 7);
    assert!(back.registry_entry.is_none());
    assert_eq!(back.access_token, bench_like().access_token);
}

#[test]
fn a_session_sealed_in_the_json_form_by_versions_before_still_opens() {
    let golden = golden_v0();
    let old = decode(ID, KEY, &golden).expect("the JSON form opens");
    assert_same(&old, &bench_like());
    assert!(
        old.registry_entry.is_none(),
        "its entry has a key of its own"
    );
    // Written again (at its next refresh), it takes the compact form: half the bytes.
    let again = encode(ID, KEY, &old).unwrap();
    assert!(
        again.len() * 2 < golden.len() + 100,
        "{} vs {}",
        again.len(),
        golden.len()
    );
    assert_same(&decode(ID, KEY, &again).unwrap(), &old);
}

#[test]
fn the_compact_form_keeps_the_id_tokens_payload_once() {
    let session = bench_like();
    let plain = compact::write(&session).unwrap();
    assert_eq!(plain[0], compact::VERSION);
    let json = serde_json::to_vec(&session).unwrap();
    // JWT parts and tokens as bytes, the claims only in the ID token, `sub` and `sid` only in
    // the claims: what is left is the JWT's 599 bytes, three tokens, and a few numbers.
    assert!(plain.len() < 740, "{} bytes", plain.len());
    assert!(
        plain.len() * 20 < json.len() * 11,
        "at most 55 % of the JSON"
    );
}

#[test]
fn a_session_whose_claims_are_not_its_id_tokens_keeps_them_whole() {
    let mut refreshed = bench_like();
    // A refresh whose ID token left out `nonce` and `auth_time`: kept from the login's.
    refreshed.claims.insert(
        "extra".into(),
        serde_json::json!({"nested": [1, 2.5, null]}),
    );
    let mut changed = bench_like();
    changed.claims.insert("name".into(), "Another name".into());
    let mut opaque = bench_like();
    opaque.id_token = "not-a-jwt".into();
    let mut empty = bench_like();
    empty.id_token = String::new();
    empty.claims.clear();
    let mut other_sub = bench_like();
    other_sub.sub = "someone".into();
    other_sub.sid = Some("another-sid".into());
    let mut bare = bench_like();
    bare.sid = None;
    bare.refresh_token = None;
    bare.access_expires_at = None;
    bare.access_lifetime = None;
    bare.created_at = -5;
    let mut routed = bench_like();
    for (key, expires_at, lifetime) in [("api", Some(1796099000), Some(300)), ("r", None, None)] {
        routed.route_tokens.insert(
            key.into(),
            RouteToken {
                access_token: "eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJhcGkifQ.c2ln".into(),
                expires_at,
                lifetime,
            },
        );
    }
    for session in [refreshed, changed, opaque, empty, other_sub, bare, routed] {
        let value = encode(ID, KEY, &session).unwrap();
        assert_same(&decode(ID, KEY, &value).expect("opens"), &session);
    }
}

/// Plain forms that are not what `compact::write` makes: each one reads as nothing (the seal
/// lets none of them through; read must not panic on them either).
#[test]
fn a_truncated_or_garbled_compact_form_reads_as_none_and_never_panics() {
    let mut routed = bench_like();
    routed.route_tokens.insert(
        "api".into(),
        RouteToken {
            access_token: "at".into(),
            expires_at: Some(1),
            lifetime: None,
        },
    );
    let plain = compact::write(&routed).unwrap();
    for cut in 0..plain.len() {
        assert!(compact::read(&plain[..cut]).is_none(), "cut at {cut}");
    }
    let mut longer = plain.clone();
    longer.push(0);
    assert!(compact::read(&longer).is_none(), "a trailing byte");
    // Every byte set to every value is a session or nothing, never a panic.
    for i in 0..plain.len() {
        for b in [0x00, 0x01, 0x7f, 0x80, 0xff, b'{', b'.'] {
            let mut garbled = plain.clone();
            garbled[i] = b;
            let _ = compact::read(&garbled);
        }
    }
    for junk in [
        &b""[..],
        b"\x01",
        b"\x01\xff",
        b"\x02",
        b"{",
        b"{\"sub\":1}",
    ] {
        assert!(compact::read(junk).is_none(), "{junk:?}");
    }
}

#[test]
fn a_stored_value_too_short_or_of_another_session_is_none() {
    let value = encode(ID, KEY, &bench_like()).unwrap();
    for cut in [0, 7, 8, 9, 8 + 24, 8 + 24 + 16, value.len() - 1] {
        assert!(decode(ID, KEY, &value[..cut]).is_none(), "cut at {cut}");
    }
    let mut flipped = value.clone();
    flipped[40] ^= 1;
    assert!(decode(ID, KEY, &flipped).is_none());
}

/// Decoding on the hot path (every cache miss), old form and new, in the same binary:
/// `cargo test --release --lib decode_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn decode_timing() {
    let compact = encode(ID, KEY, &bench_like()).unwrap();
    for (form, value) in [
        ("JSON (format 0)", golden_v0()),
        ("compact (format 1)", compact),
    ] {
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
        println!("decode, {form}, {} bytes stored: {best:.0} ns", value.len());
    }
}

//! What the store holds for a session, damaged by someone who can write to Redis: a session's
//! stored value cut, lengthened, with a length that lies, another layout, another session's; an
//! index of a user holding members that are not that user's sessions. Nothing is served from
//! any of them, nothing panics, and nobody else's session is touched.

use super::World;
use crate::common::*;

/// A browser's session key.
fn key_of(w: &World, b: &Browser) -> String {
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    vestibule::store::storage_key("s", &namespace, &b.cookies[w.cookie])
}

/// What a session was stored as before the compact form (`session-v0.sealed.hex`: another
/// session's, sealed under another id).
fn json_form_of_another_session() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/session-v0.sealed.hex"
    );
    let hex = std::fs::read_to_string(path).expect("fixture");
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `n` as a varint (LEB128), as the stored value writes the entry's length.
fn varint(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out
}

/// A stored value in the layout that holds the registry entry, cut into its parts: the
/// generation and layout byte, the entry's length (a varint), then the entry and the sealed
/// session.
fn parts(value: &[u8]) -> (&[u8], usize, &[u8]) {
    assert_eq!(value[8], 1, "the layout that holds the entry");
    let (mut len, mut at) = (0usize, 9);
    while value[at] & 0x80 != 0 {
        len |= usize::from(value[at] & 0x7f) << (7 * (at - 9));
        at += 1;
    }
    len |= usize::from(value[at]) << (7 * (at - 9));
    (&value[..9], len, &value[at + 1..])
}

#[actix_web::test]
async fn a_damaged_session_record_is_a_clean_miss() {
    // No per-replica cache: every call reads the store, where the damage is.
    let mut w = World::new(false, &[("cache_ttl", "0s")]).await;
    let probe = w.sign_in().await;
    let value = w.redis.get_raw(&key_of(&w, &probe));
    let (head, len, rest) = parts(&value);
    let (entry, sealed) = rest.split_at(len);
    let with_len = |len: &[u8], tail: &[u8]| [head, len, tail].concat();
    let mut flipped = value.clone();
    *flipped.last_mut().unwrap() ^= 0x01;
    let mut old_layout = value.clone();
    old_layout[8] = 0;
    let mut unknown_layout = value.clone();
    unknown_layout[8] = 2;
    let junk: Vec<u8> = (0..1500u32).map(|i| (i * 7919 % 251) as u8).collect();
    let victim_value = w.redis.get_raw(&key_of(&w, &w.victim));
    let table: Vec<(&str, Vec<u8>)> = vec![
        ("an empty value", Vec::new()),
        ("7 bytes", value[..7].to_vec()),
        ("the generation alone", value[..8].to_vec()),
        ("the generation and the layout byte", value[..9].to_vec()),
        (
            "an entry length past the end",
            with_len(&[0xff, 0xff, 0x03], &junk[..10]),
        ),
        (
            "an entry length of eleven bytes",
            with_len(&[0xff; 11], rest),
        ),
        (
            "the entry's length one more than it is",
            with_len(&varint(len + 1), rest),
        ),
        (
            "the entry without the session",
            with_len(&varint(len), entry),
        ),
        ("cut by one byte", value[..value.len() - 1].to_vec()),
        ("one byte more", [&value[..], &[0]].concat()),
        ("a byte of the sealed session flipped", flipped),
        ("the layout byte of versions before", old_layout),
        ("an unknown layout", unknown_layout),
        ("the sealed session without its header", sealed.to_vec()),
        ("another session's value (the bystander's)", victim_value),
        (
            "another session's value in the JSON form",
            json_form_of_another_session(),
        ),
        ("1,500 bytes of junk", junk.clone()),
        ("64 KB of zeros", vec![0; 64 * 1024]),
    ];
    for (case, damaged) in table {
        let mut attacker = w.sign_in().await;
        w.redis.set_raw(&key_of(&w, &attacker), &damaged);
        let before = w.before();
        let res = attacker.api_get(&w.proxy, "/api/x", &[]).await;
        w.assert_damaged_session_refused(res, before, case).await;
        assert_eq!(attacker.session(&w.proxy).await.status(), 401, "{case}");
        w.proxy.assert_still_serving().await;
    }
}

#[actix_web::test]
async fn members_of_a_users_index_that_are_not_their_sessions_are_never_listed_or_ended() {
    let mut w = World::new(false, &[]).await;
    let mut mallory = Browser::new();
    let res = mallory
        .log_in(&w.proxy, &w.idp, Tweak::Sub("mallory"), "/")
        .await;
    assert_eq!(res.status(), 302);
    let namespace = format!("{}|{}", w.idp.state.issuer, idp::CLIENT_ID);
    let index = vestibule::store::storage_key("by-sub", &namespace, "mallory");
    let victim_key = key_of(&w, &w.victim);
    let table: Vec<(&str, String)> = vec![
        ("an empty member", String::new()),
        ("one character", "x".into()),
        ("a short form of no session", "A".repeat(43)),
        (
            "the bystander's session, short",
            vestibule::store::keys::short_form(&victim_key),
        ),
        ("the bystander's session, whole", victim_key.clone()),
        (
            "the bystander's registry entry key",
            vestibule::store::storage_key("m", &namespace, &victim_key),
        ),
        ("a key that is no store key", "vestibule:s:{zz}".into()),
        ("10 KB", "k".repeat(10 * 1024)),
    ];
    for (case, member) in table {
        w.redis.command(&["HSET", &index, &member, ""]);
        let before = w.before();
        let list = mallory.sessions(&w.proxy).await;
        assert_eq!(list.len(), 1, "{case}: only mallory's own: {list:?}");
        assert_eq!(list[0]["current"], true, "{case}");
        let res = mallory.end_other_sessions(&w.proxy).await;
        assert_eq!(res.status(), 200, "{case}");
        let ended = res.json::<serde_json::Value>().await.unwrap()["ended"].clone();
        assert_eq!(ended, 0, "{case}: nothing ended");
        w.unchanged(case, before).await;
        assert_eq!(w.victim.sessions(&w.proxy).await.len(), 1, "{case}");
    }
}

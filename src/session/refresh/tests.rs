use super::*;
use crate::config::Config;
use crate::store::memory::MemoryStore;
use crate::support::now_unix;

fn manager() -> SessionManager {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n",
        "test",
    )
    .expect("valid config");
    SessionManager::new(&config, Arc::new(MemoryStore::new()), b"test".to_vec())
}

/// A session whose token expires `left` seconds after `now` (unix seconds), issued for
/// `lifetime` seconds.
fn session_at(now: i64, left: i64, lifetime: Option<i64>) -> Session {
    Session {
        sub: "u".into(),
        sid: None,
        claims: Default::default(),
        id_token: String::new(),
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        access_expires_at: Some(now + left),
        access_lifetime: lifetime,
        created_at: now,
        logout_token: String::new(),
        route_tokens: Default::default(),
        generation: 0,
    }
}

#[test]
fn a_token_is_refreshed_at_most_half_its_lifetime_ahead() {
    let m = manager();
    // One reading of the clock for building and judging each row: with two, a second ticking
    // between them turned the `false` rows one second from due into `true`.
    let now = now_unix();
    // (seconds left, lifetime, needs a refresh) with the default 30 s skew.
    for (left, lifetime, refresh) in [
        (10, Some(10), false),
        (6, Some(10), false),
        (5, Some(10), true),
        (0, Some(10), true),
        (-3, Some(10), true),
        (31, Some(300), false),
        (30, Some(300), true),
        (1, Some(1), false),
        (0, Some(1), true),
        // Stored before lifetimes were: the skew alone, as before.
        (10, None, true),
        (31, None, false),
    ] {
        assert_eq!(
            m.needs_refresh_at(&session_at(now, left, lifetime), now),
            refresh,
            "{left} s left of {lifetime:?}"
        );
    }
    let mut no_refresh_token = session_at(now, -10, Some(10));
    no_refresh_token.refresh_token = None;
    assert!(!m.needs_refresh_at(&no_refresh_token, now));
}

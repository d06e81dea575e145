use super::*;

fn session() -> Arc<Session> {
    Arc::new(Session {
        sub: "u".into(),
        sid: None,
        claims: Default::default(),
        id_token: String::new(),
        access_token: "at".into(),
        refresh_token: None,
        access_expires_at: None,
        access_lifetime: None,
        created_at: 0,
        logout_token: String::new(),
        route_tokens: Default::default(),
        generation: 0,
        rule_claims: Default::default(),
        registry_entry: None,
    })
}

#[test]
fn an_ended_session_is_not_put_back_by_a_read_that_raced_its_end() {
    let cache = SessionCache::new(Duration::from_secs(5), 100);
    cache.put("k".into(), session());
    assert!(cache.get("k").is_some());
    // A request read "k" from the store just before it ended; it caches it just after.
    cache.ended("k");
    cache.put("k".into(), session());
    assert!(cache.get("k").is_none(), "the ended session stays out");
    assert!(cache.was_ended("k"));
    // Changed (not ended) sessions come back as usual.
    cache.put("other".into(), session());
    cache.remove("other");
    cache.put("other".into(), session());
    assert!(cache.get("other").is_some());
    assert!(!cache.was_ended("other"));
}

#[test]
fn tombstones_are_kept_even_with_the_cache_off() {
    let cache = SessionCache::new(Duration::ZERO, 100);
    cache.ended("k");
    assert!(
        cache.was_ended("k"),
        "refreshed tokens waiting to be written check it too"
    );
}

use super::*;

fn hub(per_session: usize, per_user: usize, process: usize) -> Arc<EventHub> {
    Arc::new(EventHub::new(StreamLimits {
        process,
        per_user,
        per_session,
    }))
}

fn owner<'a>(session_key: &'a str, sub: &'a str) -> Option<Owner<'a>> {
    Some(Owner { session_key, sub })
}

fn open(hub: &Arc<EventHub>, key: &str, sub: &str) -> Subscription {
    hub.subscribe(owner(key, sub)).expect("within budget")
}

#[tokio::test]
async fn a_stream_hears_only_its_own_sessions_events_and_leaves_no_trace() {
    let hub = hub(4, 16, 100);
    let mut a = open(&hub, "a", "u");
    let mut a2 = open(&hub, "a", "u");
    let _b = open(&hub, "b", "v");
    assert_eq!(hub.open_streams(), 3);
    hub.send("b", SessionEvent::ClaimsChanged);
    hub.send("a", SessionEvent::Ended(EndReason::Revoked));
    assert_eq!(
        a.next().await,
        Some(SessionEvent::Ended(EndReason::Revoked))
    );
    assert_eq!(
        a2.next().await,
        Some(SessionEvent::Ended(EndReason::Revoked))
    );
    drop(a);
    drop(a2);
    assert_eq!(hub.open_streams(), 1);
    let streams = lock(&hub.streams);
    assert!(
        !streams.sessions.contains_key("a") && !streams.users.contains_key("u"),
        "no entry for a session or user nobody streams"
    );
}

#[tokio::test]
async fn closing_the_hub_ends_every_stream() {
    let hub = hub(4, 16, 100);
    let mut a = open(&hub, "a", "u");
    hub.close_all();
    assert_eq!(a.next().await, None);
    let mut late = open(&hub, "b", "u");
    assert_eq!(
        late.next().await,
        None,
        "a stream opened while closing ends at once"
    );
}

#[test]
fn reasons_read_back_as_written() {
    for r in EndReason::ALL {
        assert_eq!(EndReason::parse(r.as_str()), Some(r));
    }
    assert_eq!(EndReason::parse("vestibule:s:{aa}"), None);
}

#[tokio::test]
async fn a_sessions_newest_stream_closes_its_oldest_past_the_budget() {
    let hub = hub(2, 16, 100);
    let mut first = open(&hub, "a", "u");
    let mut second = open(&hub, "a", "u");
    let mut third = open(&hub, "a", "u");
    assert_eq!(first.next().await, None, "the oldest is closed");
    assert_eq!(hub.open_streams(), 2, "the closed one is not counted twice");
    hub.send("a", SessionEvent::ClaimsChanged);
    assert_eq!(second.next().await, Some(SessionEvent::ClaimsChanged));
    assert_eq!(third.next().await, Some(SessionEvent::ClaimsChanged));
    drop(first);
    assert_eq!(hub.open_streams(), 2);
    assert_eq!(lock(&hub.streams).users.get("u"), Some(&2));
    drop((second, third));
    assert_eq!(hub.open_streams(), 0);
    assert!(lock(&hub.streams).users.is_empty());
}

#[tokio::test]
async fn a_user_and_the_process_have_budgets_that_others_do_not_share() {
    let hub = hub(4, 3, 5);
    let u: Vec<Subscription> = ["a", "a", "b"].iter().map(|k| open(&hub, k, "u")).collect();
    assert_eq!(
        hub.subscribe(owner("c", "u")).err(),
        Some(StreamRefused::User(3)),
        "a new session of the same user is refused"
    );
    // Another user is not refused for u's streams.
    let v = open(&hub, "d", "v");
    let anonymous = hub.subscribe(None).expect("room in the process");
    assert_eq!(
        hub.subscribe(owner("e", "w")).err(),
        Some(StreamRefused::Process(5))
    );
    assert_eq!(hub.subscribe(None).err(), Some(StreamRefused::Process(5)));
    drop(anonymous);
    let _w = open(&hub, "e", "w");
    drop((u, v));
    assert_eq!(hub.open_streams(), 1);
}

#[tokio::test]
async fn a_full_session_still_replaces_its_oldest_when_the_user_is_at_the_budget() {
    let hub = hub(2, 2, 100);
    let mut first = open(&hub, "a", "u");
    let _second = open(&hub, "a", "u");
    let _third = open(&hub, "a", "u");
    assert_eq!(first.next().await, None);
    assert_eq!(lock(&hub.streams).users.get("u"), Some(&2));
}

#[tokio::test]
async fn a_stream_without_a_session_lasts_until_shutdown() {
    let hub = hub(1, 1, 100);
    let mut anonymous = hub.subscribe(None).expect("room");
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), anonymous.next())
            .await
            .is_err(),
        "nothing ends it by itself"
    );
    hub.close_all();
    assert_eq!(anonymous.next().await, None);
}

use super::*;

#[tokio::test]
async fn a_stream_hears_only_its_own_sessions_events_and_leaves_no_trace() {
    let hub = Arc::new(EventHub::default());
    let mut a = hub.subscribe("a");
    let mut a2 = hub.subscribe("a");
    let _b = hub.subscribe("b");
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
    assert!(
        !lock(&hub.streams).contains_key("a"),
        "no entry for a session nobody streams"
    );
}

#[tokio::test]
async fn closing_the_hub_ends_every_stream() {
    let hub = Arc::new(EventHub::default());
    let mut a = hub.subscribe("a");
    hub.close_all();
    assert_eq!(a.next().await, None);
    let mut late = hub.subscribe("b");
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

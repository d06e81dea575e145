use super::*;

fn waiting(a: &Announcer, seq: u64) -> watch::Receiver<i64> {
    let (tx, rx) = watch::channel(0);
    lock(&a.waiting).insert(seq, tx);
    rx
}

#[test]
fn news_from_another_replica_is_dropped_then_acked_to_it() {
    let us = Announcer::new();
    let heard = us.heard("end other-replica 7 reason=revoked vestibule:s:{aa} vestibule:s:{bb}");
    assert_eq!(heard.ended, ["vestibule:s:{aa}", "vestibule:s:{bb}"]);
    assert_eq!(heard.reason.as_deref(), Some("revoked"));
    assert!(!heard.ours);
    assert_eq!(heard.ack.as_deref(), Some("ack other-replica 7"));
    // An older replica's message has no reason: still dropped and acked.
    let heard = us.heard("end other-replica 8 vestibule:s:{aa}");
    assert_eq!(heard.ended, ["vestibule:s:{aa}"]);
    assert_eq!(heard.reason, None);
    assert_eq!(heard.ack.as_deref(), Some("ack other-replica 8"));
}

#[test]
fn our_own_news_and_the_acks_for_it_count_towards_the_waiting_request() {
    let us = Announcer::new();
    let acks = waiting(&us, 3);
    let own = us.heard(&format!("end {} 3 vestibule:s:{{aa}}", us.replica));
    assert_eq!(own.ended, ["vestibule:s:{aa}"]);
    assert!(own.ack.is_none(), "no ack to ourselves");
    let ack = us.heard(&format!("ack {} 3", us.replica));
    assert!(ack.ended.is_empty() && ack.ack.is_none());
    assert_eq!(*acks.borrow(), 2);
}

#[test]
fn acks_for_others_and_malformed_messages_are_ignored() {
    let us = Announcer::new();
    let acks = waiting(&us, 1);
    for message in ["ack other-replica 1", "", "end", "end x", "hello x 1 key"] {
        let heard = us.heard(message);
        assert!(
            heard.ended.is_empty() && heard.changed.is_empty() && heard.ack.is_none(),
            "{message:?}"
        );
    }
    assert_eq!(*acks.borrow(), 0);
}

#[test]
fn changed_claims_are_heard_and_not_acked() {
    let us = Announcer::new();
    let heard = us.heard("claims other-replica 4 vestibule:s:{aa}");
    assert_eq!(heard.changed, ["vestibule:s:{aa}"]);
    assert!(heard.ended.is_empty() && heard.ack.is_none() && !heard.ours);
    let own = us.heard(&format!("claims {} 5 vestibule:s:{{aa}}", us.replica));
    assert!(own.ours);
}

use super::*;
use crate::session::fixtures::{manager, session_at};

/// A session whose token expires `left` seconds from now, issued for `lifetime` seconds.
fn session(left: i64, lifetime: Option<i64>) -> Session {
    session_at(now_unix(), left, lifetime)
}

#[tokio::test]
async fn an_ended_session_is_not_served_from_tokens_waiting_to_be_written() {
    let m = manager();
    let id = m
        .create(session(300, Some(600)), Default::default())
        .await
        .expect("created")
        .id;
    let key = m.session_key(&id);
    // A refresh got new tokens the store did not take yet.
    let mut refreshed = session(600, Some(600));
    refreshed.access_token = "at-2".into();
    m.unsaved.put(&key, Arc::new(refreshed));
    let served = m.load_by_id(&id, &key).await.expect("store").expect("live");
    assert_eq!(
        served.access_token, "at-2",
        "served from the unsaved tokens"
    );
    m.end(&id, EndReason::Revoked).await.expect("ended");
    assert!(m.load_by_id(&id, &key).await.expect("store").is_none());
    // Even if they were put back after the end (a refresh that raced it).
    m.unsaved.put(&key, Arc::new(session(600, Some(600))));
    assert!(m.load_by_id(&id, &key).await.expect("store").is_none());
}

#[tokio::test]
async fn the_store_remembers_why_a_session_ended_and_nothing_for_one_it_never_had() {
    let m = manager();
    let id = m
        .create(session(300, Some(600)), Default::default())
        .await
        .expect("created")
        .id;
    assert_eq!(m.end_reason(&id).await.expect("store"), None, "still live");
    m.end(&id, EndReason::FrontchannelLogout)
        .await
        .expect("ended");
    assert_eq!(
        m.end_reason(&id).await.expect("store"),
        Some(EndReason::FrontchannelLogout)
    );
    let never = crypto::random_token();
    assert_eq!(m.end_reason(&never).await.expect("store"), None);
}

use crate::session::fixtures::{manager, session_at};
use crate::support::now_unix;

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

use super::*;

#[derive(Debug, thiserror::Error)]
#[error("outer")]
struct Outer(#[source] Middle);

#[derive(Debug, thiserror::Error)]
#[error("middle")]
struct Middle(#[source] std::io::Error);

#[test]
fn chain_prints_every_cause_once() {
    let e = Outer(Middle(std::io::Error::other("connection refused")));
    assert_eq!(Chain(&e).to_string(), "outer: middle: connection refused");
}

#[test]
fn durations_saturate() {
    assert_eq!(secs(Duration::from_secs(u64::MAX)), i64::MAX);
    assert!(unix_after(Duration::from_secs(u64::MAX)) == i64::MAX);
    assert!(unix_after(Duration::from_secs(10)) >= now_unix() + 9);
}

#[test]
fn a_poisoned_lock_still_serves() {
    let m = std::sync::Arc::new(Mutex::new(1));
    let m2 = m.clone();
    let _ = std::thread::spawn(move || {
        let _g = m2.lock();
        panic!("poison it");
    })
    .join();
    assert!(m.is_poisoned());
    *lock(&m) += 1;
    assert_eq!(*lock(&m), 2);
}

use super::*;

#[test]
fn a_client_gets_its_budget_and_others_keep_theirs() {
    let rate = LoginRate::new(3);
    let a: IpAddr = [192, 0, 2, 1].into();
    let b: IpAddr = [192, 0, 2, 2].into();
    assert!((0..3).all(|_| rate.take(a)));
    assert!(!rate.take(a), "the fourth within the minute is refused");
    assert!(rate.take(b), "another client is not");
}

#[test]
fn zero_means_no_limit() {
    let rate = LoginRate::new(0);
    let a: IpAddr = [192, 0, 2, 1].into();
    assert!((0..1000).all(|_| rate.take(a)));
}

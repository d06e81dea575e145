use super::*;

fn ids(n: u64) -> impl Iterator<Item = TraceId> {
    // Low trace ids: what a caller would pick to pass a plain threshold on the id.
    (1..=n).map(|i| TraceId::from_bytes((i as u128).to_be_bytes()))
}

#[test]
fn the_ratio_holds_for_any_trace_ids_a_caller_picks() {
    let s = KeyedRatio {
        ratio: 0.1,
        key: std::collections::hash_map::RandomState::new(),
    };
    let sampled = ids(10_000).filter(|id| s.samples(*id)).count();
    assert!(
        (700..=1300).contains(&sampled),
        "about 10 % of 10,000 chosen ids: {sampled}"
    );
    let all = KeyedRatio {
        ratio: 1.0,
        key: std::collections::hash_map::RandomState::new(),
    };
    assert!(ids(1000).all(|id| all.samples(id)));
    let none = KeyedRatio {
        ratio: 0.0,
        key: std::collections::hash_map::RandomState::new(),
    };
    assert!(!ids(1000).any(|id| none.samples(id)));
}

use super::*;

#[test]
fn all_metrics_register_and_render() {
    METRICS.logins.with_label_values(&["started"]).inc();
    METRICS
        .requests
        .with_label_values(&["api", "/api", "2xx"])
        .inc();
    let families = METRICS.registry.gather();
    let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
    for want in [
        "vestibule_logins_total",
        "vestibule_http_requests_total",
        "vestibule_http_requests_in_flight",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert_eq!(status_class(204), "2xx");
    assert_eq!(status_class(503), "5xx");
}

use std::collections::BTreeSet;

use prometheus::proto::MetricType;

use super::*;

#[test]
fn every_metric_family_registers_and_renders_with_its_type_and_help() {
    // Destructured without `..`: a new field of `Metrics` does not compile until it is listed
    // here, so no metric escapes this test.
    let Metrics {
        registry,
        requests,
        request_seconds,
        in_flight: _,
        upstream_seconds,
        logins,
        callbacks,
        refreshes,
        store_errors: _,
        backchannel_logouts,
        frontchannel_logouts,
        sessions_ended,
        event_streams: _,
        streams_refused,
        streams_superseded: _,
        sessions_created: _,
        ready: _,
        rule_decisions,
        log_lines_dropped: _,
        config_reloads,
    } = &*METRICS;
    // A vector family renders only once it has a child.
    requests.with_label_values(&["default", "api", "/api", "2xx"]);
    request_seconds.with_label_values(&["default", "api", "/api"]);
    upstream_seconds.with_label_values(&["default", "/api"]);
    rule_decisions.with_label_values(&["/api", "allow"]);
    for family in [
        logins,
        callbacks,
        refreshes,
        backchannel_logouts,
        frontchannel_logouts,
        sessions_ended,
        streams_refused,
        config_reloads,
    ] {
        family.with_label_values(&["x"]);
    }
    let expected = [
        ("vestibule_http_requests_total", "counter"),
        ("vestibule_http_request_duration_seconds", "histogram"),
        ("vestibule_http_requests_in_flight", "gauge"),
        ("vestibule_upstream_request_duration_seconds", "histogram"),
        ("vestibule_logins_total", "counter"),
        ("vestibule_login_callbacks_total", "counter"),
        ("vestibule_token_refreshes_total", "counter"),
        ("vestibule_session_store_errors_total", "counter"),
        ("vestibule_backchannel_logouts_total", "counter"),
        ("vestibule_frontchannel_logouts_total", "counter"),
        ("vestibule_sessions_ended_total", "counter"),
        ("vestibule_event_streams", "gauge"),
        ("vestibule_config_reloads_total", "counter"),
        ("vestibule_streams_refused_total", "counter"),
        ("vestibule_log_lines_dropped_total", "counter"),
        ("vestibule_streams_superseded_total", "counter"),
        ("vestibule_sessions_created_total", "counter"),
        ("vestibule_ready", "gauge"),
        ("vestibule_rule_decisions_total", "counter"),
    ];

    let families = registry.gather();
    let registered: BTreeSet<&str> = families.iter().map(|f| f.name()).collect();
    let listed: BTreeSet<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(registered, listed, "the registry holds exactly the fields");
    for f in &families {
        let kind = match f.get_field_type() {
            MetricType::COUNTER => "counter",
            MetricType::GAUGE => "gauge",
            MetricType::HISTOGRAM => "histogram",
            other => panic!("{}: unexpected type {other:?}", f.name()),
        };
        assert!(expected.contains(&(f.name(), kind)), "{}: {kind}", f.name());
    }

    // What `/metrics` serves.
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut text)
        .expect("encodes");
    let text = String::from_utf8(text).expect("utf-8");
    for (name, kind) in expected {
        assert!(
            text.lines().any(|l| l == format!("# TYPE {name} {kind}")),
            "{name} renders as a {kind}: {text}"
        );
        let help = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# HELP {name} ")))
            .unwrap_or_default();
        assert!(help.len() > 10, "{name} renders its help: {text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && !l.starts_with('#')),
            "{name} renders a sample: {text}"
        );
    }
}

#[test]
fn status_classes_are_the_first_digit() {
    assert_eq!(status_class(204), "2xx");
    assert_eq!(status_class(503), "5xx");
}

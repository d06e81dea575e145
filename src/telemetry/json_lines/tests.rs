use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

use super::*;

/// The lines a subscriber with the JSON line format wrote while `f` ran, parsed.
fn lines(f: impl FnOnce()) -> Vec<Value> {
    let out = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = out.clone();
    let layer = tracing_subscriber::fmt::layer()
        .event_format(JsonLine)
        .fmt_fields(JsonMembers)
        .with_writer(move || Sink(sink.clone()));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(out.lock().expect("out").clone()).expect("utf-8");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_request_line_has_its_fields_and_its_span_with_fields_recorded_later() {
    let got = lines(|| {
        let span = tracing::info_span!(
            "request",
            request_id = "rid-1",
            method = "GET",
            sub = tracing::field::Empty
        );
        span.record("sub", "user-42");
        let _in = span.enter();
        tracing::info!(status = 200u16, latency_ms = 1.5, route = %"/api", "request");
    });
    assert_eq!(got.len(), 1);
    let line = &got[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["message"], "request");
    assert_eq!(line["fields"]["status"], 200);
    assert_eq!(line["fields"]["latency_ms"], 1.5);
    assert_eq!(line["fields"]["route"], "/api");
    assert_eq!(line["target"], module_path!());
    assert_eq!(line["span"]["request_id"], "rid-1");
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["span"]["sub"], "user-42");
    assert_eq!(line["span"]["name"], "request");
    assert!(line.get("spans").is_none(), "one span: no list");
    let ts = line["timestamp"].as_str().expect("timestamp");
    assert!(
        humantime::parse_rfc3339(ts).is_ok(),
        "an RFC 3339 timestamp: {ts}"
    );
}

#[test]
fn hostile_values_are_escaped_and_cannot_forge_a_field_or_a_line() {
    let nasty = "a\"b\\c\nd\re\u{0}f\u{1b}[31m\",\"level\":\"ERROR";
    let got = lines(|| {
        let span = tracing::info_span!("request", path = nasty);
        let _in = span.enter();
        tracing::warn!(error = nasty, "refused: {nasty}");
    });
    assert_eq!(got.len(), 1, "one line, whatever the value holds");
    assert_eq!(got[0]["level"], "WARN");
    assert_eq!(got[0]["fields"]["error"], nasty);
    assert_eq!(got[0]["fields"]["message"], format!("refused: {nasty}"));
    assert_eq!(got[0]["span"]["path"], nasty);
}

#[test]
fn an_event_in_a_nested_span_lists_the_outer_spans_too() {
    let got = lines(|| {
        let outer = tracing::info_span!("request", request_id = "rid-2");
        let _o = outer.enter();
        let inner = tracing::info_span!("client", peer = "api");
        let _i = inner.enter();
        tracing::info!(n = -3i64, ok = true, "inside");
    });
    let line = &got[0];
    assert_eq!(line["span"]["name"], "client");
    assert_eq!(line["span"]["peer"], "api");
    assert_eq!(line["spans"][0]["request_id"], "rid-2");
    assert_eq!(line["spans"][1]["name"], "client");
    assert_eq!(line["fields"]["n"], -3);
    assert_eq!(line["fields"]["ok"], true);
}

#[test]
fn an_event_outside_any_span_has_no_span_and_a_span_without_fields_has_its_name() {
    let got = lines(|| {
        tracing::info!("alone");
        let span = tracing::info_span!("bare");
        let _in = span.enter();
        tracing::info!("inside");
    });
    assert!(got[0].get("span").is_none());
    assert_eq!(got[1]["span"], serde_json::json!({"name": "bare"}));
}

#[test]
fn every_control_character_is_escaped_and_other_text_is_kept_as_it_is() {
    let all: String = (0u8..0x80).map(char::from).chain("é漢🦀".chars()).collect();
    let got = lines(|| tracing::info!(text = all.as_str(), ratio = f64::NAN, big = u64::MAX));
    assert_eq!(got[0]["fields"]["text"], all.as_str());
    assert_eq!(
        got[0]["fields"]["ratio"],
        Value::Null,
        "NaN is no JSON number"
    );
    assert_eq!(got[0]["fields"]["big"], u64::MAX);
}

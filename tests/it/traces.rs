//! OpenTelemetry traces (`[telemetry.otlp]`): the binary exports its spans over OTLP/HTTP to a
//! receiver in the test; they continue the caller's trace, nest as the request waits, carry the
//! context upstream, and hold no secret.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::common::collector::ReceivedSpan;
use crate::common::*;

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

fn one<'a>(
    spans: &'a [ReceivedSpan],
    what: &str,
    f: impl Fn(&ReceivedSpan) -> bool,
) -> &'a ReceivedSpan {
    let found: Vec<&ReceivedSpan> = spans.iter().filter(|s| f(s)).collect();
    assert_eq!(found.len(), 1, "one {what} span, in {spans:#?}");
    found[0]
}

#[actix_web::test]
async fn a_request_continues_the_callers_trace_with_child_spans_and_no_secret() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    // The login's access token is expired at once, so the API call refreshes it (at the IdP).
    idp.state.login_expires_in.store(0, Ordering::SeqCst);
    let collector = Collector::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.api_route("user"))
        .set("telemetry.otlp.endpoint", collector.url())
        .set("telemetry.otlp.service_name", "vestibule-under-test")
        .set("telemetry.otlp.export_interval", "100ms");
    let mut bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;

    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    let caller = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let seen = b
        .api_seen(
            &proxy,
            "/api/orders?customer=42",
            &[("traceparent", caller.as_str())],
        )
        .await;
    let upstream_traceparent = seen["headers"]["traceparent"]
        .as_str()
        .expect("the upstream got a traceparent")
        .to_owned();

    let spans = collector
        .wait_until(
            |s| {
                s.iter().any(|s| s.name == "upstream" || s.name == "GET")
                    && s.iter().any(|s| s.name == "GET /api")
                    && s.iter().filter(|s| s.name == "idp.token").count() >= 2
            },
            Duration::from_secs(20),
        )
        .await;

    // The API call's server span continues the caller's trace.
    let server = one(&spans, "API request", |s| s.name == "GET /api");
    assert_eq!(server.kind, SERVER);
    assert_eq!(server.trace_id, CALLER_TRACE);
    assert_eq!(server.parent_span_id, CALLER_SPAN);
    assert_eq!(server.service_name, "vestibule-under-test");
    assert_eq!(server.attr("http.request.method"), Some("GET"));
    assert_eq!(server.attr("url.path"), Some("/api/orders"));
    assert_eq!(server.attr("http.route"), Some("/api"));
    assert_eq!(server.attr("http.response.status_code"), Some("200"));

    // Its children: the session lookup, the refresh (and under it the IdP call), the upstream.
    let in_trace = |s: &ReceivedSpan| s.trace_id == CALLER_TRACE;
    let load = one(&spans, "session lookup", |s| {
        in_trace(s) && s.name == "session.load"
    });
    assert_eq!(load.parent_span_id, server.span_id);
    let refresh = one(&spans, "refresh", |s| {
        in_trace(s) && s.name == "token.refresh"
    });
    assert_eq!(refresh.parent_span_id, server.span_id);
    let idp_call = one(&spans, "IdP refresh call", |s| {
        in_trace(s) && s.name == "idp.token"
    });
    assert_eq!(idp_call.parent_span_id, refresh.span_id);
    assert_eq!(idp_call.kind, CLIENT);
    assert_eq!(idp_call.attr("oauth.grant_type"), Some("refresh_token"));
    assert_eq!(idp_call.attr("server.address"), Some("127.0.0.1"));
    assert_eq!(idp_call.attr("http.response.status_code"), Some("200"));
    let upstream = one(&spans, "upstream call", |s| in_trace(s) && s.name == "GET");
    assert_eq!(upstream.parent_span_id, server.span_id);
    assert_eq!(upstream.kind, CLIENT);
    assert_eq!(upstream.attr("http.response.status_code"), Some("200"));
    assert_eq!(
        upstream.attr("url.full"),
        Some(format!("{}/api/orders", api.url()).as_str()),
        "no query in url.full"
    );
    // What the upstream received is the upstream span's own context.
    assert_eq!(
        upstream_traceparent,
        format!("00-{CALLER_TRACE}-{}-01", upstream.span_id)
    );

    // The login's callback started a trace of its own, with the code exchange inside.
    let callback = one(&spans, "callback", |s| {
        s.attr("url.path") == Some("/auth/callback")
    });
    assert_eq!(
        callback.parent_span_id, "",
        "a root: the browser sent no traceparent"
    );
    let exchange = one(&spans, "code exchange", |s| {
        s.trace_id == callback.trace_id && s.name == "idp.token"
    });
    assert_eq!(
        exchange.attr("oauth.grant_type"),
        Some("authorization_code")
    );

    // Readiness probes (the harness polled /readyz) are not traced.
    assert!(
        spans.iter().all(|s| s.attr("url.path") != Some("/readyz")),
        "{spans:#?}"
    );

    // Nothing a span carries (name, attributes, events, status, links, resource) holds the
    // query, a token, the code, the verifier, the state, a cookie or the secret, in any form.
    let mut secrets = secrets::of_login(&code, &start);
    secrets.extend(secrets::of_client_secret());
    secrets.extend(secrets::handled_by(&idp));
    secrets.extend(secrets::cookies_of(&b));
    let everything: String = spans.iter().map(|s| s.all_text()).collect();
    assert!(!everything.contains("customer"), "no query: {everything}");
    secrets::assert_none_in("a span", &everything, &secrets);
    bin.kill();
}

#[actix_web::test]
async fn without_otlp_the_callers_traceparent_reaches_the_upstream_unchanged() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("none"))
        .start()
        .await;
    let caller = format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01");
    let seen = Browser::new()
        .api_seen(&proxy, "/api/x", &[("traceparent", caller.as_str())])
        .await;
    assert_eq!(seen["headers"]["traceparent"], caller.as_str());
}

#[actix_web::test]
async fn an_unreachable_collector_costs_the_requests_nothing() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let closed = binary::free_port();
    let config = TestConfig::for_idp(&idp)
        .route(api.api_route("none"))
        .set(
            "telemetry.otlp.endpoint",
            format!("http://127.0.0.1:{closed}"),
        )
        .set("telemetry.otlp.export_interval", "50ms");
    let mut bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;
    let mut b = Browser::new();
    for _ in 0..20 {
        assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    }
    assert_eq!(api.hit_count(), 20);
    // Still serving after several failed exports.
    assert!(wait_for(&proxy.url("/readyz"), 200, Duration::from_secs(5)).await);
    bin.kill();
}

//! Operations: metrics, the admin listener, graceful shutdown, the healthcheck subcommand, JSON
//! logs with request id, sub and trace id.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::binary::free_port;
use crate::common::http::text;
use crate::common::*;

/// Against the binary: the metrics are process-wide, and this process runs other tests.
#[actix_web::test]
async fn metrics_count_logins_api_calls_and_upstream_latency() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let bin = Binary::spawn(
        TestConfig::for_idp(&idp).route(api.api_route("required")),
        &[],
    );
    let proxy = bin.ready().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    assert_eq!(b.get(&proxy.url("/api/x")).await.status(), 403);
    let (status, body) = proxy.metrics().await;
    assert_eq!(status, 200);
    for line in [
        "vestibule_logins_total{result=\"started\"} 1",
        "vestibule_login_callbacks_total{result=\"success\"} 1",
        "vestibule_http_requests_total{app=\"default\",class=\"api\",route=\"/api\",status=\"2xx\"} 1",
        "vestibule_http_requests_total{app=\"default\",class=\"api\",route=\"/api\",status=\"4xx\"} 1",
        "vestibule_http_requests_total{app=\"default\",class=\"auth\",route=\"auth\",status=\"3xx\"} 2",
        "vestibule_upstream_request_duration_seconds_count{app=\"default\",route=\"/api\"} 1",
        "vestibule_http_requests_in_flight 1",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing `{line}` in:\n{body}"
        );
    }
    assert!(body.contains("# TYPE vestibule_http_request_duration_seconds histogram"));
}

#[actix_web::test]
async fn the_admin_listener_serves_metrics_and_probes() {
    let idp = TestIdp::start().await;
    let admin = free_port();
    let config = TestConfig::for_idp(&idp)
        .set("server.admin_listen", format!("127.0.0.1:{admin}"))
        .set("telemetry.format", "text");
    let bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;
    let admin_base = format!("http://127.0.0.1:{admin}");
    assert_eq!(text(&format!("{admin_base}/metrics")).await.0, 200);
    assert_eq!(text(&format!("{admin_base}/healthz")).await.0, 200);
    assert_eq!(text(&format!("{admin_base}/readyz")).await.0, 200);
    assert_eq!(
        proxy.metrics().await.0,
        404,
        "metrics only on the admin address"
    );
    assert_eq!(proxy.healthz().await, 200);
    // The healthcheck subcommand asks the admin address.
    let (code, out) = bin.command(&["healthcheck"]);
    assert_eq!(code, Some(0), "{out}");
}

#[actix_web::test]
async fn sigterm_turns_readyz_off_first_completes_streams_then_exits_0() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.api_route("none"))
        .set("server.shutdown_delay", "2s")
        .set("server.shutdown_grace", "10s");
    let mut bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;

    // A slow 1 MiB stream (4.5 s) is in flight when SIGTERM arrives, and still when the listener
    // closes 2 s later.
    let client = reqwest::Client::new();
    let stream = client
        .get(proxy.url("/api/slowerstream"))
        .header("x-csrf", "1")
        .send()
        .await
        .expect("stream starts");
    assert_eq!(stream.status(), 200);
    let download = tokio::spawn(async move { stream.bytes().await.map(|b| b.len()) });
    // (Read before sending: the proxy can only have received the signal after this instant.)
    let signalled = Instant::now();
    bin.signal("TERM");

    // /readyz turns 503 at once; /healthz and new requests are still served during the delay.
    // A 503 can only come from the open listener (after it closes, connections are refused), so
    // seeing one proves the order however slowly this machine runs; the bound is the delay.
    let draining = wait_for(&proxy.url("/readyz"), 503, Duration::from_secs(2)).await;
    assert!(
        draining,
        "readyz turns 503 after SIGTERM, before the listener closes"
    );
    let (_, body) = proxy.readyz().await;
    assert!(body["reasons"].to_string().contains("shutting down"));
    let during = client
        .get(proxy.url("/api/x"))
        .header("x-csrf", "1")
        .send()
        .await
        .expect("served during delay");
    assert_eq!(during.status(), 200);
    // The listener closes (connections refused) once the delay is over, not before: a lower
    // bound, which a slow machine can only make later.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let healthz = proxy.url("/healthz");
    eventually("the listener closed", Duration::from_secs(10), async || {
        fresh.get(&healthz).send().await.is_err()
    })
    .await;
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "the listener stayed open for shutdown_delay (closed after {:?})",
        signalled.elapsed()
    );

    // The in-flight stream completes, whole.
    let got = download
        .await
        .expect("join")
        .expect("the stream is not reset");
    assert_eq!(got, 1_048_586);
    let status = bin.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "exit 0 after draining, got {status:?}");
    // After exit: refused, never reset mid-response.
    assert!(client.get(proxy.url("/healthz")).send().await.is_err());
    let logs = bin.logs();
    assert!(
        logs.contains("shutdown: draining") && logs.contains("shutdown complete"),
        "{logs}"
    );
}

#[actix_web::test]
async fn the_healthcheck_subcommand_fails_when_nothing_answers() {
    let config = TestConfig::new("http://127.0.0.1:9").port(free_port());
    let (code, out) = binary::command(&["healthcheck"], &config.toml(), &[]);
    assert_eq!(code, Some(1));
    assert!(out.contains("healthcheck"), "{out}");
}

#[actix_web::test]
async fn json_logs_have_request_id_sub_and_trace_id_never_the_session_id() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .set("telemetry.format", "json");
    let bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let res = b
        .get_with(
            &proxy.url("/api/traced"),
            &[
                ("x-csrf", "1"),
                ("traceparent", traceparent),
                ("x-request-id", "rid-json-1"),
            ],
        )
        .await;
    let seen: Value = res.json().await.expect("json");
    assert_eq!(
        seen["headers"]["traceparent"], traceparent,
        "traceparent passed upstream"
    );

    // The request line is written when the request ends; wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let logs = bin.logs();
        if let Some(l) = logs
            .lines()
            .find(|l| l.contains("rid-json-1") && l.contains("latency_ms"))
        {
            break l.to_owned();
        }
        assert!(Instant::now() < deadline, "no request log line in:\n{logs}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let v: Value = serde_json::from_str(&line).expect("each log line is JSON");
    assert_eq!(v["fields"]["status"], 200);
    assert_eq!(v["fields"]["route"], "/api");
    assert_eq!(v["span"]["request_id"], "rid-json-1");
    assert_eq!(v["span"]["sub"], "user-42");
    assert_eq!(v["span"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(v["span"]["method"], "GET");
    let session_id = &b.cookies["vestibule"];
    assert!(
        !bin.logs().contains(session_id.as_str()),
        "the session id is never logged"
    );
}

#[actix_web::test]
async fn open_event_streams_end_at_shutdown_instead_of_holding_the_drain() {
    let idp = TestIdp::start().await;
    let config = TestConfig::for_idp(&idp)
        .set("server.shutdown_delay", "1s")
        .set("server.shutdown_grace", "30s");
    let mut bin = Binary::spawn(config, &[]);
    let proxy = bin.ready().await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let mut events = b.events(&proxy).await;
    bin.signal("TERM");
    let signalled = Instant::now();
    assert!(
        events.closed(Duration::from_secs(5)).await,
        "the stream ends once the listener closes"
    );
    let status = bin.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "exited without waiting out shutdown_grace"
    );
}

/// `vestibule_…` metric names in a file (histograms by their series names).
fn metric_names(path: &str) -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("deploy file");
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("vestibule_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[actix_web::test]
async fn the_dashboard_and_alert_rules_use_only_metrics_that_exist_and_the_rules_pass_promtool() {
    let rules = format!(
        "{}/deploy/prometheus/alerts.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let check = std::process::Command::new("promtool")
        .args(["check", "rules", &rules])
        .output()
        .expect("promtool (Debian package prometheus; scripts/deps installs it)");
    assert!(
        check.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("4 rules found"));

    // Every metric family shows up once it has been used: a login, a refreshed API call, a
    // back-channel logout, a logout, readiness.
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.state
        .login_expires_in
        .store(0, std::sync::atomic::Ordering::SeqCst);
    let proxy = TestConfig::for_idp(&idp)
        .redis(&redis)
        .route(api.api_route("user"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
    let token = idp.logout_token(idp.logout_claims(None, Some("nobody")), false);
    assert_eq!(
        proxy
            .backchannel_logout(logout_form(&token), FORM)
            .await
            .status(),
        200
    );
    let logout = b.logout_url(&proxy).await;
    b.get(&proxy.url(&logout)).await;
    assert_eq!(proxy.readyz().await.0, 200);
    let (_, exposed) = proxy.metrics().await;

    let mut named = metric_names("deploy/grafana/vestibule.json");
    assert!(
        named.len() >= 12,
        "the dashboard covers the metrics: {named:?}"
    );
    named.extend(metric_names("deploy/prometheus/alerts.yaml"));
    for name in &named {
        let present = exposed.lines().any(|l| {
            l.strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        });
        assert!(present, "{name} is not in /metrics:\n{exposed}");
    }
}

/// The request log is written by a thread of its own from a bounded buffer: with stderr a pipe
/// nobody reads (a stalled log collector), requests still finish, and the lines that did not
/// fit are counted as dropped. (Written on the worker threads, the first full pipe held every
/// request.)
#[actix_web::test]
async fn a_log_nobody_reads_holds_no_request_back_and_its_dropped_lines_are_counted() {
    let idp = TestIdp::start().await;
    let bin = Binary::spawn_with_unread_log(TestConfig::for_idp(&idp), &[("RUST_LOG", "info")]);
    let proxy = bin.ready().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    // A pipe holds 64 KiB; a request's log line is about 200 bytes, and the writer holds 16 MiB:
    // 120,000 requests (some 24 MB of lines) are sure to fill both.
    let started = Instant::now();
    let calls = (0..120_000).map(|_| {
        let client = client.clone();
        let url = proxy.url("/healthz");
        async move { client.get(url).send().await.map(|r| r.status().as_u16()) }
    });
    use futures_util::StreamExt;
    let statuses: Vec<_> = futures_util::stream::iter(calls)
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| matches!(s, Ok(200))),
        "every request answered: {:?}",
        statuses.iter().find(|s| !matches!(s, Ok(200)))
    );
    let (status, metrics) = text(&proxy.url("/metrics")).await;
    assert_eq!(status, 200);
    let dropped: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("vestibule_log_lines_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the drop counter");
    assert!(dropped > 0, "lines dropped, and counted: {dropped}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

//! Raw HTTP: oversized, malformed and smuggling-shaped requests, written byte by byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::World;
use crate::common::*;

const CLOSED: u16 = 0;

/// Sends raw bytes on a fresh connection; returns every status line the proxy answered with.
pub(crate) fn raw(proxy: &Proxy, request: &[u8]) -> Vec<u16> {
    let addr = proxy.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The server may answer and close before reading everything; that is fine.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// Sends one raw request (which should close its connection); its status and body.
pub(crate) fn raw_response(proxy: &Proxy, request: &[u8]) -> (u16, String) {
    let addr = proxy.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, format!("{head}\n\n{body}"))
}

#[actix_web::test]
async fn malformed_and_smuggling_requests_are_refused() {
    let mut w = World::new(false, &[]).await;
    let cookie = format!("vestibule={}", w.victim_id());
    let head = |extra: &str| {
        format!("POST /api/x HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\nCookie: {cookie}\r\n{extra}")
    };
    let smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\n\r\n";
    let mut table: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "Content-Length and Transfer-Encoding",
            format!(
                "{}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "Transfer-Encoding then Content-Length",
            format!(
                "{}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "two different Content-Lengths",
            format!(
                "{}Content-Length: 0\r\nContent-Length: 45\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "signed Content-Length",
            format!("{}Content-Length: +5\r\n\r\nhello", head("")).into_bytes(),
            400,
        ),
        (
            "unknown Transfer-Encoding",
            format!("{}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "bad chunk size",
            format!(
                "{}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                head("")
            )
            .into_bytes(),
            // actix-http reads broken chunk framing as an I/O error: the connection is closed
            // with no answer (and Vestibule aborts the upstream call at once).
            CLOSED,
        ),
        (
            "obsolete line folding",
            format!(
                "{}X-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "space before colon",
            format!("{}Content-Length : 0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "NUL in a header value",
            format!("{}X-Nul: a\0b\r\nContent-Length: 0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "oversized head",
            format!(
                "{}X-Big: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                head(""),
                "a".repeat(40_000)
            )
            .into_bytes(),
            431,
        ),
        (
            "too many headers",
            format!(
                "{}{}Content-Length: 0\r\n\r\n",
                head(""),
                "X-H: 1\r\n".repeat(120)
            )
            .into_bytes(),
            431,
        ),
        (
            "invalid UTF-8 in the request target",
            b"GET /api/\xff\xfe HTTP/1.1\r\nHost: app\r\n\r\n".to_vec(),
            400,
        ),
    ];
    for (case, path) in [
        ("dot segments out of the route", "/api/../internal"),
        (
            "encoded dot segments out of the route",
            "/api/%2e%2E/internal",
        ),
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        );
        table.push((case, request.into_bytes(), 400));
    }
    // Invalid UTF-8 in a header value is legal obs-text: forwarded as bytes, never a crash.
    let mut obs_text = head("X-Note: caf").into_bytes();
    obs_text.extend_from_slice(b"\xe9\xff\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    table.push(("obs-text header value (forwarded)", obs_text, 200));

    for (case, request, status) in table {
        let before = w.before();
        let statuses = raw(&w.proxy, &request);
        let expected: &[u16] = if status == CLOSED { &[] } else { &[status] };
        assert_eq!(
            statuses, expected,
            "{case}: exactly this answer, nothing smuggled"
        );
        if status == 200 {
            assert_eq!(w.api.hit_count(), before.hits + 1, "{case}");
            continue;
        }
        w.unchanged(case, before).await;
    }
}

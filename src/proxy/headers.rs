//! Header hygiene for forwarded calls, both ways. actix-web (http 0.2 types) faces the browser,
//! reqwest (http 1 types) faces the upstream; these functions convert between them.

use actix_web::http::header as ax;
use reqwest::header as rq;

/// Hop-by-hop headers (RFC 9110 7.6.1) never cross the proxy, in either direction.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Header names listed in `Connection` values (hop-by-hop too).
fn connection_listed<'a>(values: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
    values
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

fn is_hop_by_hop(name: &str, listed: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || listed.iter().any(|l| l == name)
}

/// Headers the browser may not pass upstream: Vestibule sets or strips them.
fn is_reserved_request_header(name: &str) -> bool {
    matches!(
        name,
        "host"
            | "cookie"
            | "authorization"
            | "x-forwarded-for"
            | "x-forwarded-proto"
            | "x-forwarded-host"
            | "forwarded"
    )
}

/// What goes upstream: the browser's headers minus hop-by-hop ones, `Host`, `Cookie`,
/// `Authorization`, and the forwarding headers that Vestibule sets itself.
pub fn upstream_request(incoming: &ax::HeaderMap) -> rq::HeaderMap {
    let listed = connection_listed(incoming.get_all(ax::CONNECTION).map(|v| v.as_bytes()));
    let mut out = rq::HeaderMap::with_capacity(incoming.len() + 6);
    for (name, value) in incoming {
        let n = name.as_str();
        if is_hop_by_hop(n, &listed) || is_reserved_request_header(n) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            rq::HeaderName::from_bytes(n.as_bytes()),
            rq::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
    out
}

/// What goes back to the browser: the upstream's headers minus hop-by-hop ones, minus
/// `Content-Length` (actix-web frames the streamed body itself), and minus any `Set-Cookie` for
/// Vestibule's own cookies (an upstream must not plant or clear a session).
pub fn downstream_response(
    upstream: &rq::HeaderMap,
    own_cookies: &[&str],
    out: &mut ax::HeaderMap,
) {
    let listed = connection_listed(
        upstream
            .get_all(rq::CONNECTION)
            .iter()
            .map(|v| v.as_bytes()),
    );
    for (name, value) in upstream {
        let n = name.as_str();
        if is_hop_by_hop(n, &listed)
            || name == rq::CONTENT_LENGTH
            || (name == rq::SET_COOKIE && sets_own_cookie(value.as_bytes(), own_cookies))
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            ax::HeaderName::from_bytes(n.as_bytes()),
            ax::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
}

fn sets_own_cookie(value: &[u8], own: &[&str]) -> bool {
    let Ok(v) = std::str::from_utf8(value) else {
        return false;
    };
    let name = v.split('=').next().unwrap_or_default().trim();
    own.iter().any(|o| o.eq_ignore_ascii_case(name))
}

/// `X-Forwarded-For`: the incoming chain (if any) plus the peer.
pub fn forwarded_for(
    incoming: &ax::HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> Option<rq::HeaderValue> {
    let peer = peer.map(|p| p.ip().to_string());
    let prior = incoming
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let chain = match (prior.is_empty(), peer) {
        (true, Some(p)) => p,
        (false, Some(p)) => format!("{prior}, {p}"),
        (false, None) => prior,
        (true, None) => return None,
    };
    rq::HeaderValue::from_str(&chain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_hygiene() {
        let mut h = ax::HeaderMap::new();
        for (k, v) in [
            ("cookie", "vestibule=abc"),
            ("authorization", "Bearer evil"),
            ("connection", "keep-alive, x-secret-hop"),
            ("x-secret-hop", "1"),
            ("te", "trailers"),
            ("host", "app.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-for", "6.6.6.6"),
            ("accept", "application/json"),
            ("x-csrf", "1"),
        ] {
            h.append(
                ax::HeaderName::from_static(k),
                ax::HeaderValue::from_static(v),
            );
        }
        let out = upstream_request(&h);
        let mut names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["accept", "x-csrf"]);
    }

    #[test]
    fn response_hygiene_drops_own_cookies() {
        let mut up = rq::HeaderMap::new();
        up.append(
            rq::SET_COOKIE,
            rq::HeaderValue::from_static("vestibule=planted; Path=/"),
        );
        up.append(
            rq::SET_COOKIE,
            rq::HeaderValue::from_static("app_pref=dark; Path=/"),
        );
        up.append(
            rq::TRANSFER_ENCODING,
            rq::HeaderValue::from_static("chunked"),
        );
        up.append(
            rq::CONTENT_TYPE,
            rq::HeaderValue::from_static("application/json"),
        );
        let mut out = ax::HeaderMap::new();
        downstream_response(&up, &["vestibule", "vestibule-login"], &mut out);
        let cookies: Vec<_> = out.get_all(ax::SET_COOKIE).collect();
        assert_eq!(
            cookies,
            vec![&ax::HeaderValue::from_static("app_pref=dark; Path=/")]
        );
        assert!(out.get(ax::TRANSFER_ENCODING).is_none());
        assert!(out.get(ax::CONTENT_TYPE).is_some());
    }

    #[test]
    fn forwarded_for_chain() {
        let peer = Some("10.1.2.3:5000".parse().expect("addr"));
        assert_eq!(
            forwarded_for(&ax::HeaderMap::new(), peer),
            Some(rq::HeaderValue::from_static("10.1.2.3"))
        );
        let mut h = ax::HeaderMap::new();
        h.insert(
            ax::HeaderName::from_static("x-forwarded-for"),
            ax::HeaderValue::from_static("1.1.1.1"),
        );
        assert_eq!(
            forwarded_for(&h, peer),
            Some(rq::HeaderValue::from_static("1.1.1.1, 10.1.2.3"))
        );
    }
}

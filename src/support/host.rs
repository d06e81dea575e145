//! The one reading of a host (`Host`, `X-Forwarded-Host`, an `[[apps]]` entry's `host`) that
//! apps are picked by: lower case, the scheme's default port dropped, and anything that is not
//! a plain `name[:port]` refused, so that no two spellings of one host pick two apps and no odd
//! spelling picks one at all.

/// `raw` as apps are looked up by, or `None` when it is not `name[:port]`: `name` a DNS name
/// (letters, digits, `-`, `_`, dots between labels, no trailing dot) or an IP literal (`1.2.3.4`,
/// `[::1]`); `port` 1 to 65535, `:80` and `:443` dropped.
pub fn normalize_host(raw: &str) -> Option<String> {
    let host = raw.trim().to_ascii_lowercase();
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => {
            let (addr, rest) = v6.split_once(']')?;
            addr.parse::<std::net::Ipv6Addr>().ok()?;
            let port = match rest {
                "" => None,
                r => Some(r.strip_prefix(':')?),
            };
            (&host[..addr.len() + 2], port)
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host.as_str(), None),
        },
    };
    if !name.starts_with('[') && !is_dns_name(name) {
        return None;
    }
    match port {
        None | Some("80" | "443") => Some(name.to_owned()),
        Some(p) => {
            let ok = !p.is_empty()
                && p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n > 0);
            ok.then(|| format!("{name}:{p}"))
        }
    }
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests;

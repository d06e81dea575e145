//! How often one client may start a login while logins make an IdP call (a pushed
//! authorization request, RFC 9126): anyone can call `/auth/login`, so without a budget one
//! client could make Vestibule flood the IdP, which then throttles everyone's logins. A token
//! bucket per client address, refilled at `server.logins_per_minute`; without PAR a login costs
//! a pending-login entry that expires by itself, and no budget applies.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::support::lock;

/// Clients tracked before buckets that are full again are dropped.
const TRACKED: usize = 10_000;

pub struct LoginRate {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl LoginRate {
    /// `per_minute` logins per client address (also the burst); 0: no limit.
    pub fn new(per_minute: u32) -> Self {
        LoginRate {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one login for `client`; false when its budget is spent.
    pub fn take(&self, client: IpAddr) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let cap = f64::from(self.per_minute);
        let now = Instant::now();
        let refill = |b: &mut Bucket| {
            let secs = now.duration_since(b.at).as_secs_f64();
            b.tokens = (b.tokens + secs * cap / 60.0).min(cap);
            b.at = now;
        };
        let mut buckets = lock(&self.buckets);
        if buckets.len() >= TRACKED {
            buckets.retain(|_, b| {
                refill(b);
                b.tokens < cap
            });
        }
        let b = buckets.entry(client).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        refill(b);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The client's address: the peer's, or with `hops` reverse proxies in front (each appending
/// to `X-Forwarded-For`), the address the outermost of them saw. Entries further left were
/// written by the client and prove nothing.
pub fn client_address(req: &actix_web::HttpRequest, hops: usize) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // Counted from the right: the peer is the last proxy, each hop before it added one entry.
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded.get(i))
        .and_then(|a| a.parse().ok())
        .or(peer)
}

#[cfg(test)]
mod tests;

//! `server.trusted_proxies`: the gateways whose word about a request Vestibule takes. A gateway
//! that asks `/auth/check` names the request it is about to forward in headers
//! (`X-Forwarded-Uri`, …) that any client can send too; only the TCP peer's address tells the
//! gateway from a client. oauth2-proxy took those headers from every peer (CVE-2026-40575), and
//! then from every peer when no list was given (its issue 3506): here an empty list trusts no one.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// IP addresses and networks (`"10.0.0.7"`, `"10.0.0.0/8"`, `"fd00::/8"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `peer` (a TCP peer's address) is one of them. An IPv4 peer seen on an IPv6
    /// socket (`::ffff:10.0.0.7`) is matched as the IPv4 address it is.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A network that holds every address of its family (`0.0.0.0/0`, `::/0`), if one is listed.
    pub fn everyone(&self) -> Option<&IpNet> {
        self.0.iter().find(|net| net.prefix_len() == 0)
    }
}

/// An address or a network: a bare address is the network of that one address.
fn parse(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("expected an IP address or a network such as \"10.0.0.0/8\", got {text:?}")
        })
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|t| parse(t.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
            .map_err(serde::de::Error::custom)
    }
}

/// As written in the file (the schema's default is serialised from it).
impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(IpNet::to_string))
    }
}

#[cfg(test)]
mod tests;

//! [`RouteIdentity`]: what one route's identity says and where it goes: the header, the `aud`,
//! the session's claims it copies and how long it is valid; and the signing of one, with its
//! cache.

use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::cache::TokenCache;
use super::{Identity, IdentityError};
use crate::config::{DEFAULT_IDENTITY_CLAIMS, RouteConfig};
use crate::crypto::random_token;
use crate::support::{now_unix, secs};

/// The most the copied claims may take (as JSON): with the signature and encoding, an identity
/// stays under 6 KB, inside the 8 KB per header line that servers accept by default.
pub const MAX_CLAIMS_BYTES: usize = 4096;

/// One route's identity.
pub struct RouteIdentity {
    /// The request header it is sent in.
    pub header: HeaderName,
    audience: String,
    claims: Vec<String>,
    ttl: Duration,
    cache: TokenCache,
}

/// Whose identity: a live session's store key and generation (for the cache), `sub`, claims.
pub struct Holder<'a> {
    pub session_key: &'a str,
    pub generation: u64,
    pub sub: &'a str,
    pub claims: &'a Map<String, Value>,
}

impl RouteIdentity {
    /// The identity of route `r` (none without `identity_header`); `origin` is `public_url`
    /// without its trailing slash, the base of the default audience.
    pub fn for_route(r: &RouteConfig, origin: &str) -> Option<Self> {
        // Validated at config load: a header name.
        let header = HeaderName::from_bytes(r.identity_header.as_ref()?.as_bytes()).ok()?;
        Some(RouteIdentity {
            header,
            audience: r
                .identity_audience
                .clone()
                .unwrap_or_else(|| format!("{origin}{}", r.prefix)),
            claims: r.identity_claims.clone().unwrap_or_else(|| {
                DEFAULT_IDENTITY_CLAIMS
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect()
            }),
            ttl: r.identity_ttl,
            cache: TokenCache::default(),
        })
    }

    /// The header value for `holder`: the cached identity while fresh, else a new one.
    pub async fn header_value(
        &self,
        identity: &Identity,
        holder: Holder<'_>,
    ) -> Result<HeaderValue, IdentityError> {
        if let Some(v) = self.cache.get(holder.session_key, holder.generation) {
            return Ok(v);
        }
        let signed_at = Instant::now();
        let value = self.sign(identity, &holder).await?;
        self.cache.put(
            holder.session_key,
            holder.generation,
            value.clone(),
            signed_at + self.ttl / 2,
        );
        Ok(value)
    }

    /// A new identity for `holder`, signed now.
    pub async fn sign(
        &self,
        identity: &Identity,
        holder: &Holder<'_>,
    ) -> Result<HeaderValue, IdentityError> {
        let mut claims: Map<String, Value> = self
            .claims
            .iter()
            .filter_map(|name| Some((name.clone(), holder.claims.get(name)?.clone())))
            .collect();
        let size = Value::Object(claims.clone()).to_string().len();
        if size > MAX_CLAIMS_BYTES {
            return Err(IdentityError::TooLarge {
                size,
                limit: MAX_CLAIMS_BYTES,
            });
        }
        let now = now_unix();
        // After the copied claims: a claim of these names is refused by validation anyway.
        for (name, value) in [
            ("iss", Value::from(identity.issuer())),
            ("aud", Value::from(self.audience.as_str())),
            ("sub", Value::from(holder.sub)),
            ("iat", Value::from(now)),
            ("exp", Value::from(now.saturating_add(secs(self.ttl)))),
            ("jti", Value::from(random_token())),
        ] {
            claims.insert(name.to_owned(), value);
        }
        let keys = identity.keys().await?;
        let jwt = keys.sign(&claims)?;
        // A JWT is base64url and dots: always a valid header value.
        let mut value = HeaderValue::from_str(&jwt).map_err(|_| IdentityError::Malformed)?;
        value.set_sensitive(true);
        Ok(value)
    }
}

#[cfg(test)]
mod tests;

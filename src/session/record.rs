//! [`Session`]: what a signed-in browser's session holds (the user, the IdP's tokens, the
//! route tokens minted for it), and its stored form: sealed under a key only its id opens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::authz::{ClaimPath, ClaimsCell, RuleClaims};
use crate::crypto;
use crate::oidc::LoginTokens;
use crate::store::StoreError;
use crate::support::{now_unix, secs, unix_after};

/// The store kind of sessions (see `store::keys`).
pub(super) const SESSION_KIND: &str = "s";

/// A signed-in user's session. Never serialised anywhere but into a sealed store entry, and
/// deliberately without `Debug`, so it cannot end up in a log line.
#[derive(Serialize, Deserialize, Clone)]
pub struct Session {
    pub sub: String,
    pub sid: Option<String>,
    /// The validated ID token's claims, shown to the SPA by `/auth/session`.
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds at which the access token expires, when the IdP said.
    pub access_expires_at: Option<i64>,
    /// How long the access token was issued for (`expires_in`, seconds): a refresh never comes
    /// earlier than half of it before expiry. Absent in sessions stored by older versions.
    #[serde(default)]
    pub access_lifetime: Option<i64>,
    /// Unix seconds of login; the absolute timeout counts from here.
    pub created_at: i64,
    /// Secret that `logout_url` must carry (logout CSRF protection).
    pub logout_token: String,
    /// Tokens minted for one route (narrowed or exchanged), by the route grant's key; each goes
    /// only to its route's upstream, and ends with the session.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub route_tokens: BTreeMap<String, RouteToken>,
    /// How many times this session was written (kept beside the sealed value, in plain, as the
    /// fencing token of refresh writes; see `refresh`).
    #[serde(skip)]
    pub generation: u64,
    /// The claims as the routes' rules read them, built on first use, never stored.
    #[serde(skip)]
    pub rule_claims: ClaimsCell,
}

impl Session {
    /// A new session from a login the IdP just finished: no route tokens yet, a fresh logout
    /// token, its absolute timeout counting from now.
    pub fn from_login(tokens: LoginTokens) -> Self {
        let LoginTokens {
            sub,
            sid,
            claims,
            id_token,
            access_token,
            refresh_token,
            access_expires_in,
            acr_satisfied: _,
        } = tokens;
        Session {
            sub,
            sid,
            claims,
            id_token,
            access_token,
            refresh_token,
            access_expires_at: access_expires_in.map(unix_after),
            access_lifetime: access_expires_in.map(secs),
            created_at: now_unix(),
            logout_token: crypto::random_token(),
            route_tokens: BTreeMap::new(),
            generation: 0,
            rule_claims: ClaimsCell::default(),
        }
    }

    /// The claims as CEL values for the routes' rules, made once for this copy of the session
    /// (a cached session serves every call with the same), `groups` read at `groups_claim`.
    pub fn rule_claims(&self, groups_claim: &ClaimPath) -> &RuleClaims {
        self.rule_claims.get_or_build(&self.claims, groups_claim)
    }
}

/// An access token minted for one route.
#[derive(Serialize, Deserialize, Clone)]
pub struct RouteToken {
    pub access_token: String,
    /// Unix seconds of expiry, when the IdP said.
    pub expires_at: Option<i64>,
    /// `expires_in` as issued (see [`Session::access_lifetime`]).
    pub lifetime: Option<i64>,
}

/// The stored form of a session: its generation (8 bytes, big-endian, in plain: the fencing token
/// of refresh writes), then the sealed JSON.
pub(super) fn encode(id: &str, key: &str, session: &Session) -> Result<Vec<u8>, StoreError> {
    let plain = serde_json::to_vec(session).map_err(StoreError::Encode)?;
    let sealed = crypto::seal(id.as_bytes(), SESSION_KIND, key, &plain);
    let mut value = Vec::with_capacity(8 + sealed.len());
    value.extend_from_slice(&session.generation.to_be_bytes());
    value.extend_from_slice(&sealed);
    Ok(value)
}

/// The session stored as `value`, or `None` when it does not open with this id.
pub(super) fn decode(id: &str, key: &str, value: &[u8]) -> Option<Session> {
    let (generation, sealed) = value.split_at_checked(8)?;
    let generation = u64::from_be_bytes(generation.try_into().ok()?);
    let plain = crypto::open(id.as_bytes(), SESSION_KIND, key, sealed)?;
    let mut session: Session = serde_json::from_slice(&plain).ok()?;
    session.generation = generation;
    Some(session)
}

#[cfg(test)]
mod tests;

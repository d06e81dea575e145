//! [`Session`]: what a signed-in browser's session holds (the user, the IdP's tokens, the
//! route tokens minted for it), and its stored form: sealed under a key only its id opens, in a
//! compact binary form (`compact`) since this version, in JSON before (still read).

mod compact;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codec::{put_varint, take_varint};
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
    /// Its registry entry (see `registry`), sealed under `session.encryption_key`, stored in the
    /// same value: opaque here. `None` for a session stored by versions before, whose entry has a
    /// key of its own.
    #[serde(skip)]
    pub registry_entry: Option<Arc<[u8]>>,
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
            registry_entry: None,
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

/// The layout of stored values that hold the registry entry (the byte after the generation).
/// A value of versions before has the sealed session there, whose first byte is random: one in
/// 256 of them looks like this layout, does not open as it, and is then read as it is.
const WITH_ENTRY: u8 = 1;

/// The stored form of a session: its generation (8 bytes, big-endian, in plain: the fencing token
/// of refresh writes), [`WITH_ENTRY`], the length of its registry entry (a varint) and the entry
/// (sealed by the registry), then its compact form (see `compact`), sealed under its id.
pub(super) fn encode(id: &str, key: &str, session: &Session) -> Result<Vec<u8>, StoreError> {
    let plain = compact::write(session).map_err(StoreError::Encode)?;
    let sealed = crypto::seal(id.as_bytes(), SESSION_KIND, key, &plain);
    let entry = session.registry_entry.as_deref().unwrap_or_default();
    Ok(stored(session.generation, entry, &sealed))
}

/// A stored value in the [`WITH_ENTRY`] layout.
fn stored(generation: u64, entry: &[u8], sealed: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(8 + 1 + 2 + entry.len() + sealed.len());
    value.extend_from_slice(&generation.to_be_bytes());
    value.push(WITH_ENTRY);
    put_varint(&mut value, entry.len() as u64);
    value.extend_from_slice(entry);
    value.extend_from_slice(sealed);
    value
}

/// The registry entry and the sealed session of a value in the [`WITH_ENTRY`] layout.
fn with_entry(value: &[u8]) -> Option<(&[u8], &[u8])> {
    match value.get(8..)?.split_first()? {
        (&WITH_ENTRY, rest) => {
            let (len, rest) = take_varint(rest)?;
            rest.split_at_checked(usize::try_from(len).ok()?)
        }
        _ => None,
    }
}

/// The session stored as `value`, or `None` when it does not open with this id. What is sealed
/// says its form: the compact one begins with its version, the JSON of versions before with `{`
/// (read until the last such session is written again, at its next refresh, or ends).
pub(super) fn decode(id: &str, key: &str, value: &[u8]) -> Option<Session> {
    let generation = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let open = |sealed| crypto::open(id.as_bytes(), SESSION_KIND, key, sealed);
    let (entry, plain) = match with_entry(value).and_then(|(e, sealed)| Some((e, open(sealed)?))) {
        Some(found) => found,
        None => (&[][..], open(value.get(8..)?)?),
    };
    let mut session = match plain.first() {
        Some(b'{') => serde_json::from_slice::<Session>(&plain).ok()?,
        _ => compact::read(&plain)?,
    };
    session.generation = generation;
    session.registry_entry = (!entry.is_empty()).then(|| Arc::from(entry));
    Some(session)
}

/// The registry entry stored in `value`, when its layout has one: read without the session's id,
/// so it may be a value of versions before that only looks like one (the entry then does not
/// open).
pub(super) fn stored_entry(value: &[u8]) -> Option<&[u8]> {
    with_entry(value)
        .map(|(entry, _)| entry)
        .filter(|e| !e.is_empty())
}

/// `value` with `entry` as its registry entry instead of the one it holds (the generation and the
/// sealed session as they are); `None` for a value of versions before, which holds none.
pub(super) fn with_stored_entry(value: &[u8], entry: &[u8]) -> Option<Vec<u8>> {
    let generation = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let (_, sealed) = with_entry(value)?;
    Some(stored(generation, entry, sealed))
}

#[cfg(test)]
mod tests;

//! A signed-in browser's session, and the login that makes it.
//!
//! The browser holds two opaque cookies, both HttpOnly random 256-bit tokens (see [`cookie`]):
//! the session cookie (the session's id) and the login cookie (binds logins started in this
//! browser to it). The store ([`crate::store`]) holds only hashes of tokens as keys and values
//! sealed under a key derived from the token ([`crate::crypto`]), so a dump of the store yields
//! no usable cookie or token.
//!
//! - [`SessionManager`] (`manager`): loading, creating and ending sessions, the `sid`/`sub`
//!   indexes; `refresh` adds the exactly-once token refresh to it;
//! - [`cookie`]: the cookie codec; [`pending`]: logins between `/auth/login` and the callback;
//! - `cache`: the per-replica cache of decrypted sessions;
//! - [`client_token`]: the application's own (client-credentials) tokens, shared by replicas;
//! - `registry`: the sessions of a user (handles, devices) for the session lists and the admin
//!   API, sealed under the deployment's keyring ([`crate::crypto::keyring`]); [`device`]: what a
//!   session shows of its browser;
//! - [`events`]: what the SPA's event streams hear (ended and why, claims changed).

mod cache;
pub mod client_token;
pub mod cookie;
pub mod device;
pub mod events;
mod manager;
pub mod pending;
mod refresh;
mod registry;
mod single_flight;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use client_token::{ClientToken, ClientTokens};
pub use cookie::CookieCodec;
pub use device::Device;
pub use events::{EndReason, EventHub, Owner, SessionEvent, StreamLimits, StreamRefused};
pub use manager::{Created, SessionManager, Slide};
pub use pending::{PendingError, PendingLogin, PendingLogins};
pub use refresh::RefreshError;
pub use registry::Listed;

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

//! A signed-in browser's session, and the login that makes it.
//!
//! The browser holds two opaque cookies, both HttpOnly random 256-bit tokens (see [`cookie`]):
//! the session cookie (the session's id) and the login cookie (binds logins started in this
//! browser to it). The store ([`crate::store`]) holds only hashes of tokens as keys and values
//! sealed under a key derived from the token ([`crate::crypto`]), so a dump of the store yields
//! no usable cookie or token.
//!
//! - [`Session`] (`record`): what a session holds, [`Session::from_login`], its stored form
//!   (compact, with its registry entry; `codec`: the compact encoding);
//! - [`SessionManager`] (`manager`): loading, creating and ending sessions; `indexes`: the
//!   `sid`, `sub` and deployment indexes; `timeouts`: the idle and absolute ends; `cache`: the
//!   per-replica cache;
//! - `refresh`: the exactly-once token refresh, on the manager; `renewal`: what a refresh asks
//!   the IdP and what the answer changes; `single_flight`: the gate, the store lock and the
//!   wait that make it exactly once (shared with [`client_token`]), and the refreshed tokens
//!   the store has not taken yet;
//! - `registry`: the sessions of a user (handles, devices) for the session lists and the admin
//!   API, sealed under the deployment's keyring ([`crate::crypto::keyring`]); [`device`]: what a
//!   session shows of its browser;
//! - [`events`]: what the SPA's event streams hear (ended and why, claims changed);
//! - [`cookie`]: the cookie codec; [`pending`]: logins between `/auth/login` and the callback;
//! - [`client_token`]: the application's own (client-credentials) tokens, shared by replicas.

mod cache;
pub mod client_token;
mod codec;
pub mod cookie;
pub mod device;
pub mod events;
#[cfg(test)]
mod fixtures;
mod indexes;
mod manager;
pub mod pending;
mod record;
mod refresh;
mod registry;
mod renewal;
mod single_flight;
mod timeouts;

pub use client_token::{ClientToken, ClientTokens};
pub use cookie::CookieCodec;
pub use device::Device;
pub use events::{EndReason, EventHub, Owner, SessionEvent, StreamLimits, StreamRefused};
pub use manager::{Created, SessionManager, Slide};
pub use pending::{PendingError, PendingLogin, PendingLogins};
pub use record::{RouteToken, Session};
pub use refresh::RefreshError;
pub use registry::Listed;

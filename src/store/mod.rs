//! The shared expiring store, bytes only: sessions, pending logins, the application's tokens,
//! the session registry, replay guards, locks and indexes all live in it, sealed and under
//! hashed keys by their owners; the store itself knows none of them, and imports nothing from
//! the modules that use it.
//!
//! - [`Store`] (`backend`): the trait (get and slide, compare-and-set, single-use take, locks,
//!   sets and small indexes, expiry), its error, and the [`News`] replicas hear from each other;
//! - [`keys`]: store keys: the hash of a secret, scoped by kind and deployment ([`Namespace`]),
//!   hash-tagged for Redis Cluster; a key's short form, as indexes keep it;
//! - [`memory`]: one process, lost on restart; [`redis`]: shared by replicas (connection,
//!   commands, the invalidation channel).

mod backend;
pub mod keys;
pub mod memory;
pub mod redis;

pub use backend::{News, Store, StoreError};
pub use keys::{Namespace, storage_key};

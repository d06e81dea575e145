//! The identity Vestibule vouches for to upstreams: a short-lived JWT of the signed-in user, in
//! the request header a route names (`identity_header`), signed with a key whose public part is
//! served at `/.well-known/jwks.json`. An upstream can then trust who calls without the access
//! token (`token = "none"` with an identity). It knows nothing of sessions: it is given a
//! session's key, generation, `sub` and claims.
//!
//! - [`Identity`] (`issuer`): the deployment's signing keys, configured or shared through the
//!   store, and the `iss`;
//! - [`KeySet`] (`key_set`): the key that signs and the JWKS that publishes it with the retired
//!   ones;
//! - `shared_key`: the key generated at first start, sealed in the store, the same for every
//!   replica;
//! - [`RouteIdentity`] (`assertion`): one route's identity: its header, audience, claims and
//!   lifetime; `cache`: signed identities reused while more than half their lifetime is left;
//! - `jwks`: the `/.well-known/jwks.json` endpoint;
//! - [`IdentityError`] (`error`).

mod assertion;
mod cache;
mod error;
mod issuer;
mod jwks;
mod key_set;
mod shared_key;

pub use assertion::{Holder, MAX_CLAIMS_BYTES, RouteIdentity};
pub use error::IdentityError;
pub use issuer::Identity;
pub use jwks::{JWKS_PATH, configure};
pub use key_set::KeySet;

//! Secrets and what is done with them, for every module: random tokens, their hex and
//! constant-time comparison ([`token`]); sealing under a key derived from a secret
//! ([`seal`](mod@seal)); the deployment's own keys for what no cookie opens ([`keyring`]); a
//! signing key's public part as a JWK, and new P-256 keys ([`public_key`]). It knows nothing of
//! sessions, stores or the IdP.

pub mod keyring;
pub mod public_key;
pub mod seal;
pub mod token;

pub use keyring::{KEY_LEN, Keyring, Opened, decode_key};
pub use public_key::{KeyFamily, PublicJwk, PublicKeyError, generate_p256};
pub use seal::{open, seal};
pub use token::{TOKEN_LEN, ct_eq, hex, is_token_shaped, random_token};

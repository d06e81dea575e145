//! Why an identity could not be signed or its keys published. The HTTP status and code of each
//! are decided in `crate::error`.

use crate::config::KeyError;
use crate::crypto::PublicKeyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The store could not give or take the shared signing key.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The shared key in the store opens with none of the keyring's keys: `encryption_key`
    /// changed without the old one in `previous_encryption_keys`.
    #[error(
        "the identity signing key in the store does not open with session.encryption_key or \
         previous_encryption_keys; set identity.signing_key_file, or restore the old key"
    )]
    StoredKeyUnreadable,
    /// The shared key was gone each time it was read just after another replica wrote it.
    #[error("the shared identity signing key keeps vanishing from the store")]
    Vanished,
    #[error("identity signing key")]
    Key(#[from] KeyError),
    #[error("identity key")]
    PublicKey(#[from] PublicKeyError),
    #[error("cannot sign an identity")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The selected claims of a session are too large to send in a header.
    /// A signed identity that is not a header value (cannot happen: a JWT is base64url and dots).
    #[error("a signed identity is not a valid header value")]
    Malformed,
    #[error("the identity's claims take {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
}

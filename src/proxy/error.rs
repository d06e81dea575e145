//! Why an API call was not forwarded, or failed upstream. The HTTP status and code of each are
//! decided in `crate::error`.

use std::time::Duration;

use crate::csrf::CsrfError;
use crate::identity::IdentityError;
use crate::session::{RefreshError, StreamRefused};
use crate::store::StoreError;

/// Any error, boxed, as the cause of a [`ProxyError::Unreachable`] (hyper's or tungstenite's).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Csrf(#[from] CsrfError),
    #[error("no live session")]
    Unauthenticated,
    /// The route needs a stronger or more recent sign-in (RFC 9470).
    #[error("this call needs a stronger or more recent sign-in")]
    StepUpRequired(super::Challenge),
    /// The route's `allow` rule does not allow this call (or failed on it); the value names the
    /// route (its prefix).
    #[error("this route's rule does not allow this call")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error("upstream unreachable")]
    Unreachable(#[source] BoxError),
    #[error("upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// The path is spelled in a way that servers read differently (see `path`).
    #[error(transparent)]
    Path(#[from] super::path::PathError),
    /// The route does not forward this method; the value is its `Allow` header.
    #[error("this route does not forward this method; it allows {0}")]
    MethodNotAllowed(String),
    /// No route was chosen for the request (cannot happen: the API scope's guard chose one).
    #[error("no route for this path")]
    NoRoute,
    #[error(transparent)]
    Streams(#[from] StreamRefused),
    #[error("bad upstream request: {0}")]
    BadRequest(String),
    #[error("request body larger than this route's limit of {0} bytes")]
    BodyTooLarge(u64),
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    /// The route's identity could not be signed (no key, the store, oversized claims).
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl ProxyError {
    pub(super) fn unreachable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ProxyError::Unreachable(Box::new(e))
    }
}

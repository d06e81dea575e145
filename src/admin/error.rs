//! Why an admin call was refused. The HTTP status and code of each are decided in
//! `crate::error`.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No `server.admin_token`: the admin API is off.
    #[error("the admin API is off (no server.admin_token)")]
    Disabled,
    #[error("missing or wrong admin bearer token")]
    Unauthorized,
    #[error("expected exactly one of `sub` and `sid`")]
    BadTarget,
    #[error("no app is named {0:?}")]
    UnknownApp(String),
    #[error("the app has no provider named {0:?}")]
    UnknownProvider(String),
    #[error("there are several apps: name one with `app`")]
    AppRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

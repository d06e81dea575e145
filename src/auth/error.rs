//! Why an auth endpoint refused. The HTTP status and code of each are decided in `crate::error`.

use crate::csrf::CsrfError;
use crate::oidc::OidcError;
use crate::proxy::ProxyError;
use crate::session::{EndReason, PendingError, StreamRefused};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Csrf(#[from] CsrfError),
    #[error("no live session")]
    Unauthenticated,
    /// No live session, and the store remembers why the request's own one ended.
    #[error("no live session")]
    Ended(EndReason),
    #[error("missing `state` parameter")]
    MissingState,
    #[error("missing `code` parameter")]
    MissingCode,
    #[error("the `{0}` parameter appears more than once")]
    DuplicateParam(&'static str),
    /// `/auth/login?provider=` names no provider of this app.
    #[error("no provider of this app has that name")]
    UnknownProvider,
    #[error("the `{0}` login parameter has a value the IdP would not accept")]
    InvalidLoginParam(&'static str),
    #[error("the `{0}` parameter has an unexpected value")]
    InvalidParam(&'static str),
    #[error("no such session of this user")]
    NoSuchSession,
    #[error(transparent)]
    Pending(#[from] PendingError),
    #[error("the identity provider answered `{error}`")]
    Idp {
        error: String,
        description: Option<String>,
    },
    #[error(transparent)]
    Oidc(#[from] OidcError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("missing or wrong logout token")]
    LogoutToken,
    #[error(transparent)]
    Streams(#[from] StreamRefused),
    #[error("too many logins from this client; try again in a minute")]
    TooManyLogins,
    /// A front-channel logout that names no session of ours, or names it wrongly.
    #[error("{0}")]
    FrontchannelLogout(String),
    #[error("method not allowed (allowed: {0})")]
    MethodNotAllowed(&'static str),
}

/// Why `/auth/check` did not let a request through, or could not judge it.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The peer is not a trusted proxy: its word about the request is not taken (the value is
    /// its address).
    #[error("the peer {0} is not one of server.trusted_proxies")]
    UntrustedProxy(String),
    /// The gateway's word about the request is missing, doubled or not a request.
    #[error("{0}")]
    BadForwarded(&'static str),
    /// No live session on a route that needs one: sign in at `login_url`. A navigation is told
    /// so in a header too, for the gateway to turn into a redirect.
    #[error("no live session")]
    Unauthenticated { login_url: String, navigation: bool },
    /// No `[[routes]]` prefix covers the path: nothing says who may call it.
    #[error("no route covers this path")]
    NoRoute,
    /// The user's `sub` or token cannot be a header value (a control character).
    #[error("the user's {0} cannot be sent in a header")]
    Unsendable(&'static str),
    /// The route's own answer, as the proxy gives it (step-up, rule, CSRF, method, store).
    #[error(transparent)]
    Route(#[from] ProxyError),
}

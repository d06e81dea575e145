//! What picking an app can refuse.

#[derive(Debug, thiserror::Error)]
pub enum AppsError {
    /// No app answers the request's host.
    #[error("no app is served at this host")]
    Misdirected,
}

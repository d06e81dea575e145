//! The operators' session API, served only on `admin_listen` and only with
//! `server.admin_token`: list a user's sessions, end sessions by user (`sub`) or IdP session
//! (`sid`), count live sessions. Every action is logged (who, what, how many), never a secret.
//!
//! - `api`: the endpoints and their bearer-token check;
//! - [`client`]: the `vestibule sessions` subcommand, which calls them;
//! - [`AdminError`] (`error`).

mod api;
pub mod client;
mod error;

pub use api::configure;
pub use error::AdminError;

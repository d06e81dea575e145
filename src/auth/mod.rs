//! The auth endpoints under `[server] auth_prefix` (default `/auth`), one file each:
//! - `login`: `GET /auth/login`, step (A), off to the IdP;
//! - `callback`: `GET /auth/callback`, steps (C) to (E), a new session;
//! - `session_info`: `GET /auth/session`, who is signed in, for the SPA;
//! - `logout`: `GET /auth/logout`, ending the session here and at the IdP;
//! - `backchannel`: `POST /auth/backchannel-logout`, the IdP ending sessions server to server;
//! - `frontchannel`: `GET /auth/frontchannel-logout`, the IdP ending sessions through the
//!   browser (a page it frames);
//! - `sessions`: `GET /auth/sessions`, `DELETE /auth/sessions/{handle}`,
//!   `POST /auth/sessions/end-others`, the user's own sessions;
//! - `events`: `GET /auth/events`, the SPA's stream of session events;
//! - `check`: `GET /auth/check`, forward-auth: a gateway asks whether to let a request through
//!   (the request as the gateway tells it: `forwarded`);
//!
//! registered together in `endpoints`; and beside them [`AuthError`] (`error`), [`PageError`] (`page`: an error as a page for a
//! person), the query-string reader (`query`), the login parameters an SPA may pass to the IdP
//! (`login_params`), the [`return_to`] sanitiser and [`listed_json`] (`listed`: a listed session
//! as JSON, which the admin API answers with too). Where requests may come from is
//! `crate::csrf`'s to decide.

mod backchannel;
mod callback;
pub mod check;
mod chooser;
mod endpoints;
mod error;
mod events;
mod forwarded;
mod frontchannel;
mod listed;
mod login;
mod login_params;
mod login_rate;
mod logout;
mod page;
mod query;
pub mod return_to;
mod session_info;
mod sessions;

pub use endpoints::{PAGE_CSP, configure};
pub use error::{AuthError, CheckError};
pub use listed::listed_json;
pub use login_rate::LoginRate;
pub use page::PageError;

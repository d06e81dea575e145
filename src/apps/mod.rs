//! The apps of one deployment, and which one a request is for.
//!
//! - `live`: the apps now served ([`Live`]), swapped whole by a reload, and the lookup by host;
//! - `host`: the middleware that picks a request's app (its `Host`, or a trusted proxy's
//!   `X-Forwarded-Host`) and provider (its session cookie's tag); 421 for any other host;
//! - `build`: a [`Deployment`](crate::config::Deployment) made into apps, reusing what a reload
//!   did not change (IdP clients, session caches);
//! - `reload`: `SIGHUP` and `server.watch_config`.

mod build;
mod error;
mod host;
mod live;
mod reload;

pub use build::{BuildError, build};
pub use error::AppsError;
pub use host::pick_app;
pub use live::{Apps, Live};
pub use reload::{Reloader, hangups, watch};

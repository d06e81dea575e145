//! Choosing the route of a request: on the path's folded form (see `path`), longest prefix
//! first, so that no spelling of a path reaches a looser route than the strictest one it could
//! mean. The choice is made once, by the guard of the one API scope, and handed to the handler
//! in the request's extensions.

use std::sync::Arc;

use actix_web::guard::{Guard, GuardContext};

use super::Route;
use super::path::{Canonical, PathError, plain_under, under};
use crate::support::path::is_plain;

/// The configured routes, most specific first.
pub struct Router {
    routes: Vec<Arc<Route>>,
}

/// A request's route, and whether its path may be forwarded.
pub struct Routed {
    pub route: Arc<Route>,
    /// Where the prefix ends in the raw path (for `strip_prefix`), or why the path is refused.
    pub verdict: Result<usize, PathError>,
}

impl Router {
    pub fn new(mut routes: Vec<Arc<Route>>) -> Router {
        routes.sort_by_key(|r| std::cmp::Reverse(r.folded_prefix.len()));
        Router { routes }
    }

    /// The route of `raw` (the request's path as sent), or `None` when it is not an API path.
    pub fn route(&self, raw: &str) -> Option<Routed> {
        if self.routes.is_empty() {
            return None;
        }
        if is_plain(raw) {
            let route = self
                .routes
                .iter()
                .find(|r| plain_under(raw, &r.folded_prefix))?;
            return Some(Routed {
                route: route.clone(),
                verdict: Ok(raw_prefix_end(raw, route.prefix_segments)),
            });
        }
        self.route_by_reading(raw)
    }

    /// [`Router::route`] the long way, on the path's full reading (which the plain-path
    /// shortcut must agree with).
    fn route_by_reading(&self, raw: &str) -> Option<Routed> {
        let path = Canonical::new(raw);
        let find = |folded: &str| self.routes.iter().find(|r| under(folded, &r.folded_prefix));
        // With dot segments, the strictest route either reading reaches.
        let resolved = path.resolved().and_then(|r| find(&r));
        let route = match (find(path.folded()), resolved) {
            (Some(a), Some(b)) if b.folded_prefix.len() > a.folded_prefix.len() => b,
            (a, b) => a.or(b)?,
        };
        let verdict = path
            .check(route.allow_encoded_slash)
            .and_then(|()| prefix_end(raw, &path, route.prefix_segments));
        Some(Routed {
            route: route.clone(),
            verdict,
        })
    }
}

/// The end of the first `segments` raw segments. Without flaws, raw and folded segments match
/// one to one, except where an allowed encoded slash splits a raw segment: a prefix cannot be
/// cut there.
fn prefix_end(raw: &str, path: &Canonical, segments: usize) -> Result<usize, PathError> {
    if path.encoded_slash_within(segments) {
        return Err(PathError::EncodedSlash);
    }
    Ok(raw_prefix_end(raw, segments))
}

/// The end of the first `segments` segments of `raw`.
fn raw_prefix_end(raw: &str, segments: usize) -> usize {
    raw.match_indices('/')
        .nth(segments)
        .map_or(raw.len(), |(i, _)| i)
}

/// The guard of the API scope: true for an API path, whose [`Routed`] it leaves for the handler.
pub struct ApiPath;

impl Guard for ApiPath {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        let routed = ctx
            .req_data()
            .get::<Arc<crate::AppState>>()
            .and_then(|s| s.router.route(ctx.head().uri.path()));
        match routed {
            Some(routed) => {
                ctx.req_data_mut().insert(routed);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;

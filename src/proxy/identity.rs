//! The signed identity a call carries (a route's `identity_header`, see `crate::identity`): the
//! session's, when the caller has one; and the browser's own identity headers, which never pass.

use actix_web::HttpRequest;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::token::Bearer;
use super::{ProxyError, Route};
use crate::AppState;
use crate::identity::Holder;
use crate::session::Session;

/// The identity header's value for a call on `route`: `None` without an identity on the route,
/// or without a live session. `bearer` is the route's token for the call: a user's carries the
/// session already looked up.
pub(super) async fn for_call(
    state: &AppState,
    req: &HttpRequest,
    route: &Route,
    bearer: Option<&Bearer<'_>>,
) -> Result<Option<HeaderValue>, ProxyError> {
    if route.identity.is_none() {
        return Ok(None);
    }
    let (key, session) = match bearer {
        Some(Bearer::User {
            session_id,
            session,
            ..
        }) => (state.sessions.session_key(session_id), session.clone()),
        // A route that may send the user's token looked for the session, and there was none.
        _ if route.token.uses_user() => return Ok(None),
        _ => match state.sessions.load(req).await? {
            Some((id, session)) => (state.sessions.session_key(&id), session),
            None => return Ok(None),
        },
    };
    Ok(signed(state, route, &key, &session).await?.map(|(_, v)| v))
}

/// The identity header of the signed-in caller (session `session_id`) on `route`, name and
/// value: `None` without an identity on the route. For a gateway's check, whose 200 carries the
/// headers its upstream gets.
pub async fn for_caller(
    state: &AppState,
    route: &Route,
    session_id: &str,
    session: &Session,
) -> Result<Option<(HeaderName, HeaderValue)>, ProxyError> {
    let key = state.sessions.session_key(session_id);
    signed(state, route, &key, session).await
}

async fn signed(
    state: &AppState,
    route: &Route,
    session_key: &str,
    session: &Session,
) -> Result<Option<(HeaderName, HeaderValue)>, ProxyError> {
    let Some(identity) = &route.identity else {
        return Ok(None);
    };
    let holder = Holder {
        session_key,
        generation: session.generation,
        sub: &session.sub,
        claims: &session.claims,
    };
    let value = identity.header_value(&state.identity, holder).await?;
    Ok(Some((identity.header.clone(), value)))
}

/// Removes every identity header the browser sent (any spelling, every copy), then adds the
/// call's own.
pub(super) fn apply(headers: &mut HeaderMap, route: &Route, value: Option<HeaderValue>) {
    for name in route.identity_names.iter() {
        headers.remove(name);
    }
    if let (Some(identity), Some(value)) = (&route.identity, value) {
        headers.insert(identity.header.clone(), value);
    }
}

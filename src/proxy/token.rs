//! The access token a route sends upstream, by its `token` kind: the user's (the login's, or the
//! route's own: narrowed or exchanged, see `oidc::route_grant`), the application's (client
//! credentials, see `session::client_token`), or none. Each is refreshed first when it is about to
//! expire (exactly once, see `session::refresh`), and refreshed after the fact when an upstream
//! refuses it as `invalid_token` (IdPs that give no `expires_in` leave no other way to know).
//! A route's step-up rule, then its `allow` rule, are checked before any token is looked at.

use std::sync::Arc;

use actix_web::HttpRequest;
use http::header::{HeaderMap, WWW_AUTHENTICATE};

use super::{Call, ProxyError, Route};
use crate::AppState;
use crate::config::TokenPolicy;
use crate::oidc::{GrantKind, RouteGrant};
use crate::session::{ClientToken, RefreshError, Session};

/// The token one call carries, with what it came from.
pub(super) enum Bearer<'r> {
    /// The user's: the login's token, or the route's own (`grant`) kept in the session.
    User {
        session_id: String,
        session: Arc<Session>,
        grant: Option<&'r RouteGrant>,
    },
    /// The application's own.
    Client(Arc<ClientToken>),
}

impl Bearer<'_> {
    pub(super) fn value(&self) -> Option<&str> {
        match self {
            Bearer::User {
                session,
                grant: None,
                ..
            } => Some(&session.access_token),
            Bearer::User {
                session,
                grant: Some(g),
                ..
            } => session
                .route_tokens
                .get(&g.key)
                .map(|t| t.access_token.as_str()),
            Bearer::Client(t) => Some(&t.access_token),
        }
    }
}

/// What a route's policy granted one call: who calls, when signed in, and the token it carries.
pub struct Admission<'r> {
    /// The caller, when signed in and the call carries no user's token (which holds them).
    caller: Option<(String, Arc<Session>)>,
    bearer: Option<Bearer<'r>>,
}

impl<'r> Admission<'r> {
    /// The access token the call carries upstream, if any.
    pub fn token(&self) -> Option<&str> {
        self.bearer.as_ref().and_then(Bearer::value)
    }

    /// The caller's session id and session, when signed in (looked up when the route's token or
    /// rule needs them, or the call asked for the caller's identity).
    pub fn caller(&self) -> Option<(&str, &Arc<Session>)> {
        match &self.bearer {
            Some(Bearer::User {
                session_id,
                session,
                ..
            }) => Some((session_id, session)),
            _ => self.caller.as_ref().map(|(id, s)| (id.as_str(), s)),
        }
    }

    pub(super) fn into_bearer(self) -> Option<Bearer<'r>> {
        self.bearer
    }
}

/// The token for a call on `route`: `None` for `token = "none"`, and for `optional` without a
/// session; 401 for `user` without one. A route with a rule needs a signed-in caller whatever it
/// sends upstream, and the rule's yes.
pub(super) async fn bearer_for<'r>(
    state: &AppState,
    req: &HttpRequest,
    route: &'r Route,
) -> Result<Option<Bearer<'r>>, ProxyError> {
    Ok(admit(state, req, route, &Call::of(req))
        .await?
        .into_bearer())
}

/// Admits `call` on `route` (step-up, then the `allow` rule, then the token, refreshed when
/// due): the proxy's calls and the forward-auth endpoint's checks alike.
pub async fn admit<'r>(
    state: &AppState,
    req: &HttpRequest,
    route: &'r Route,
    call: &Call<'_>,
) -> Result<Admission<'r>, ProxyError> {
    let needs_session = call.identity || route.rule.is_some() || route.token.uses_user();
    let caller = if needs_session {
        admitted(state, req, route, call).await?
    } else {
        None
    };
    let (caller, bearer) = match (route.token, caller) {
        (TokenPolicy::None, caller) => (caller, None),
        (TokenPolicy::Optional, None) => (None, None),
        (TokenPolicy::Client, caller) => {
            (caller, Some(Box::pin(client(state, route, None)).await?))
        }
        (TokenPolicy::UserOrClient, None) => {
            (None, Some(Box::pin(client(state, route, None)).await?))
        }
        (TokenPolicy::User, None) => return Err(ProxyError::Unauthenticated),
        (_, Some((id, session))) => (None, Some(user(state, route, id, session).await?)),
    };
    Ok(Admission { caller, bearer })
}

/// The user's token on `route`: the login's, fresh, or the route's own.
async fn user<'r>(
    state: &AppState,
    route: &'r Route,
    session_id: String,
    session: Arc<Session>,
) -> Result<Bearer<'r>, ProxyError> {
    let sessions = &state.sessions;
    let grant = route.user_grant.as_ref();
    // The login's token is needed fresh when it is sent, or exchanged.
    let session = match grant {
        Some(RouteGrant {
            kind: GrantKind::Narrowed { .. },
            ..
        }) => session,
        _ => {
            sessions
                .ensure_fresh(&session_id, session, &state.oidc)
                .await?
        }
    };
    let session = match grant {
        Some(g) => {
            sessions
                .ensure_route_token(&session_id, session, g, &state.oidc)
                .await?
        }
        None => session,
    };
    let bearer = Bearer::User {
        session_id,
        session,
        grant,
    };
    if bearer.value().is_none() {
        // A fenced write lost to another replica's, which did not carry this route's token yet.
        return Err(ProxyError::Refresh(RefreshError::Pending));
    }
    Ok(bearer)
}

/// The caller's session once it meets the route's step-up rule and its `allow` rule (step-up
/// first: a rule may read `session.acr`, which a step-up raises). Without a session: `None` on
/// a route that serves anonymous callers, else 401.
async fn admitted(
    state: &AppState,
    req: &HttpRequest,
    route: &Route,
    call: &Call<'_>,
) -> Result<Option<(String, Arc<Session>)>, ProxyError> {
    let Some((session_id, session)) = state.sessions.load(req).await? else {
        return if route.serves_anonymous() {
            Ok(None)
        } else {
            Err(ProxyError::Unauthenticated)
        };
    };
    if let Some(step_up) = &route.step_up {
        step_up
            .check(&session, req, &state.config, call.return_to)
            .map_err(ProxyError::StepUpRequired)?;
    }
    route.authorize(&session, call.method, call.path)?;
    Ok(Some((session_id, session)))
}

async fn client<'r>(
    state: &AppState,
    route: &'r Route,
    rejected: Option<&str>,
) -> Result<Bearer<'r>, ProxyError> {
    let grant = route
        .client_grant
        .as_ref()
        .ok_or(ProxyError::Unauthenticated)?;
    let token = state
        .client_tokens
        .get(grant, &state.oidc, rejected)
        .await?;
    Ok(Bearer::Client(token))
}

/// After the upstream refused `old`: a new token, or `None` when there is none to be had (the
/// session has no refresh token, or another request already got the same).
pub(super) async fn refreshed<'r>(
    state: &AppState,
    route: &'r Route,
    old: &Bearer<'r>,
) -> Result<Option<Bearer<'r>>, ProxyError> {
    let Some(rejected) = old.value() else {
        return Ok(None);
    };
    let fresh = match old {
        Bearer::Client(_) => client(state, route, Some(rejected)).await?,
        Bearer::User {
            session_id,
            session,
            grant,
        } => {
            let sessions = &state.sessions;
            let (id, s, oidc) = (session_id.as_str(), session.clone(), &state.oidc);
            let session = match grant {
                Some(g) => {
                    sessions
                        .route_token_rejected(id, s, g, rejected, oidc)
                        .await?
                }
                None => sessions.refresh_rejected(id, s, rejected, oidc).await?,
            };
            Bearer::User {
                session_id: session_id.clone(),
                session,
                grant: *grant,
            }
        }
    };
    Ok(fresh
        .value()
        .is_some_and(|v| v != rejected)
        .then_some(fresh))
}

/// RFC 6750 3.1: the upstream says the bearer token is expired, revoked or otherwise bad.
pub(super) fn rejects_token(headers: &HeaderMap) -> bool {
    headers.get_all(WWW_AUTHENTICATE).iter().any(|v| {
        let v = v.as_bytes().to_ascii_lowercase();
        v.starts_with(b"bearer")
            && (contains(&v, b"error=\"invalid_token\"") || contains(&v, b"error=invalid_token"))
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests;

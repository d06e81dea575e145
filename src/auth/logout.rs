//! `GET /auth/logout?token=…`: ends the session, revokes its refresh token at the IdP, clears the
//! cookie and sends the browser to the IdP's end-session endpoint. The per-session token in the
//! URL (only given to the SPA by `/auth/session`) stops a cross-site page from logging the user
//! out; `csrf::check_navigation` refuses it even if the token leaked.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::query::query_param;
use super::{AuthError, PageError};
use crate::CurrentApp;
use crate::crypto;
use crate::session::EndReason;
use crate::support::Chain;
use crate::{AppState, csrf};

/// `GET /auth/logout`: 302 to the IdP's end-session endpoint (or `post_logout_path`).
pub async fn logout(state: CurrentApp, req: HttpRequest) -> Result<HttpResponse, PageError> {
    end(&state, &req).await.map_err(PageError::from)
}

async fn end(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, AuthError> {
    csrf::check_navigation(&state.config, req)?;
    let (token, _) = query_param(req, "token");
    let cookies = state.sessions.cookies();
    let Some((id, session)) = state.sessions.load(req).await? else {
        // No live session: nothing to end; just clear the cookie and go home.
        return Ok(redirect("/").cookie(cookies.clear_session()).finish());
    };
    if !token.is_some_and(|t| crypto::ct_eq(&t, &session.logout_token)) {
        return Err(AuthError::LogoutToken);
    }
    state.sessions.end(&id, EndReason::Logout).await?;
    // RFC 7009: the refresh token must not outlive the session. Best effort: the session is
    // already ended here whatever the IdP says.
    if let Some(rt) = &session.refresh_token {
        match state.oidc.revoke_refresh_token(rt).await {
            Ok(revoked) => tracing::info!(revoked, "logout"),
            Err(e) => tracing::warn!(error = %Chain(&e), "logout; refresh token revocation failed"),
        }
    } else {
        tracing::info!("logout");
    }
    let path = &state.config.oidc.post_logout_path;
    let target = match state.oidc.end_session_endpoint() {
        Some(mut url) => {
            let post_logout = format!("{}{path}", state.config.origin());
            let mut q = url.query_pairs_mut();
            // (Plain OAuth 2.0 sessions have no ID token to hint with.)
            if !session.id_token.is_empty() {
                q.append_pair("id_token_hint", &session.id_token);
            }
            q.append_pair("post_logout_redirect_uri", &post_logout)
                .append_pair("client_id", &state.config.oidc.client_id);
            drop(q);
            url.to_string()
        }
        None => path.clone(),
    };
    Ok(redirect(&target).cookie(cookies.clear_session()).finish())
}

fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Found();
    b.insert_header((header::LOCATION, location));
    b
}

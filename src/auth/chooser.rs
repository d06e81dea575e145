//! The provider chooser: what `/auth/login` shows, in an app with several providers and no
//! `default_provider`, when the request names none. Plain HTML, a link per provider (each back
//! to `/auth/login` with `provider=` and the request's own query), no script; the app's
//! stylesheet (`chooser_stylesheet`) themes it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::page::html_escape as escape;
use crate::App;

/// The chooser page's policy: nothing but the app's own stylesheet may load.
const CHOOSER_CSP: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'";

/// The page, 200.
pub fn page(app: &App, req: &HttpRequest, auth_prefix: &str) -> HttpResponse {
    let query: String = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("provider="))
        .map(|p| format!("&{p}"))
        .collect();
    let mut items = String::new();
    for state in &app.providers {
        let oidc = &state.config.oidc;
        items.push_str(&format!(
            "<li><a class=\"provider provider-{name}\" href=\"{auth_prefix}/login?provider={name}{q}\">{label}</a></li>",
            name = oidc.name,
            q = escape(&query),
            label = escape(oidc.label()),
        ));
    }
    let css = app.providers[0]
        .config
        .app
        .chooser_stylesheet
        .as_deref()
        .map(|href| format!("<link rel=stylesheet href=\"{}\">", escape(href)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>Sign in</title>{css}<main class=vestibule-chooser>\
         <h1>Sign in</h1><p>Choose how to sign in:</p>\
         <ul class=providers>{items}</ul></main></html>"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CHOOSER_CSP))
        .body(body)
}

//! The cookie codec: reading Vestibule's two cookies from a `Cookie` header, and building their
//! `Set-Cookie`s.
//!
//! - the session cookie (`vestibule`, or `__Host-vestibule` on https): the session's id;
//! - the login cookie (`vestibule-login`): binds logins started in this browser to it.
//!
//! Both are HttpOnly, `Path=/`, without `Domain`, and `Secure` with the `__Host-` prefix (or
//! `__Host-Http-`, `session.cookie_prefix`) whenever `public_url` is https. The session cookie's
//! `SameSite` is `session.same_site`; the login cookie's is always `Lax`, since it must come back
//! on the IdP's cross-site redirect to the callback. Their values are random 256-bit tokens; a value of any
//! other shape, or a name sent twice, counts as no cookie at all.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::header;

use crate::config::{Config, SameSitePolicy};
use crate::crypto;
use crate::support::secs;

pub struct CookieCodec {
    /// In an app of `[[apps]]`: the provider's name, in front of every value (`corp.<id>`), so
    /// that a request finds its session's provider before loading it (see `apps::host`).
    tag: Option<String>,
    session_name: String,
    login_name: String,
    secure: bool,
    session_same_site: SameSite,
    /// The login cookie lives as long as a login may take.
    login_max_age: time::Duration,
}

impl CookieCodec {
    pub fn new(config: &Config) -> Self {
        let secure = config.is_https();
        let prefix = if secure {
            config.session.cookie_prefix.as_str()
        } else {
            ""
        };
        let name = &config.session.cookie_name;
        Self {
            tag: (!config.app.is_implicit()).then(|| format!("{}.", config.oidc.name)),
            session_name: format!("{prefix}{name}"),
            login_name: format!("{prefix}{name}-login"),
            secure,
            session_same_site: match config.session.same_site {
                SameSitePolicy::Lax => SameSite::Lax,
                SameSitePolicy::Strict => SameSite::Strict,
            },
            login_max_age: time::Duration::seconds(secs(config.session.login_timeout)),
        }
    }

    pub fn session_name(&self) -> &str {
        &self.session_name
    }

    pub fn login_name(&self) -> &str {
        &self.login_name
    }

    /// The session id this request carries, when it has the shape of one we issue.
    pub fn session_id(&self, req: &HttpRequest) -> Option<String> {
        self.untagged(single_cookie(req, &self.session_name)?)
    }

    /// The login cookie this request carries, when it has the shape of one we issue.
    pub fn login_binding(&self, req: &HttpRequest) -> Option<String> {
        self.untagged(single_cookie(req, &self.login_name)?)
    }

    /// The provider tag of the session cookie's value (`login`: the login cookie's), the part
    /// before its first `.`, when the request carries the cookie once: what picks the provider
    /// that reads it (see `apps::host`).
    pub fn tag_of<'r>(&self, req: &'r HttpRequest, login: bool) -> Option<&'r str> {
        let name = if login {
            &self.login_name
        } else {
            &self.session_name
        };
        single_cookie(req, name)?
            .split_once('.')
            .map(|(tag, _)| tag)
    }

    /// A cookie's value without this provider's tag; `None` when it is another's (or none).
    fn untagged(&self, value: &str) -> Option<String> {
        let id = match &self.tag {
            Some(tag) => value.strip_prefix(tag.as_str())?,
            None => value,
        };
        crypto::is_token_shaped(id).then(|| id.to_owned())
    }

    fn tagged(&self, id: &str) -> String {
        match &self.tag {
            Some(tag) => format!("{tag}{id}"),
            None => id.to_owned(),
        }
    }

    /// The session cookie: a browser-session cookie (no `Max-Age`); the store enforces expiry.
    pub fn session(&self, id: &str) -> Cookie<'static> {
        self.build(
            self.session_name.clone(),
            self.tagged(id),
            self.session_same_site,
            None,
        )
    }

    /// A cookie that makes the browser forget the session cookie.
    pub fn clear_session(&self) -> Cookie<'static> {
        self.build(
            self.session_name.clone(),
            String::new(),
            self.session_same_site,
            Some(time::Duration::ZERO),
        )
    }

    pub fn login(&self, binding: &str) -> Cookie<'static> {
        self.build(
            self.login_name.clone(),
            self.tagged(binding),
            SameSite::Lax,
            Some(self.login_max_age),
        )
    }

    fn build(
        &self,
        name: String,
        value: String,
        same_site: SameSite,
        max_age: Option<time::Duration>,
    ) -> Cookie<'static> {
        let mut c = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .finish();
        if let Some(age) = max_age {
            c.set_max_age(age);
        }
        c
    }
}

/// The value of cookie `name` when the request carries it exactly once, with the shape of a token
/// we issue. Twice (a cookie planted for a narrower path or a parent domain, "cookie tossing")
/// is ambiguous, and counts as none. Parsed leniently, byte-wise and without percent-decoding:
/// another application's malformed or non-UTF-8 cookie on the same host must not hide ours.
fn single_cookie<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    let mut found: Option<&[u8]> = None;
    for value in req.headers().get_all(header::COOKIE) {
        for (n, v) in cookie_pairs(value.as_bytes()) {
            if n == name.as_bytes() {
                if found.is_some() {
                    tracing::warn!(cookie = name, "cookie sent more than once; ignored");
                    return None;
                }
                found = Some(v);
            }
        }
    }
    std::str::from_utf8(found?).ok()
}

/// The `name=value` pairs of one `Cookie` header, trimmed; pairs without `=` are skipped.
pub fn cookie_pairs(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    header.split(|b| *b == b';').filter_map(|pair| {
        let eq = pair.iter().position(|b| *b == b'=')?;
        Some((pair[..eq].trim_ascii(), pair[eq + 1..].trim_ascii()))
    })
}

#[cfg(test)]
mod tests;

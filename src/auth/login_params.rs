//! The login parameters an SPA may pass through `/auth/login?…` to the IdP: those listed in
//! `[oidc] login_params` (by default `prompt`, `login_hint`, `acr_values`, `max_age`,
//! `ui_locales`), each once, each with a value of its expected shape. Others are not forwarded.
//! The callback later checks what some of them asked for (`max_age`, `acr_values`) and treats a
//! refused `prompt=none` as an answer, not an error.

use actix_web::HttpRequest;

use super::AuthError;
use super::query::single;

/// `prompt` values of OpenID Connect Core 3.1.2.1 and Initiating User Registration 1.0.
const PROMPTS: [&str; 5] = ["none", "login", "consent", "select_account", "create"];
/// Longest value passed on.
const MAX_LEN: usize = 256;

/// The checked parameters, and what the callback needs to know of them.
#[derive(Default)]
pub(super) struct LoginParams {
    pub params: Vec<(&'static str, String)>,
    pub prompt_none: bool,
    pub max_age: Option<u64>,
    pub acr_values: Option<String>,
}

pub(super) fn read(req: &HttpRequest, allowed: &[String]) -> Result<LoginParams, AuthError> {
    let mut out = LoginParams::default();
    for name in crate::config::LOGIN_PARAMS {
        if !allowed.iter().any(|a| a == name) {
            continue;
        }
        let Some(value) = single(req, name)? else {
            continue;
        };
        let ok = match name {
            "prompt" => {
                let values: Vec<&str> = value.split(' ').collect();
                let known = values.iter().all(|v| PROMPTS.contains(v));
                // `none` cannot be combined with anything else (Core 3.1.2.1).
                known && (values.len() == 1 || !values.contains(&"none"))
            }
            "max_age" => value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()),
            "ui_locales" => value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' '),
            // login_hint, acr_values: printable text.
            _ => !value.chars().any(char::is_control),
        } && !value.is_empty()
            && value.len() <= MAX_LEN;
        if !ok {
            return Err(AuthError::InvalidLoginParam(name));
        }
        match name {
            "prompt" => out.prompt_none = value == "none",
            "max_age" => out.max_age = value.parse().ok(),
            "acr_values" => out.acr_values = Some(value.clone()),
            _ => {}
        }
        out.params.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

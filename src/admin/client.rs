//! `vestibule sessions …`: the admin API for people at a terminal. It reads the same config as
//! the server (the admin address and `server.admin_token`, best given as
//! `VESTIBULE_SERVER__ADMIN_TOKEN`), calls the running Vestibule on this machine, and prints
//! its JSON answer.

use secrecy::ExposeSecret;

use crate::config::Config;

/// What to ask.
pub enum Action {
    List { sub: String },
    EndBySub { sub: String },
    EndBySid { sid: String },
    Count,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no server.admin_token configured (set VESTIBULE_SERVER__ADMIN_TOKEN)")]
    NoToken,
    #[error("cannot reach the admin API at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("cannot start the HTTP client")]
    Runtime(#[source] std::io::Error),
    #[error("the admin API answered {status}: {body}")]
    Refused { status: u16, body: String },
}

/// Calls the admin API; the answer's JSON, pretty-printed.
/// `scope`: which app's (needed when there are several) and which provider's sessions, as
/// `("app", name)` and `("provider", name)`.
pub fn run(config: &Config, scope: &[(&str, &str)], action: Action) -> Result<String, ClientError> {
    let token = config
        .server
        .admin_token
        .as_ref()
        .ok_or(ClientError::NoToken)?
        .expose_secret()
        .to_owned();
    let base = format!("http://{}/admin/sessions", config.server.local_admin_addr());
    let (method, url) = match &action {
        Action::List { sub } => (reqwest::Method::GET, with(&base, "sub", sub)),
        Action::EndBySub { sub } => (reqwest::Method::DELETE, with(&base, "sub", sub)),
        Action::EndBySid { sid } => (reqwest::Method::DELETE, with(&base, "sid", sid)),
        Action::Count => (reqwest::Method::GET, format!("{base}/count")),
    };
    let mut url = url;
    for (name, value) in scope {
        let sep = if url.contains('?') { "&" } else { "?" };
        url = format!("{url}{sep}{}", query(name, value));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ClientError::Runtime)?;
    runtime.block_on(async {
        let unreachable = |source| ClientError::Unreachable {
            url: url.clone(),
            source,
        };
        let res = reqwest::Client::new()
            .request(method, &url)
            .bearer_auth(token)
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(unreachable)?;
        let status = res.status().as_u16();
        let body = res.text().await.map_err(unreachable)?;
        if !(200..300).contains(&status) {
            return Err(ClientError::Refused { status, body });
        }
        Ok(serde_json::from_str::<serde_json::Value>(&body)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or(body))
    })
}

fn with(base: &str, name: &str, value: &str) -> String {
    format!("{base}?{}", query(name, value))
}

fn query(name: &str, value: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish()
}

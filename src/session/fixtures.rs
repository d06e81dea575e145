//! What the session module's unit tests share: a manager on the memory store and a session
//! whose access token expires when a test needs it to.

use std::sync::Arc;

use super::{Session, SessionManager};
use crate::config::Config;
use crate::store::memory::MemoryStore;

pub(super) fn manager() -> SessionManager {
    let config = Config::from_toml_str(
        "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
         [oidc]\nissuer = \"http://127.0.0.1:9100\"\nclient_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n",
        "test",
    )
    .expect("valid config");
    SessionManager::new(&config, Arc::new(MemoryStore::new()), b"test".to_vec())
}

/// A session whose token expires `left` seconds after `now` (unix seconds), issued for
/// `lifetime` seconds.
pub(super) fn session_at(now: i64, left: i64, lifetime: Option<i64>) -> Session {
    Session {
        sub: "u".into(),
        sid: None,
        claims: Default::default(),
        id_token: String::new(),
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        access_expires_at: Some(now + left),
        access_lifetime: lifetime,
        created_at: now,
        logout_token: String::new(),
        route_tokens: Default::default(),
        generation: 0,
        rule_claims: Default::default(),
        registry_entry: None,
    }
}

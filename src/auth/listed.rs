//! One listed session as JSON: the shape both `GET /auth/sessions` (a user's own sessions) and
//! the admin API (`crate::admin`, any user's) answer with. Opaque handles only, never store ids
//! or cookie values.

use serde_json::json;

use crate::session::Listed;

/// One listed session, as JSON. A session whose registry entry cannot be opened (see
/// `session::registry`) is still listed, so it can be ended: `"device": "unknown"`, and `null`
/// for what only the entry knows (`created_at`, `absolute_expires_at`, `user_agent`, `ip`).
pub fn listed_json(l: &Listed) -> serde_json::Value {
    json!({
        "handle": l.handle,
        "device": if l.device.is_some() { "known" } else { "unknown" },
        "created_at": l.created_at,
        "last_seen": l.last_seen,
        "idle_expires_at": l.idle_expires_at,
        "absolute_expires_at": l.absolute_expires_at,
        "user_agent": l.device.as_ref().map(|d| &d.user_agent),
        "ip": l.device.as_ref().map(|d| &d.ip),
        "current": l.current,
    })
}

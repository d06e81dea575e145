//! What one evaluation of a rule sees: the session's prepared claims, borrowed (nothing is
//! copied per call), and the request's method and canonical path.

use std::collections::HashMap;

use cel::common::types::{CelMap, CelMapKey, CelString};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;

use super::RuleClaims;

/// One call, as a rule reads it.
pub struct RuleInput<'a> {
    /// The signed-in user's claims (and `groups`, `session.auth_time`, `session.acr`).
    pub claims: &'a RuleClaims,
    /// `request.method`: as sent, `GET`, `POST`, …
    pub method: &'a str,
    /// `request.path`: the canonical reading the route was chosen on (percent-decoded, lower
    /// case, see `proxy::path`), so that every spelling of a path meets the rule alike.
    pub path: &'a str,
}

impl RuleInput<'_> {
    fn request(&self) -> CelMap<'_> {
        let mut map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = HashMap::with_capacity(2);
        map.insert(
            CelMapKey::from("method"),
            Box::new(CelString::from(self.method)),
        );
        map.insert(
            CelMapKey::from("path"),
            Box::new(CelString::from(self.path)),
        );
        CelMap::from(map)
    }
}

/// The interpreter asks for `request.path` whole before `request` (the most specific name
/// first), so the usual fields cost no map.
impl VariableResolver for RuleInput<'_> {
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        match name {
            "claims" => Some(CowVal::Borrowed(self.claims.claims.as_ref())),
            "groups" => self.claims.groups.as_deref().map(CowVal::Borrowed),
            "session" => Some(CowVal::Borrowed(self.claims.session.as_ref())),
            "request.method" => Some(CowVal::owned(CelString::from(self.method))),
            "request.path" => Some(CowVal::owned(CelString::from(self.path))),
            "request" => Some(CowVal::owned(self.request())),
            _ => None,
        }
    }
}

//! A session's claims as a rule reads them, and where the groups are among them.
//!
//! The claims are turned into CEL values once per loaded session (a [`ClaimsCell`] in the
//! session), not once per call or per term of a rule: an in-memory session serves every call of
//! its cache lifetime with the same values.

use std::collections::HashMap;
use std::sync::OnceLock;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde_json::Value as Json;

type Claims = serde_json::Map<String, Json>;

/// Where a user's groups are in the claims: a dotted path (`groups`, `realm_access.roles`),
/// with `\.` for a dot inside a claim's name (`https://example\.com/roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPath {
    segments: Vec<String>,
}

impl ClaimPath {
    /// `None` for an empty path or one with an empty segment (`a..b`, `.a`).
    pub fn parse(text: &str) -> Option<ClaimPath> {
        let mut segments = vec![String::new()];
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'.') => {
                    chars.next();
                    segments.last_mut()?.push('.');
                }
                '.' => segments.push(String::new()),
                c => segments.last_mut()?.push(c),
            }
        }
        (!segments.iter().any(String::is_empty)).then_some(ClaimPath { segments })
    }

    /// The value at this path, if every step is there (a step into a non-object is not).
    fn find<'c>(&self, claims: &'c Claims) -> Option<&'c Json> {
        let (first, rest) = self.segments.split_first()?;
        rest.iter()
            .try_fold(claims.get(first)?, |v, s| v.as_object()?.get(s))
    }
}

impl Default for ClaimPath {
    fn default() -> Self {
        ClaimPath {
            segments: vec!["groups".to_owned()],
        }
    }
}

impl std::fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let escaped: Vec<String> = self
            .segments
            .iter()
            .map(|s| s.replace('.', "\\."))
            .collect();
        f.write_str(&escaped.join("."))
    }
}

impl TryFrom<String> for ClaimPath {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        ClaimPath::parse(&text).ok_or_else(|| {
            format!(
                "expected a claim path such as \"groups\" or \"realm_access.roles\" (no empty \
                 segment), got {text:?}"
            )
        })
    }
}

impl<'de> serde::Deserialize<'de> for ClaimPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ClaimPath::try_from(text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for ClaimPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for ClaimPath {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ClaimPath".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// A session's claims as CEL values: `claims`, `groups` and `session` of a rule.
#[derive(Debug)]
pub struct RuleClaims {
    pub(super) claims: Box<dyn Val>,
    /// `None` when the groups claim is there but is no list of strings (nor one string): a rule
    /// that reads `groups` then fails, and the call is refused.
    pub(super) groups: Option<Box<dyn Val>>,
    /// `auth_time` and `acr`, `null` when the ID token has none.
    pub(super) session: Box<dyn Val>,
}

impl RuleClaims {
    pub fn new(claims: &Claims, groups: &ClaimPath) -> RuleClaims {
        let mut session: HashMap<CelMapKey<'static>, Box<dyn Val>> = HashMap::new();
        for name in ["auth_time", "acr"] {
            let value = claims
                .get(name)
                .map_or_else(|| Box::new(CelNull) as _, to_val);
            session.insert(CelMapKey::from(name.to_owned()), value);
        }
        RuleClaims {
            claims: Box::new(object(claims)),
            groups: groups_at(claims, groups),
            session: Box::new(CelMap::from(session)),
        }
    }
}

/// The groups at `path`: none when it is absent or `null`, one for a string, every one of a list
/// of strings; anything else (a number, an object, a list holding a non-string) is no groups
/// claim at all, so that a rule reading it fails rather than guessing.
fn groups_at(claims: &Claims, path: &ClaimPath) -> Option<Box<dyn Val>> {
    let list = |items: Vec<Box<dyn Val>>| Some(Box::new(CelList::from(items)) as Box<dyn Val>);
    match path.find(claims) {
        None | Some(Json::Null) => list(Vec::new()),
        Some(Json::String(s)) => list(vec![Box::new(CelString::from(s.clone()))]),
        Some(Json::Array(items)) if items.iter().all(Json::is_string) => {
            list(items.iter().map(to_val).collect())
        }
        Some(_) => None,
    }
}

/// JSON as CEL: integers as `int` (as `uint` only past `i64`), so that `claims.level > 2` needs
/// no `u` suffix.
fn to_val(v: &Json) -> Box<dyn Val> {
    match v {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Box::new(CelString::from(s.clone())),
        Json::Array(items) => Box::new(CelList::from(
            items.iter().map(to_val).collect::<Vec<Box<dyn Val>>>(),
        )),
        Json::Object(map) => Box::new(object(map)),
    }
}

fn object(map: &Claims) -> CelMap<'static> {
    let entries: HashMap<CelMapKey<'static>, Box<dyn Val>> = map
        .iter()
        .map(|(k, v)| (CelMapKey::from(k.clone()), to_val(v)))
        .collect();
    CelMap::from(entries)
}

/// A session's [`RuleClaims`], built on first use. A copy of the session starts empty: the copy
/// is made to be changed (a refresh may bring new claims), and must not keep the old values.
#[derive(Default)]
pub struct ClaimsCell(OnceLock<RuleClaims>);

impl ClaimsCell {
    pub fn get_or_build(&self, claims: &Claims, groups: &ClaimPath) -> &RuleClaims {
        self.0.get_or_init(|| RuleClaims::new(claims, groups))
    }
}

impl Clone for ClaimsCell {
    fn clone(&self) -> Self {
        ClaimsCell::default()
    }
}

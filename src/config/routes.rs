//! `[[routes]]`: API path prefixes and the upstreams they are forwarded to.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;

use super::broken::{Broken, broken};

/// Which token a route's calls carry upstream.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenPolicy {
    /// The signed-in user's; no live session: 401, nothing forwarded. `required` is its old name.
    #[default]
    #[serde(alias = "required")]
    User,
    /// The application's own (client credentials), whoever calls.
    Client,
    /// The user's when signed in, else the application's.
    UserOrClient,
    /// The user's when signed in, else none.
    Optional,
    None,
}

/// By hand: the derived schema would not know the `required` alias.
impl schemars::JsonSchema for TokenPolicy {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TokenPolicy".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value =
            |name: &str, doc: &str| schemars::json_schema!({ "const": name, "description": doc });
        schemars::json_schema!({
            "type": "string",
            "description": "Which token a route's calls carry upstream.",
            "oneOf": [
                value("user", "The signed-in user's access token; without a live session: 401, nothing forwarded."),
                value("required", "The old name of `user`."),
                value("client", "The application's own token (client credentials), whoever calls: for APIs that trust the BFF, not the user."),
                value("user_or_client", "The user's token when signed in, else the application's."),
                value("optional", "The user's token when signed in, else the call goes without one."),
                value("none", "No token: the call is forwarded as it is (still without the browser's cookies)."),
            ]
        })
    }
}

impl TokenPolicy {
    /// Whether calls may carry the user's token.
    pub fn uses_user(self) -> bool {
        matches!(self, Self::User | Self::UserOrClient | Self::Optional)
    }

    /// Whether calls may carry the application's token.
    pub fn uses_client(self) -> bool {
        matches!(self, Self::Client | Self::UserOrClient)
    }
}

/// `exchange = { audience = "…", scope = "…" }`: the route's token comes from an RFC 8693 token
/// exchange of the user's access token.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// `audience` of the exchange: the API the new token is for, by the name the IdP knows it.
    pub audience: Option<String>,
    /// `scope` of the exchange: the scopes (space-separated) the new token should carry; the IdP
    /// may grant fewer.
    pub scope: Option<String>,
    /// An RFC 8707 resource URI, for IdPs that name targets that way.
    pub resource: Option<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Path prefix, matched on whole segments: `/api` matches `/api` and `/api/x`, not `/apix`.
    pub prefix: String,
    /// Where calls go: `http(s)://host[:port][/base]`.
    pub upstream: Url,
    #[serde(default)]
    pub token: TokenPolicy,
    /// Remove `prefix` from the forwarded path (`/api/x` → `/x`).
    #[serde(default)]
    pub strip_prefix: bool,
    /// Longest wait for the upstream's response headers (504 after that); bodies may stream longer.
    #[serde(default = "default_route_timeout", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub timeout: Duration,
    /// Extra request headers added to every forwarded call (e.g. an API key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Largest request body forwarded (e.g. `"10MB"`); unset: unlimited (streaming). Larger: 413.
    #[schemars(with = "Option<String>", extend("x-kind" = "size"))]
    pub max_body: Option<bytesize::ByteSize>,
    /// RFC 8707 resource indicator: this route's token is minted for this API (the user's by a
    /// refresh-token grant with `resource`, the application's by client credentials with it).
    #[serde(default)]
    pub resource: Option<String>,
    /// Scopes of this route's token: a down-scoped refresh for the user's, the requested scopes
    /// of the application's.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The user's token for this route comes from an RFC 8693 token exchange.
    #[serde(default)]
    pub exchange: Option<ExchangeConfig>,
    /// Step-up: the session's `acr` must be one of these (RFC 9470).
    #[serde(default)]
    pub require_acr: Vec<String>,
    /// Step-up: the user must have signed in at most this long ago (`auth_time`).
    #[serde(default, with = "humantime_serde")]
    #[schemars(with = "Option<String>", extend("x-kind" = "duration"))]
    pub max_auth_age: Option<Duration>,
    /// The HTTP methods this route forwards (e.g. `["GET", "POST"]`); others get 405 with
    /// `Allow`. Unset: every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Forward paths with an encoded `/` or `\` (`%2F`, `%5C`) instead of refusing them (400),
    /// for upstreams that need them in a segment. The route is still chosen as if they were `/`.
    #[serde(default)]
    pub allow_encoded_slash: bool,
    /// Who may call this route: a CEL expression over the user's `claims`, `groups`,
    /// `request.method`, `request.path` and `session.auth_time`/`acr`, such as
    /// `'"admins" in groups'`. A call it does not allow, or on which it fails, gets 403
    /// `forbidden`, nothing forwarded. Needs a signed-in user: not with `token = "optional"` or
    /// `"user_or_client"`. Unset: every caller the `token` kind lets through.
    #[serde(default)]
    pub allow: Option<String>,
    /// Send upstream, in this request header (e.g. `"X-Vestibule-Identity"`), who the signed-in
    /// user is: a JWT signed by Vestibule (`iss`, `aud`, `sub`, the `identity_claims`, `iat`,
    /// `exp`, `jti`), verifiable with `/.well-known/jwks.json`. The browser's own header of this
    /// name is always removed. Anonymous calls carry none. Unset: no identity is sent.
    #[serde(default)]
    pub identity_header: Option<String>,
    /// The session's claims (top-level names) the identity carries, when the session has them.
    /// Unset: `email`, `email_verified`, `name`, `preferred_username`, `groups`.
    #[serde(default)]
    pub identity_claims: Option<Vec<String>>,
    /// The identity's `aud`. Unset: `public_url` and the route's prefix
    /// (`https://app.example.com/api`).
    #[serde(default)]
    pub identity_audience: Option<String>,
    /// How long an identity JWT is valid (`exp - iat`): at most `60s`. One is reused for calls
    /// of the same session on this route while more than half of it is left.
    #[serde(default = "default_identity_ttl", with = "humantime_serde")]
    #[schemars(with = "String", extend("x-kind" = "duration"))]
    pub identity_ttl: Duration,
}

/// The longest an identity JWT may live (`identity_ttl`): a stolen one is worth a minute.
pub const MAX_IDENTITY_TTL: Duration = Duration::from_secs(60);

fn default_identity_ttl() -> Duration {
    MAX_IDENTITY_TTL
}

/// Methods no route forwards, whatever its `methods`: `CONNECT` (an upstream proxy would open a
/// tunnel with the user's token), `TRACE` and `TRACK` (an upstream would echo the
/// `Authorization` header, the token, back to the browser). A route may not list them, and the
/// proxy refuses them on every route.
pub const NEVER_FORWARDED: [&str; 3] = ["CONNECT", "TRACE", "TRACK"];

fn default_route_timeout() -> Duration {
    Duration::from_secs(30)
}

impl RouteConfig {
    /// A route with every option at its default.
    pub fn plain(prefix: &str, upstream: Url, token: TokenPolicy) -> Self {
        RouteConfig {
            prefix: prefix.to_owned(),
            upstream,
            token,
            strip_prefix: false,
            timeout: default_route_timeout(),
            headers: BTreeMap::new(),
            max_body: None,
            resource: None,
            scopes: None,
            exchange: None,
            require_acr: Vec::new(),
            max_auth_age: None,
            methods: None,
            allow_encoded_slash: false,
            allow: None,
            identity_header: None,
            identity_claims: None,
            identity_audience: None,
            identity_ttl: default_identity_ttl(),
        }
    }

    /// Every route on its own, then the rule across them: each prefix once.
    pub(super) fn validate_all(routes: &[RouteConfig], auth_prefix: &str) -> Result<(), Broken> {
        for r in routes {
            r.validate(auth_prefix)?;
        }
        // Routes are chosen case-insensitively: `/api/Admin` and `/api/admin` are one prefix.
        let mut prefixes: Vec<String> = routes.iter().map(|r| r.prefix.to_lowercase()).collect();
        prefixes.sort_unstable();
        if prefixes.windows(2).any(|w| w[0] == w[1]) {
            return Err(broken(
                "routes.prefix",
                "expected each prefix once (prefixes are matched case-insensitively)",
            ));
        }
        Ok(())
    }

    /// Whether the user's token of this route is its own (narrowed or exchanged), not the login's.
    pub fn own_user_token(&self) -> bool {
        self.token.uses_user()
            && (self.resource.is_some() || self.scopes.is_some() || self.exchange.is_some())
    }

    /// Whether calls need a stronger or more recent sign-in than the session may have.
    pub fn step_up(&self) -> bool {
        !self.require_acr.is_empty() || self.max_auth_age.is_some()
    }

    fn validate(&self, auth_prefix: &str) -> Result<(), Broken> {
        self.validate_tokens()?;
        self.validate_prefix(auth_prefix)?;
        if !matches!(self.upstream.scheme(), "http" | "https") || self.upstream.query().is_some() {
            return Err(broken(
                "routes.upstream",
                format!(
                    "expected an http(s) URL without query, got {}",
                    self.upstream
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(broken(
                "routes.timeout",
                "expected a positive duration such as \"30s\"",
            ));
        }
        self.validate_methods()?;
        self.validate_rule()?;
        for (name, value) in &self.headers {
            if HeaderName::try_from(name.as_str()).is_err() || HeaderValue::from_str(value).is_err()
            {
                return Err(broken(
                    "routes.headers",
                    format!("expected valid HTTP header names and values, got {name:?}"),
                ));
            }
        }
        Ok(())
    }

    /// The token options that fit the route's `token` kind, and only those.
    fn validate_tokens(&self) -> Result<(), Broken> {
        let kind = self.token;
        if kind == TokenPolicy::None
            && (self.resource.is_some() || self.scopes.is_some() || self.exchange.is_some())
        {
            return Err(broken(
                "routes.token",
                "resource, scopes and exchange need a token; this route has token = \"none\"",
            ));
        }
        if self.exchange.is_some() {
            if kind != TokenPolicy::User {
                return Err(broken(
                    "routes.exchange",
                    "expected token = \"user\": a token exchange needs the user's token",
                ));
            }
            if self.resource.is_some() || self.scopes.is_some() {
                return Err(broken(
                    "routes.exchange",
                    "expected either exchange or resource/scopes, not both",
                ));
            }
        }
        if let Some(r) = self
            .resource
            .as_deref()
            .or(self.exchange.as_ref().and_then(|e| e.resource.as_deref()))
        {
            // RFC 8707 section 2: an absolute URI without a fragment.
            let ok = Url::parse(r).is_ok_and(|u| u.fragment().is_none());
            if !ok {
                return Err(broken(
                    "routes.resource",
                    format!("expected an absolute URI without a fragment, got {r:?}"),
                ));
            }
        }
        if let Some(scopes) = &self.scopes
            && (scopes.is_empty()
                || scopes
                    .iter()
                    .any(|s| s.is_empty() || s.contains([' ', '"', '\\'])))
        {
            return Err(broken(
                "routes.scopes",
                "expected a non-empty list of scope names without spaces",
            ));
        }
        self.validate_step_up()
    }

    /// A prefix every server reads alike, that hides none of Vestibule's own endpoints.
    fn validate_prefix(&self, auth_prefix: &str) -> Result<(), Broken> {
        let p = &self.prefix;
        if !p.starts_with('/') || (p.len() > 1 && p.ends_with('/')) || p.contains(['?', '#', '*']) {
            return Err(broken(
                "routes.prefix",
                format!("expected a path like \"/api\", got {p:?}"),
            ));
        }
        // A prefix is matched on the folded form of paths (see `proxy::path`): it must be a plain
        // path already, which every server reads alike but for case (and ASCII, so that no
        // server's Unicode case rules matter).
        if !crate::support::path::is_plain(p) {
            return Err(broken(
                "routes.prefix",
                format!(
                    "expected plain ASCII path segments (no empty, dot, encoded or `;` segments), got {p:?}"
                ),
            ));
        }
        let lower = p.to_lowercase();
        let under_auth = lower
            .strip_prefix(&auth_prefix.to_lowercase())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if under_auth || lower == "/healthz" || lower == "/readyz" {
            return Err(broken(
                "routes.prefix",
                format!("{p:?} would hide Vestibule's own endpoints"),
            ));
        }
        Ok(())
    }

    /// `methods`: HTTP method names, none of those never forwarded.
    fn validate_methods(&self) -> Result<(), Broken> {
        let Some(methods) = &self.methods else {
            return Ok(());
        };
        let valid = |m: &String| {
            !NEVER_FORWARDED.contains(&m.as_str())
                && !m.is_empty()
                && m.bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
        };
        if methods.is_empty() || !methods.iter().all(valid) {
            return Err(broken(
                "routes.methods",
                format!(
                    "expected HTTP methods in capitals, such as [\"GET\", \"POST\"] (never CONNECT, TRACE or TRACK), got {methods:?}"
                ),
            ));
        }
        Ok(())
    }

    /// `allow`: compiled (so start-up and `check-config` refuse the same rules), on a route whose
    /// callers are all signed in.
    fn validate_rule(&self) -> Result<(), Broken> {
        let Some(source) = &self.allow else {
            return Ok(());
        };
        if matches!(
            self.token,
            TokenPolicy::Optional | TokenPolicy::UserOrClient
        ) {
            return Err(broken(
                "routes.allow",
                format!(
                    "route {:?}: a rule needs a signed-in user, and this route's token kind \
                     serves anonymous callers too: use token = \"user\", \"client\" or \"none\"",
                    self.prefix
                ),
            ));
        }
        match crate::authz::Rule::compile(source) {
            Ok(_) => Ok(()),
            Err(e) => Err(broken(
                "routes.allow",
                format!("route {:?}: {e}", self.prefix),
            )),
        }
    }

    /// Step-up rules (`require_acr`, `max_auth_age`): on the user's token only, well-formed.
    fn validate_step_up(&self) -> Result<(), Broken> {
        if self.step_up() && self.token != TokenPolicy::User {
            return Err(broken(
                "routes.require_acr",
                "step-up (require_acr, max_auth_age) needs token = \"user\"",
            ));
        }
        if self
            .require_acr
            .iter()
            .any(|a| a.is_empty() || a.contains([' ', '"', '\\']))
        {
            return Err(broken(
                "routes.require_acr",
                "expected acr values without spaces or quotes",
            ));
        }
        if self.max_auth_age.is_some_and(|d| d.as_secs() == 0) {
            return Err(broken(
                "routes.max_auth_age",
                "expected at least one second, such as \"5m\"",
            ));
        }
        Ok(())
    }
}

//! `[identity]`: the key that signs the identity Vestibule sends upstreams (a route's
//! `identity_header`), and the retired keys it still publishes at `/.well-known/jwks.json`; and
//! the checks of a route's `identity_*` keys. Keys are read, parsed and tried while the config is
//! checked, as `oidc.private_key` is, so that a key that cannot sign fails `check-config`.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::http::header::HeaderName;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::broken::{Broken, broken};
use super::private_key::{KeyAlg, KeyError, SigningKey};
use super::routes::{MAX_IDENTITY_TTL, RouteConfig};
use crate::crypto::{KeyFamily, PublicJwk};

/// The session's claims an identity carries when a route names none (`routes.identity_claims`):
/// who the user is and their groups, nothing about the login itself or its tokens.
pub const DEFAULT_IDENTITY_CLAIMS: [&str; 5] = [
    "email",
    "email_verified",
    "name",
    "preferred_username",
    "groups",
];

/// Claims Vestibule writes itself: a session's claim of these names is never copied.
pub const SET_BY_VESTIBULE: [&str; 7] = ["iss", "sub", "aud", "iat", "exp", "nbf", "jti"];

/// Request headers an identity may not be sent in: Vestibule sets or removes them, or they
/// carry the connection's framing.
const RESERVED_HEADERS: [&str; 21] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-request-id",
    "traceparent",
    "tracestate",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "expect",
];

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// A PEM file holding the private key identity JWTs are signed with (PKCS#8; PKCS#1 also for
    /// RSA), read and tried at start. This or `signing_key`, not both. Neither: Vestibule
    /// generates a P-256 key at first start and keeps it in the session store, sealed under
    /// `session.encryption_key`, so every replica signs with it (with the memory store it lives
    /// in the process: a restart makes a new one).
    #[schemars(extend("x-kind" = "path"))]
    pub signing_key_file: Option<PathBuf>,
    /// The signing key's PEM text itself, for platforms that hand secrets over as variables
    /// (`VESTIBULE_IDENTITY__SIGNING_KEY`). This or `signing_key_file`, not both.
    #[schemars(with = "Option<String>", extend("x-kind" = "secret"))]
    pub signing_key: Option<SecretString>,
    /// The algorithm identity JWTs are signed with: `ES256` (a P-256 key), `RS256` or `PS256`
    /// (an RSA key). A generated key is always `ES256`.
    #[serde(default = "default_alg")]
    pub signing_key_alg: KeyAlg,
    /// Keys that signed before the current one (a rotation): published in the JWKS, never used
    /// to sign. Each entry is a PEM file's path or the PEM text itself (a private key, or the
    /// public key alone).
    #[serde(default)]
    pub previous_keys: Vec<String>,
}

fn default_alg() -> KeyAlg {
    KeyAlg::Es256
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            signing_key_file: None,
            signing_key: None,
            signing_key_alg: default_alg(),
            previous_keys: Vec::new(),
        }
    }
}

/// A configured key's PEM, wiped when dropped.
pub type Pem = p256::elliptic_curve::zeroize::Zeroizing<Vec<u8>>;

impl IdentityConfig {
    /// The configured signing key's PEM: from `signing_key_file`, else `signing_key`; `None`
    /// when Vestibule generates its own.
    pub fn signing_pem(&self) -> Result<Option<Pem>, KeyError> {
        match (&self.signing_key_file, &self.signing_key) {
            (Some(file), _) => read(file).map(Some),
            (None, Some(pem)) => Ok(Some(Pem::new(pem.expose_secret().as_bytes().to_vec()))),
            (None, None) => Ok(None),
        }
    }

    /// The PEM of each of `previous_keys`.
    pub fn previous_pems(&self) -> Result<Vec<Pem>, KeyError> {
        self.previous_keys
            .iter()
            .map(|k| {
                if k.contains("-----BEGIN") {
                    Ok(Pem::new(k.as_bytes().to_vec()))
                } else {
                    read(&PathBuf::from(k))
                }
            })
            .collect()
    }

    pub(super) fn validate(&self) -> Result<(), Broken> {
        if self.signing_key_file.is_some() && self.signing_key.is_some() {
            return Err(broken(
                "identity.signing_key_file",
                "expected either signing_key_file or signing_key, not both",
            ));
        }
        let key = if self.signing_key.is_some() {
            "identity.signing_key"
        } else {
            "identity.signing_key_file"
        };
        let alg = self.signing_key_alg;
        if let Some(pem) = self.signing_pem().map_err(|e| broken(key, e.to_string()))? {
            SigningKey::from_pem(&pem, alg, None).map_err(|e| broken(key, e.to_string()))?;
            let public = PublicJwk::from_pem(&pem).map_err(|e| broken(key, e.to_string()))?;
            if public.family != family_of(alg) {
                return Err(broken(key, format!("expected a key for {alg}")));
            }
        } else if alg != KeyAlg::Es256 {
            return Err(broken(
                "identity.signing_key_alg",
                "a generated key is ES256: set signing_key_file or signing_key for RS256 or PS256",
            ));
        }
        for pem in self
            .previous_pems()
            .map_err(|e| broken("identity.previous_keys", e.to_string()))?
        {
            PublicJwk::from_pem(&pem)
                .map_err(|e| broken("identity.previous_keys", e.to_string()))?;
        }
        Ok(())
    }
}

/// The key family an algorithm signs with.
pub fn family_of(alg: KeyAlg) -> KeyFamily {
    match alg {
        KeyAlg::Es256 => KeyFamily::P256,
        KeyAlg::Rs256 | KeyAlg::Ps256 => KeyFamily::Rsa,
    }
}

fn read(path: &PathBuf) -> Result<Pem, KeyError> {
    std::fs::read(path)
        .map(Pem::new)
        .map_err(|source| KeyError::Read {
            path: path.clone(),
            source,
        })
}

/// A route's `identity_*` keys: a header name Vestibule may set, claims it does not write
/// itself, a lifetime of at most [`MAX_IDENTITY_TTL`].
pub(super) fn validate_route(r: &RouteConfig) -> Result<(), Broken> {
    let Some(name) = &r.identity_header else {
        if r.identity_claims.is_some() || r.identity_audience.is_some() {
            return Err(broken(
                "routes.identity_header",
                format!(
                    "route {:?} sets identity_claims or identity_audience: expected \
                     identity_header too",
                    r.prefix
                ),
            ));
        }
        return Ok(());
    };
    let lower = name.to_ascii_lowercase();
    if HeaderName::try_from(name.as_str()).is_err()
        || RESERVED_HEADERS.contains(&lower.as_str())
        || lower.contains('_')
        || r.headers.keys().any(|h| h.eq_ignore_ascii_case(name))
    {
        return Err(broken(
            "routes.identity_header",
            format!(
                "expected a header name of the route's own, such as \"X-Vestibule-Identity\" \
                 (not one Vestibule sets or removes, not one of `headers`, no `_`), got {name:?}"
            ),
        ));
    }
    if let Some(claims) = &r.identity_claims
        && let Some(bad) = claims
            .iter()
            .find(|c| c.is_empty() || SET_BY_VESTIBULE.contains(&c.as_str()))
    {
        return Err(broken(
            "routes.identity_claims",
            format!("expected claim names other than {SET_BY_VESTIBULE:?}, got {bad:?}"),
        ));
    }
    if r.identity_audience
        .as_deref()
        .is_some_and(|a| a.trim().is_empty() || a.chars().any(char::is_control))
    {
        return Err(broken(
            "routes.identity_audience",
            "expected a non-empty audience, such as \"https://orders.internal\"",
        ));
    }
    if r.identity_ttl < Duration::from_secs(1) || r.identity_ttl > MAX_IDENTITY_TTL {
        return Err(broken(
            "routes.identity_ttl",
            "expected from 1s to 60s: an identity is a short-lived assertion",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;

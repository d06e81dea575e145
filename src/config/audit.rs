//! `check-config --audit`: grades a valid config against the BFF section of RFC 10017 (OAuth 2.0
//! for Browser-Based Applications, draft-ietf-oauth-browser-based-apps) and RFC 9700 (OAuth 2.0
//! Security Best Current Practice).
//!
//! A valid config can still be a weak one: plain http allowed off loopback, a `Lax` session
//! cookie, an upstream reached without TLS. Each check names the section it comes from, so an
//! operator can read why, and each weakness has a severity, so CI can fail on it (exit 1).
//! What Vestibule fixes in code (HttpOnly, `Path=/`, no `Domain`, PKCE S256, the anti-CSRF header
//! on every API route) is still listed, as passed: the report is the whole picture.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use super::{ClientAuth, Config, CookiePrefix, SameSitePolicy, is_loopback};

const BFF: &str = "RFC 10017 §6.1";
const BFF_COOKIES: &str = "RFC 10017 §6.1.3.2";
const BFF_CSRF: &str = "RFC 10017 §6.1.3.3";
const BFF_ROUTING: &str = "RFC 10017 §6.1.3.6";
const PKCE: &str = "RFC 9700 §2.1.1";
const CLIENT_AUTH: &str = "RFC 9700 §2.5";
const REFRESH_EXPIRY: &str = "RFC 9700 §4.14.2";
const TLS_TO_IDP: &str = "RFC 6749 §3.1, §3.2";
const TLS_FOR_BEARERS: &str = "RFC 6750 §5.3";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Medium => "MEDIUM",
            Self::High => "HIGH",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Finding(Severity),
    /// The config does not say enough to check (not a finding).
    NotChecked,
}

/// One check's result: what it is called, where the rule comes from, and what was seen.
#[derive(Debug, Clone)]
pub struct Checked {
    pub check: &'static str,
    pub cites: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Checked>,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Checked> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Finding(_)))
    }

    pub fn is_clean(&self) -> bool {
        self.findings().next().is_none()
    }

    fn push(&mut self, check: &'static str, cites: &'static str, outcome: Outcome, detail: String) {
        self.checks.push(Checked {
            check,
            cites,
            outcome,
            detail,
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let status = match c.outcome {
                Outcome::Passed => "ok",
                Outcome::Finding(s) => s.as_str(),
                Outcome::NotChecked => "skipped",
            };
            writeln!(f, "{status:<8} {:<22} [{}] {}", c.check, c.cites, c.detail)?;
        }
        let count = |s| {
            self.findings()
                .filter(|c| c.outcome == Outcome::Finding(s))
                .count()
        };
        write!(
            f,
            "{} finding(s): {} high, {} medium, {} low",
            self.findings().count(),
            count(Severity::High),
            count(Severity::Medium),
            count(Severity::Low)
        )
    }
}

pub fn audit(config: &Config) -> Report {
    let mut report = Report::default();
    cookies(config, &mut report);
    csrf(config, &mut report);
    upstreams(config, &mut report);
    path_routing(config, &mut report);
    idp_transport(config, &mut report);
    insecure_http(config, &mut report);
    client(config, &mut report);
    session_lifetime(config, &mut report);
    report
}

fn cookies(config: &Config, report: &mut Report) {
    let public_url = &config.server.public_url;
    let (outcome, detail) = if config.is_https() {
        let prefix = config.session.cookie_prefix.as_str();
        let extra = match config.session.cookie_prefix {
            CookiePrefix::HostHttp => " (scripts cannot set it either)",
            CookiePrefix::Host => "",
        };
        (
            Outcome::Passed,
            format!("cookies are Secure and named {prefix}…{extra}"),
        )
    } else if is_loopback(public_url) {
        (
            Outcome::Finding(Severity::Low),
            "public_url is plain http on loopback: cookies have no __Host- prefix and no Secure \
             (fine for development only)"
                .to_owned(),
        )
    } else {
        (
            Outcome::Finding(Severity::High),
            format!(
                "public_url {public_url} is plain http: the session cookie travels in clear, \
                 without Secure or the __Host- prefix"
            ),
        )
    };
    report.push("cookie-prefix", BFF_COOKIES, outcome, detail);

    let (outcome, detail) = match config.session.same_site {
        SameSitePolicy::Strict => (
            Outcome::Passed,
            "the session cookie is SameSite=Strict (the login cookie is Lax, as the callback \
             needs)"
                .to_owned(),
        ),
        SameSitePolicy::Lax => (
            Outcome::Finding(Severity::Medium),
            "the session cookie is SameSite=Lax; the BCP says Strict: set session.same_site = \
             \"strict\""
                .to_owned(),
        ),
    };
    report.push("cookie-same-site", BFF_COOKIES, outcome, detail);
    report.push(
        "cookie-path-domain",
        BFF_COOKIES,
        Outcome::Passed,
        "HttpOnly, Path=/ and no Domain (fixed)".to_owned(),
    );
}

/// Headers a page may send cross-origin without a CORS preflight (Fetch's CORS-safelisted
/// request headers): as the anti-CSRF header they would prove nothing.
const SAFELISTED: [&str; 5] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
    "range",
];

fn csrf(config: &Config, report: &mut Report) {
    let header = &config.server.csrf_header;
    let (outcome, detail) = if SAFELISTED.contains(&header.to_ascii_lowercase().as_str()) {
        (
            Outcome::Finding(Severity::High),
            format!(
                "server.csrf_header {header:?} is CORS-safelisted: another site can send it \
                 without a preflight"
            ),
        )
    } else {
        (
            Outcome::Passed,
            format!(
                "{header}: 1 is required on /auth/session and on all {} API route(s) (a custom \
                 header forces a CORS preflight; Sec-Fetch-Site and Origin are checked too)",
                config.routes.len()
            ),
        )
    };
    report.push("csrf-header", BFF_CSRF, outcome, detail);
}

fn upstreams(config: &Config, report: &mut Report) {
    let mut problems = Vec::new();
    let mut worst = None;
    for r in &config.routes {
        let u = &r.upstream;
        let unspecified = matches!(u.host(), Some(url::Host::Ipv4(ip)) if IpAddr::V4(ip).is_unspecified())
            || matches!(u.host(), Some(url::Host::Ipv6(ip)) if IpAddr::V6(ip).is_unspecified());
        if unspecified {
            problems.push(format!("{} → {u} is not an explicit host", r.prefix));
            worst = worst.max(Some(Severity::High));
        } else if plain_off_loopback(u) {
            problems.push(format!(
                "{} → {u} carries bearer tokens over plain http",
                r.prefix
            ));
            worst = worst.max(Some(Severity::High));
        }
    }
    let (outcome, detail) = match worst {
        Some(s) => (Outcome::Finding(s), problems.join("; ")),
        None => (
            Outcome::Passed,
            format!(
                "all {} upstream(s) are explicit hosts, https or loopback",
                config.routes.len()
            ),
        ),
    };
    report.push("upstream-transport", TLS_FOR_BEARERS, outcome, detail);
}

/// Routes are chosen on one canonical reading of the path, and ambiguous spellings are refused
/// (fixed); a route that lets encoded slashes through trusts its upstream not to decode them
/// before its own routing.
fn path_routing(config: &Config, report: &mut Report) {
    let open: Vec<&str> = config
        .routes
        .iter()
        .filter(|r| r.allow_encoded_slash)
        .map(|r| r.prefix.as_str())
        .collect();
    let (outcome, detail) = if open.is_empty() {
        (
            Outcome::Passed,
            "routes are chosen on the canonical path; empty, dot, `;`, encoded-slash and \
             trailing-dot spellings get 400, rewrite headers are stripped"
                .to_owned(),
        )
    } else {
        (
            Outcome::Finding(Severity::Medium),
            format!(
                "allow_encoded_slash on {}: an upstream that decodes %2F before routing may read \
                 a path differently from Vestibule; make sure it does not, and check acr and \
                 scopes in the token too",
                open.join(", ")
            ),
        )
    };
    report.push("path-routing", BFF_ROUTING, outcome, detail);
}

/// Whether codes, tokens and the client's credentials cross the network to the IdP in clear.
fn idp_transport(config: &Config, report: &mut Report) {
    let oidc = &config.oidc;
    let mut plain: Vec<String> = Url::parse(&oidc.issuer)
        .ok()
        .filter(plain_off_loopback)
        .map(|u| format!("issuer {u}"))
        .into_iter()
        .collect();
    let e = &oidc.endpoints;
    for u in [
        &e.authorization,
        &e.token,
        &e.userinfo,
        &e.revocation,
        &e.end_session,
        &e.jwks,
        &e.par,
    ]
    .into_iter()
    .flatten()
    {
        if plain_off_loopback(u) {
            plain.push(u.to_string());
        }
    }
    let (outcome, detail) = if plain.is_empty() {
        (
            Outcome::Passed,
            "the IdP is reached over https (or on loopback)".to_owned(),
        )
    } else {
        (
            Outcome::Finding(Severity::High),
            format!(
                "codes, tokens and the client's credentials go over plain http: {}",
                plain.join(", ")
            ),
        )
    };
    report.push("idp-transport", TLS_TO_IDP, outcome, detail);
}

/// Whether the operator let plain http through off loopback.
fn insecure_http(config: &Config, report: &mut Report) {
    let (outcome, detail) = if config.server.allow_insecure_http {
        (
            Outcome::Finding(Severity::High),
            "server.allow_insecure_http = true: plain http is accepted off loopback; turn it \
             off outside a lab"
                .to_owned(),
        )
    } else {
        (
            Outcome::Passed,
            "server.allow_insecure_http is off".to_owned(),
        )
    };
    report.push("insecure-http", TLS_TO_IDP, outcome, detail);
}

/// How the client signs in at the IdP: confidential, with PKCE, and with which credentials.
fn client(config: &Config, report: &mut Report) {
    let oidc = &config.oidc;
    report.push(
        "confidential-client",
        BFF,
        Outcome::Passed,
        format!(
            "a confidential client ({}) running the code flow server-side",
            client_auth_name(oidc.client_auth)
        ),
    );
    report.push(
        "pkce",
        PKCE,
        Outcome::Passed,
        "PKCE with S256 on every authorization request (fixed)".to_owned(),
    );
    let (outcome, detail) = match oidc.client_auth {
        ClientAuth::PrivateKeyJwt => (
            Outcome::Passed,
            "private_key_jwt: no shared secret to leak".to_owned(),
        ),
        ClientAuth::ClientSecretBasic | ClientAuth::ClientSecretPost => (
            Outcome::Finding(Severity::Low),
            format!(
                "{}: a shared secret; asymmetric client authentication is recommended \
                 (client_auth = \"private_key_jwt\")",
                client_auth_name(oidc.client_auth)
            ),
        ),
    };
    report.push("client-auth", CLIENT_AUTH, outcome, detail);
}

fn session_lifetime(config: &Config, report: &mut Report) {
    let absolute = config.session.absolute_timeout;
    let (outcome, detail) = match config.oidc.refresh_token_lifetime {
        None => (
            Outcome::NotChecked,
            "set oidc.refresh_token_lifetime (the IdP's) to check session.absolute_timeout \
             against it"
                .to_owned(),
        ),
        Some(rt) if absolute > rt => (
            Outcome::Finding(Severity::Medium),
            format!(
                "session.absolute_timeout ({}) outlives the IdP's refresh tokens ({}): sessions \
                 would live on without a way to renew their tokens",
                humantime::format_duration(absolute),
                humantime::format_duration(rt)
            ),
        ),
        Some(rt) => (
            Outcome::Passed,
            format!(
                "session.absolute_timeout ({}) is within the refresh token's lifetime ({})",
                humantime::format_duration(absolute),
                humantime::format_duration(rt)
            ),
        ),
    };
    report.push("session-lifetime", REFRESH_EXPIRY, outcome, detail);
}

fn plain_off_loopback(u: &Url) -> bool {
    u.scheme() == "http" && !is_loopback(u)
}

fn client_auth_name(a: ClientAuth) -> &'static str {
    match a {
        ClientAuth::ClientSecretBasic => "client_secret_basic",
        ClientAuth::ClientSecretPost => "client_secret_post",
        ClientAuth::PrivateKeyJwt => "private_key_jwt",
    }
}

#[cfg(test)]
mod tests;

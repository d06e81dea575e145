//! A small OpenID Provider for integration tests, that can be made to behave like the IdPs
//! people run ([`Quirks`]): discovery (or RFC 8414 metadata only), JWKS, PAR, userinfo, and a
//! token endpoint that checks client authentication (secret or `private_key_jwt`),
//! `redirect_uri`, single-use codes and PKCE, then returns tokens shaped as asked and an ID token
//! that a test may have asked to be broken in one precise way ([`Tweak`]).
//!
//! - `endpoints`: the HTTP handlers; `id_token`: building and signing ID tokens.

mod endpoints;
mod id_token;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use serde_json::{Value, json};

use id_token::sign;
pub use id_token::{ATTACKER_KID, Tweak};

pub const CLIENT_ID: &str = "vestibule-test";
pub const CLIENT_SECRET: &str = "test-client-secret-9f8e7d";
/// The test user, as the OpenID Provider names it.
pub const SUB: &str = "user-42";
/// The test user at a plain OAuth 2.0 provider (numeric, like GitHub's).
pub const OAUTH2_ID: u64 = 583_231;

/// Where the IdP lists its revocation endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum RevocationIn {
    /// In OpenID discovery, like most.
    #[default]
    Discovery,
    /// Only in RFC 8414 metadata at `{origin}/.well-known/oauth-authorization-server{path}`.
    OAuthMetadata,
    /// Only in RFC 8414 metadata at `{issuer}/.well-known/oauth-authorization-server`.
    OAuthMetadataAppended,
    /// Nowhere: it has none.
    Nowhere,
}

/// How the IdP authenticates this client.
#[derive(Clone, Debug, Default)]
pub enum ClientAuthCheck {
    /// `client_secret_basic` or `client_secret_post`.
    #[default]
    Secret,
    /// `private_key_jwt` only, checked with this public key (PEM fixture name) and algorithm.
    PrivateKeyJwt {
        public_key: &'static str,
        alg: jsonwebtoken::Algorithm,
    },
}

/// What kind of IdP this is; fixed at start (Vestibule reads it at discovery).
#[derive(Clone, Debug, Default)]
pub struct Quirks {
    /// The issuer's path (`/realms/acme`), as Keycloak has; empty: none.
    pub path: &'static str,
    /// RFC 9207 `authorization_response_iss_parameter_supported`.
    pub iss_param_supported: bool,
    pub revocation_in: RevocationIn,
    /// Advertise a PAR endpoint (RFC 9126)...
    pub par: bool,
    /// ... and `require_pushed_authorization_requests`.
    pub require_par: bool,
    /// A plain OAuth 2.0 provider, like GitHub: no ID token; userinfo names the user by a
    /// numeric `id`.
    pub oauth2_only: bool,
    pub client_auth: ClientAuthCheck,
}

struct Grant {
    /// The IdP session of this login (one per code here).
    sid: String,
    nonce: String,
    challenge: String,
    redirect_uri: String,
    tweak: Tweak,
}

pub struct IdpState {
    pub issuer: String,
    quirks: Quirks,
    key: RsaPrivateKey,
    other_key: RsaPrivateKey,
    grants: Mutex<HashMap<String, Grant>>,
    pub token_calls: AtomicUsize,
    pub jwks_calls: AtomicUsize,
    /// Fetches of `/attacker/jwks` or `/attacker/x5u` (see [`Tweak::Jku`]).
    pub attacker_key_fetches: AtomicUsize,
    /// After the first JWKS fetch, also publish `other_key` (as "k2"): key rotation.
    pub rotate_after_first_jwks: AtomicBool,
    /// Every token value handed out (for "never in a log" checks).
    pub issued: Mutex<Vec<String>>,
    /// `expires_in` of access tokens issued at login; negative: none sent.
    pub login_expires_in: AtomicI64,
    /// `expires_in` of access tokens issued by a refresh; negative: none sent.
    pub refresh_expires_in: AtomicI64,
    /// Send `expires_in` as a string (`"300"`), as some IdPs do.
    pub expires_in_as_string: AtomicBool,
    /// The `token_type` of token responses.
    pub token_type: Mutex<String>,
    /// Rotate refresh tokens (each works once); off: the refresh answer has no refresh token
    /// and the old one stays good.
    pub rotate_refresh_tokens: AtomicBool,
    /// Put an ID token for this `sub` in refresh answers.
    pub id_token_on_refresh: Mutex<Option<String>>,
    /// The `sub` userinfo answers with (the test user's by default).
    pub userinfo_sub: Mutex<String>,
    /// Refresh tokens that may be used.
    live_refresh_tokens: Mutex<Vec<String>>,
    pub refresh_calls: AtomicUsize,
    /// A retired refresh token was presented (a real IdP would now revoke the whole grant).
    pub refresh_reuse: AtomicUsize,
    /// Delay of refresh answers, in milliseconds.
    pub refresh_delay_ms: AtomicU64,
    /// Answer every refresh with `invalid_grant`.
    pub refuse_refresh: AtomicBool,
    /// Tokens posted to the revocation endpoint.
    pub revoked: Mutex<Vec<String>>,
    /// Delay of revocation answers, in milliseconds.
    pub revocation_delay_ms: AtomicU64,
    /// Revocations being answered now, and the most there ever were at once.
    pub revocations_in_flight: AtomicUsize,
    pub most_revocations_at_once: AtomicUsize,
    /// Pushed authorization requests, by `request_uri`.
    pushed: Mutex<HashMap<String, HashMap<String, String>>>,
    /// Every client assertion accepted: its `kid` header and `jti`.
    pub assertions: Mutex<Vec<(Option<String>, String)>>,
    /// Every PKCE verifier and client assertion the IdP was sent, whole (for "never in a log"
    /// checks: `issued` has what it handed out).
    pub received_secrets: Mutex<Vec<String>>,
    /// Every endpoint path a request was authenticated at.
    pub authenticated_at: Mutex<Vec<String>>,
    /// What each access token was minted for: `login`, `refresh`, `resource=…`, `scope=…`,
    /// `exchange:audience=…`, `client:scope=…`.
    pub minted: Mutex<HashMap<String, String>>,
    /// Refresh-token grants that carried `resource` or `scope` (narrowed).
    pub narrowed_calls: AtomicUsize,
    /// Token exchanges (RFC 8693).
    pub exchange_calls: AtomicUsize,
    /// Client-credentials grants.
    pub client_calls: AtomicUsize,
    /// `expires_in` of narrowed, exchanged and client tokens; negative: none sent.
    pub route_expires_in: AtomicI64,
    /// Claims added to the ID tokens issued from now on (replacing those of the same name).
    pub id_token_claims: Mutex<serde_json::Map<String, Value>>,
    /// Claims added to userinfo answers (replacing those of the same name).
    pub userinfo_claims: Mutex<serde_json::Map<String, Value>>,
}

pub struct TestIdp {
    pub state: Arc<IdpState>,
    handle: actix_web::dev::ServerHandle,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

fn fixture_key(name: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(&fixture(name)).expect("PKCS#1 PEM")
}

/// `extra` over `claims`: each key set (to `null` too).
fn merge_claims(claims: &mut Value, extra: &serde_json::Map<String, Value>) {
    if let Some(map) = claims.as_object_mut() {
        map.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

pub fn random(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

impl TestIdp {
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// `iss_param_supported`: advertise RFC 9207 `authorization_response_iss_parameter_supported`.
    pub async fn start_with(iss_param_supported: bool) -> Self {
        Self::start_on(0, iss_param_supported).await
    }

    /// Starts on `port` (0: any free port).
    pub async fn start_on(port: u16, iss_param_supported: bool) -> Self {
        let quirks = Quirks {
            iss_param_supported,
            ..Quirks::default()
        };
        Self::launch(port, quirks)
    }

    /// An IdP with these quirks.
    pub async fn start_quirky(quirks: Quirks) -> Self {
        Self::launch(0, quirks)
    }

    fn launch(port: u16, quirks: Quirks) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind idp");
        let port = listener.local_addr().expect("addr").port();
        let path = quirks.path;
        let state = Arc::new(IdpState {
            issuer: format!("http://127.0.0.1:{port}{path}"),
            quirks,
            key: fixture_key("idp-key.pem"),
            other_key: fixture_key("unknown-key.pem"),
            grants: Mutex::new(HashMap::new()),
            token_calls: AtomicUsize::new(0),
            jwks_calls: AtomicUsize::new(0),
            attacker_key_fetches: AtomicUsize::new(0),
            rotate_after_first_jwks: AtomicBool::new(false),
            issued: Mutex::new(Vec::new()),
            login_expires_in: AtomicI64::new(300),
            refresh_expires_in: AtomicI64::new(300),
            expires_in_as_string: AtomicBool::new(false),
            token_type: Mutex::new("Bearer".into()),
            rotate_refresh_tokens: AtomicBool::new(true),
            id_token_on_refresh: Mutex::new(None),
            userinfo_sub: Mutex::new(SUB.into()),
            live_refresh_tokens: Mutex::new(Vec::new()),
            refresh_calls: AtomicUsize::new(0),
            refresh_reuse: AtomicUsize::new(0),
            refresh_delay_ms: AtomicU64::new(0),
            refuse_refresh: AtomicBool::new(false),
            revoked: Mutex::new(Vec::new()),
            revocation_delay_ms: AtomicU64::new(0),
            revocations_in_flight: AtomicUsize::new(0),
            most_revocations_at_once: AtomicUsize::new(0),
            pushed: Mutex::new(HashMap::new()),
            assertions: Mutex::new(Vec::new()),
            received_secrets: Mutex::new(Vec::new()),
            authenticated_at: Mutex::new(Vec::new()),
            minted: Mutex::new(HashMap::new()),
            narrowed_calls: AtomicUsize::new(0),
            exchange_calls: AtomicUsize::new(0),
            client_calls: AtomicUsize::new(0),
            route_expires_in: AtomicI64::new(300),
            id_token_claims: Mutex::new(serde_json::Map::new()),
            userinfo_claims: Mutex::new(serde_json::Map::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(|c| endpoints::configure(c, path))
        })
        .workers(1)
        // Each answer closes its connection: once stopped, the IdP is really gone (no pooled
        // connection to a stopping server lingers).
        .keep_alive(actix_web::http::KeepAlive::Disabled)
        .listen(listener)
        .expect("listen idp")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        TestIdp { state, handle }
    }

    /// The ID tokens issued from now on carry these claims too (over their own of the same
    /// name); replaces what an earlier call set.
    pub fn set_claims(&self, claims: Value) {
        *self.state.id_token_claims.lock().expect("claims") =
            claims.as_object().cloned().expect("claims are an object");
    }

    /// The same for userinfo answers.
    pub fn set_userinfo_claims(&self, claims: Value) {
        *self.state.userinfo_claims.lock().expect("claims") =
            claims.as_object().cloned().expect("claims are an object");
    }

    /// Registers an authorization code as if the user had signed in at the IdP.
    pub fn issue_code(
        &self,
        nonce: &str,
        challenge: &str,
        redirect_uri: &str,
        tweak: Tweak,
    ) -> String {
        let code = random("code");
        self.state.grants.lock().expect("grants").insert(
            code.clone(),
            Grant {
                sid: match tweak {
                    Tweak::Sid(sid) => sid.to_owned(),
                    _ => random("sid"),
                },
                nonce: nonce.into(),
                challenge: challenge.into(),
                redirect_uri: redirect_uri.into(),
                tweak,
            },
        );
        code
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }

    /// Takes `token` as a refresh token it issued (one a session stored before the test began
    /// holds).
    pub fn accept_refresh_token(&self, token: &str) {
        self.state
            .live_refresh_tokens
            .lock()
            .expect("rts")
            .push(token.to_owned());
    }

    /// A back-channel logout token with these claims, signed by the IdP's key (`k1`), or by a key
    /// the IdP never published when `forged`.
    pub fn logout_token(&self, claims: Value, forged: bool) -> String {
        self.logout_token_with_kid(claims, "k1", forged)
    }

    /// [`TestIdp::logout_token`] with this `kid` in its header.
    pub fn logout_token_with_kid(&self, claims: Value, kid: &str, forged: bool) -> String {
        let header = json!({ "alg": "RS256", "typ": "logout+jwt", "kid": kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key = if forged {
            &self.state.other_key
        } else {
            &self.state.key
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sign(key, &input)))
    }

    /// The claims of a valid logout token for `sid` (and the test user).
    pub fn logout_claims(&self, sid: Option<&str>, sub: Option<&str>) -> Value {
        let mut c = json!({
            "iss": self.state.issuer, "aud": CLIENT_ID, "iat": now(), "jti": random("jti"),
            "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
        });
        if let Some(sid) = sid {
            c["sid"] = json!(sid);
        }
        if let Some(sub) = sub {
            c["sub"] = json!(sub);
        }
        c
    }

    /// The access token the IdP issued last.
    pub fn last_access_token(&self) -> String {
        self.last_issued("at-")
    }

    /// The refresh token the IdP issued last.
    pub fn last_refresh_token(&self) -> String {
        self.last_issued("rt-")
    }

    fn last_issued(&self, prefix: &str) -> String {
        self.state
            .issued
            .lock()
            .expect("issued")
            .iter()
            .rev()
            .find(|t| t.starts_with(prefix))
            .cloned()
            .unwrap_or_default()
    }

    /// The URL of one of its endpoints (`/token`, `/revoke`…).
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.state.issuer)
    }

    pub fn set_expires_in(&self, login: i64, refresh: i64) {
        self.state.login_expires_in.store(login, Ordering::SeqCst);
        self.state
            .refresh_expires_in
            .store(refresh, Ordering::SeqCst);
    }

    /// What the access token `token` was minted for (see [`IdpState::minted`]).
    pub fn minted_for(&self, token: &str) -> String {
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let minted = self.state.minted.lock().expect("minted");
        minted.get(token).cloned().unwrap_or_default()
    }

    pub fn calls(&self, counter: &AtomicUsize) -> usize {
        counter.load(Ordering::SeqCst)
    }

    /// Each refresh and client-credentials answer waits this long (a slow IdP).
    pub fn set_refresh_delay(&self, ms: u64) {
        self.state.refresh_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Whether refreshes rotate the refresh token (reusing an old one revokes the grant).
    pub fn set_rotation(&self, rotate: bool) {
        self.state
            .rotate_refresh_tokens
            .store(rotate, Ordering::SeqCst);
    }
}

//! A small OIDC provider for integration tests: discovery, JWKS, and a token endpoint that checks
//! client authentication, redirect_uri, single-use codes and PKCE, then returns an ID token that a
//! test may have asked to be broken in one precise way.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "vestibule-test";
pub const CLIENT_SECRET: &str = "test-client-secret-9f8e7d";

/// One precise way to break the ID token (or the token response).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tweak {
    None,
    WrongAud,
    WrongNonce,
    WrongIss,
    /// `azp` names another client.
    WrongAzp,
    /// Two audiences and no `azp`.
    ExtraAudNoAzp,
    Expired,
    /// `iat` an hour in the future.
    IatInFuture,
    MissingNonce,
    MissingSub,
    UnknownKid,
    AlgNone,
    HsWithPublicKey,
    TamperedSignature,
    /// Signed by a key that is not in the JWKS at login time but appears on refetch (rotation).
    RotatedKey,
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
    key: RsaPrivateKey,
    other_key: RsaPrivateKey,
    grants: Mutex<HashMap<String, Grant>>,
    pub token_calls: AtomicUsize,
    pub jwks_calls: AtomicUsize,
    /// After the first JWKS fetch, also publish `other_key` (as "k2"): key rotation.
    pub rotate_after_first_jwks: AtomicBool,
    pub iss_param_supported: bool,
    /// Every token value handed out (for "never in a log" checks).
    pub issued: Mutex<Vec<String>>,
    /// `expires_in` of access tokens issued at login.
    pub login_expires_in: AtomicI64,
    /// `expires_in` of access tokens issued by a refresh.
    pub refresh_expires_in: AtomicI64,
    /// Refresh tokens that may be used (rotated: each use retires it).
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

fn fixture_key(name: &str) -> RsaPrivateKey {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read_to_string(path).expect("fixture key");
    RsaPrivateKey::from_pkcs1_pem(&pem).expect("PKCS#1 PEM")
}

fn jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    let public = key.to_public_key();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    })
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
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind idp");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(IdpState {
            issuer: format!("http://127.0.0.1:{port}"),
            key: fixture_key("idp-key.pem"),
            other_key: fixture_key("unknown-key.pem"),
            grants: Mutex::new(HashMap::new()),
            token_calls: AtomicUsize::new(0),
            jwks_calls: AtomicUsize::new(0),
            rotate_after_first_jwks: AtomicBool::new(false),
            iss_param_supported,
            issued: Mutex::new(Vec::new()),
            login_expires_in: AtomicI64::new(300),
            refresh_expires_in: AtomicI64::new(300),
            live_refresh_tokens: Mutex::new(Vec::new()),
            refresh_calls: AtomicUsize::new(0),
            refresh_reuse: AtomicUsize::new(0),
            refresh_delay_ms: AtomicU64::new(0),
            refuse_refresh: AtomicBool::new(false),
            revoked: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/token", web::post().to(token))
                .route("/revoke", web::post().to(revoke))
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
                sid: random("sid"),
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
}

async fn discovery(s: web::Data<IdpState>) -> HttpResponse {
    let i = &s.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/session/end"),
        "revocation_endpoint": format!("{i}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "authorization_response_iss_parameter_supported": s.iss_param_supported,
    }))
}

async fn jwks(s: web::Data<IdpState>) -> HttpResponse {
    let n = s.jwks_calls.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![jwk(&s.key, "k1")];
    if n >= 1 && s.rotate_after_first_jwks.load(Ordering::SeqCst) {
        keys.push(jwk(&s.other_key, "k2"));
    }
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": error }))
}

async fn token(
    s: web::Data<IdpState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    s.token_calls.fetch_add(1, Ordering::SeqCst);
    // client_secret_basic: base64(urlencode(id):urlencode(secret)).
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let basic_ok = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str());
    let post_ok = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    if !basic_ok && !post_ok {
        return HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }));
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        Some("refresh_token") => return refresh(&s, &form).await,
        _ => return oauth_error("unsupported_grant_type"),
    }
    let Some(grant) = form
        .get("code")
        .and_then(|c| s.grants.lock().expect("grants").remove(c))
    else {
        return oauth_error("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return oauth_error("invalid_grant");
    }
    let access = random("at");
    let refresh = random("rt");
    let id_token = id_token(&s, &grant);
    s.issued
        .lock()
        .expect("issued")
        .extend([access.clone(), refresh.clone(), id_token.clone()]);
    s.live_refresh_tokens
        .lock()
        .expect("rts")
        .push(refresh.clone());
    HttpResponse::Ok().json(json!({
        "access_token": access, "token_type": "Bearer",
        "expires_in": s.login_expires_in.load(Ordering::SeqCst),
        "refresh_token": refresh, "id_token": id_token,
    }))
}

/// `grant_type=refresh_token` with rotation: each refresh token works once.
async fn refresh(s: &IdpState, form: &HashMap<String, String>) -> HttpResponse {
    s.refresh_calls.fetch_add(1, Ordering::SeqCst);
    let delay = s.refresh_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if s.refuse_refresh.load(Ordering::SeqCst) {
        return oauth_error("invalid_grant");
    }
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    {
        let mut live = s.live_refresh_tokens.lock().expect("rts");
        match live.iter().position(|t| *t == presented) {
            Some(i) => {
                live.remove(i);
            }
            None => {
                s.refresh_reuse.fetch_add(1, Ordering::SeqCst);
                return oauth_error("invalid_grant");
            }
        }
    }
    let access = random("at");
    let rotated = random("rt");
    s.issued
        .lock()
        .expect("issued")
        .extend([access.clone(), rotated.clone()]);
    s.live_refresh_tokens
        .lock()
        .expect("rts")
        .push(rotated.clone());
    HttpResponse::Ok().json(json!({
        "access_token": access, "token_type": "Bearer",
        "expires_in": s.refresh_expires_in.load(Ordering::SeqCst), "refresh_token": rotated,
    }))
}

async fn revoke(s: web::Data<IdpState>, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    if let Some(t) = form.get("token") {
        s.revoked.lock().expect("revoked").push(t.clone());
        s.live_refresh_tokens
            .lock()
            .expect("rts")
            .retain(|x| x != t);
    }
    HttpResponse::Ok().finish()
}

fn id_token(s: &IdpState, g: &Grant) -> String {
    let t = now();
    let mut claims = json!({
        "iss": s.issuer, "sub": "user-42", "aud": CLIENT_ID, "iat": t, "exp": t + 300,
        "nonce": g.nonce, "sid": g.sid, "name": "Ada Lovelace", "email": "ada@example.test",
    });
    match g.tweak {
        Tweak::WrongAud => claims["aud"] = json!("someone-else"),
        Tweak::WrongNonce => claims["nonce"] = json!("not-the-nonce"),
        Tweak::WrongIss => claims["iss"] = json!("http://evil.example"),
        Tweak::WrongAzp => claims["azp"] = json!("another-client"),
        Tweak::ExtraAudNoAzp => claims["aud"] = json!([CLIENT_ID, "another-client"]),
        Tweak::Expired => {
            claims["iat"] = json!(t - 7200);
            claims["exp"] = json!(t - 3600);
        }
        Tweak::IatInFuture => {
            claims["iat"] = json!(t + 3600);
            claims["exp"] = json!(t + 7200);
        }
        Tweak::MissingNonce => {
            claims.as_object_mut().map(|c| c.remove("nonce"));
        }
        Tweak::MissingSub => {
            claims.as_object_mut().map(|c| c.remove("sub"));
        }
        _ => {}
    }
    let header = match g.tweak {
        Tweak::AlgNone => json!({ "alg": "none", "typ": "JWT" }),
        Tweak::HsWithPublicKey => json!({ "alg": "HS256", "typ": "JWT", "kid": "k1" }),
        Tweak::UnknownKid | Tweak::RotatedKey => {
            json!({ "alg": "RS256", "typ": "JWT", "kid": "k2" })
        }
        _ => json!({ "alg": "RS256", "typ": "JWT", "kid": "k1" }),
    };
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Vec<u8> = match g.tweak {
        Tweak::AlgNone => vec![],
        Tweak::HsWithPublicKey => {
            // The classic confusion attack: HMAC keyed with the IdP's (public) RSA key.
            let pem = s
                .key
                .to_public_key()
                .to_public_key_pem(Default::default())
                .expect("pem");
            let mut mac = Hmac::<Sha256>::new_from_slice(pem.as_bytes()).expect("hmac key");
            mac.update(signing_input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Tweak::UnknownKid | Tweak::RotatedKey => sign(&s.other_key, &signing_input),
        Tweak::TamperedSignature => {
            let mut sig = sign(&s.key, &signing_input);
            sig[10] ^= 0xff;
            sig
        }
        _ => sign(&s.key, &signing_input),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

impl TestIdp {
    /// A back-channel logout token with these claims, signed by the IdP's key (`k1`), or by a key
    /// the IdP never published when `forged`.
    pub fn logout_token(&self, claims: Value, forged: bool) -> String {
        let header = json!({ "alg": "RS256", "typ": "logout+jwt", "kid": "k1" });
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
        self.state
            .issued
            .lock()
            .expect("issued")
            .iter()
            .rev()
            .find(|t| t.starts_with("at-"))
            .cloned()
            .unwrap_or_default()
    }
}

fn sign(key: &RsaPrivateKey, input: &str) -> Vec<u8> {
    SigningKey::<Sha256>::new(key.clone())
        .sign(input.as_bytes())
        .to_vec()
}

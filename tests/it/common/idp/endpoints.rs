//! The test IdP's HTTP endpoints, all under the issuer's path, and RFC 8414 metadata where its
//! [`Quirks`](super::Quirks) put it.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::id_token::{id_token, refreshed_id_token};
use super::{
    CLIENT_ID, CLIENT_SECRET, ClientAuthCheck, IdpState, OAUTH2_ID, RevocationIn, fixture, now,
    random,
};

type Form = web::Form<HashMap<String, String>>;

pub(super) fn configure(cfg: &mut web::ServiceConfig, path: &str) {
    const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
    cfg.route(
        &format!("{WELL_KNOWN}{path}"),
        web::get().to(oauth_metadata),
    )
    .route(
        &format!("{path}{WELL_KNOWN}"),
        web::get().to(oauth_metadata_appended),
    )
    .service(
        web::scope(path)
            .route(
                "/.well-known/openid-configuration",
                web::get().to(discovery),
            )
            .route("/jwks", web::get().to(jwks))
            .route("/attacker/{what}", web::get().to(attacker_keys))
            .route("/token", web::post().to(token))
            .route("/revoke", web::post().to(revoke))
            .route("/par", web::post().to(par))
            .route("/par-requests", web::get().to(pushed_request))
            .route("/userinfo", web::get().to(userinfo)),
    );
}

async fn discovery(s: web::Data<IdpState>) -> HttpResponse {
    let i = &s.issuer;
    let q = &s.quirks;
    let mut doc = json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/session/end"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "authorization_response_iss_parameter_supported": q.iss_param_supported,
    });
    if q.revocation_in == RevocationIn::Discovery {
        doc["revocation_endpoint"] = json!(format!("{i}/revoke"));
    }
    if q.par {
        doc["pushed_authorization_request_endpoint"] = json!(format!("{i}/par"));
    }
    if q.require_par {
        doc["require_pushed_authorization_requests"] = json!(true);
    }
    HttpResponse::Ok().json(doc)
}

/// RFC 8414 metadata at `{origin}/.well-known/oauth-authorization-server{path}`.
async fn oauth_metadata(s: web::Data<IdpState>) -> HttpResponse {
    metadata_if(&s, RevocationIn::OAuthMetadata)
}

/// The same at `{issuer}/.well-known/oauth-authorization-server`.
async fn oauth_metadata_appended(s: web::Data<IdpState>) -> HttpResponse {
    metadata_if(&s, RevocationIn::OAuthMetadataAppended)
}

fn metadata_if(s: &IdpState, form: RevocationIn) -> HttpResponse {
    if s.quirks.revocation_in != form {
        return HttpResponse::NotFound().finish();
    }
    let i = &s.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "revocation_endpoint": format!("{i}/revoke"),
        "response_types_supported": ["code"],
    }))
}

/// A public key as published: without `alg`, as many IdPs publish theirs (it is optional), so
/// that which algorithms are accepted is the client's choice, not the key's.
pub(super) fn jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    let public = key.to_public_key();
    json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    })
}

async fn jwks(s: web::Data<IdpState>) -> HttpResponse {
    let n = s.jwks_calls.fetch_add(1, Ordering::SeqCst);
    let mut keys = vec![jwk(&s.key, "k1")];
    if n >= 1 && s.rotate_after_first_jwks.load(Ordering::SeqCst) {
        keys.push(jwk(&s.other_key, "k2"));
    }
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

/// What an ID token's `jku` or `x5u` header points to: the attacker's key as a JWKS. Fetching
/// it at all is the fault the hostile ID-token rows look for.
async fn attacker_keys(s: web::Data<IdpState>) -> HttpResponse {
    s.attacker_key_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "keys": [jwk(&s.other_key, super::ATTACKER_KID)] }))
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": error }))
}

fn invalid_client() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }))
}

/// Client authentication as the quirks want it. Assertions must be fresh (`jti` once), for
/// this client, and for the token endpoint.
fn authenticated(s: &IdpState, req: &HttpRequest, form: &HashMap<String, String>) -> bool {
    let ok = match &s.quirks.client_auth {
        ClientAuthCheck::Secret => {
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
            basic_ok || post_ok
        }
        ClientAuthCheck::PrivateKeyJwt { public_key, alg } => {
            let (Some(kind), Some(assertion)) = (
                form.get("client_assertion_type"),
                form.get("client_assertion"),
            ) else {
                return false;
            };
            s.received_secrets
                .lock()
                .expect("received")
                .push(assertion.clone());
            let pem = fixture(public_key);
            let key = match alg {
                jsonwebtoken::Algorithm::ES256 => {
                    jsonwebtoken::DecodingKey::from_ec_pem(pem.as_bytes())
                }
                _ => jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()),
            }
            .expect("fixture public key");
            let mut v = jsonwebtoken::Validation::new(*alg);
            v.set_audience(&[format!("{}/token", s.issuer)]);
            v.set_issuer(&[CLIENT_ID]);
            v.sub = Some(CLIENT_ID.into());
            v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
            let decoded = jsonwebtoken::decode::<Value>(assertion, &key, &v);
            let kid = jsonwebtoken::decode_header(assertion)
                .ok()
                .and_then(|h| h.kid);
            match decoded {
                Ok(data)
                    if kind == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                        && form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                        && !form.contains_key("client_secret")
                        && req.headers().get("authorization").is_none() =>
                {
                    let jti = data.claims["jti"].as_str().unwrap_or_default().to_owned();
                    let mut seen = s.assertions.lock().expect("assertions");
                    if jti.is_empty() || seen.iter().any(|(_, j)| *j == jti) {
                        return false;
                    }
                    seen.push((kid, jti));
                    true
                }
                _ => false,
            }
        }
    };
    if ok {
        s.authenticated_at
            .lock()
            .expect("authenticated_at")
            .push(req.path().to_owned());
    }
    ok
}

/// `expires_in` as configured: a number, a string, or (negative) none.
fn expires_in(s: &IdpState, secs: i64) -> Option<Value> {
    if secs < 0 {
        None
    } else if s.expires_in_as_string.load(Ordering::SeqCst) {
        Some(json!(secs.to_string()))
    } else {
        Some(json!(secs))
    }
}

async fn token(s: web::Data<IdpState>, req: HttpRequest, form: Form) -> HttpResponse {
    s.token_calls.fetch_add(1, Ordering::SeqCst);
    if !authenticated(&s, &req, &form) {
        return invalid_client();
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {}
        Some("refresh_token") => return refresh(&s, &form).await,
        Some("client_credentials") => return client_credentials(&s, &form).await,
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => return exchange(&s, &form),
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
    if !verifier.is_empty() {
        s.received_secrets
            .lock()
            .expect("received")
            .push(verifier.clone());
    }
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return oauth_error("invalid_grant");
    }
    let access = random("at");
    let refresh = random("rt");
    let mut answer = json!({
        "access_token": access,
        "token_type": *s.token_type.lock().expect("token_type"),
        "refresh_token": refresh,
    });
    if let Some(e) = expires_in(&s, s.login_expires_in.load(Ordering::SeqCst)) {
        answer["expires_in"] = e;
    }
    let mut issued = vec![access, refresh.clone()];
    if !s.quirks.oauth2_only {
        let id_token = id_token(&s, &grant);
        answer["id_token"] = json!(id_token);
        issued.push(id_token);
    }
    mint(&s, &issued[0], "login".into());
    s.issued.lock().expect("issued").extend(issued);
    s.live_refresh_tokens.lock().expect("rts").push(refresh);
    HttpResponse::Ok().json(answer)
}

fn mint(s: &IdpState, token: &str, purpose: String) {
    s.minted
        .lock()
        .expect("minted")
        .insert(token.to_owned(), purpose);
}

/// RFC 8707: a resource must be an absolute URI; this IdP knows only `https://` ones.
fn bad_target(form: &HashMap<String, String>) -> bool {
    form.get("resource")
        .is_some_and(|r| !r.starts_with("https://"))
}

/// What a narrowed or client token was asked for, as [`IdpState::minted`] records it.
fn purpose(form: &HashMap<String, String>) -> String {
    let mut p = Vec::new();
    for k in ["audience", "resource", "scope"] {
        if let Some(v) = form.get(k) {
            p.push(format!("{k}={v}"));
        }
    }
    p.join("&")
}

/// A route token's answer: `prefix`-ed access token, `route_expires_in`.
fn route_answer(s: &IdpState, prefix: &str, purpose: String) -> (String, Value) {
    let access = random(prefix);
    let mut answer = json!({
        "access_token": access,
        "token_type": "Bearer",
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
    });
    if let Some(e) = expires_in(s, s.route_expires_in.load(Ordering::SeqCst)) {
        answer["expires_in"] = e;
    }
    mint(s, &access, purpose);
    s.issued.lock().expect("issued").push(access.clone());
    (access, answer)
}

/// RFC 6749 4.4: the application's own token.
async fn client_credentials(s: &IdpState, form: &HashMap<String, String>) -> HttpResponse {
    s.client_calls.fetch_add(1, Ordering::SeqCst);
    let delay = s.refresh_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if bad_target(form) {
        return oauth_error("invalid_target");
    }
    let (_, answer) = route_answer(s, "ct", format!("client:{}", purpose(form)));
    HttpResponse::Ok().json(answer)
}

/// RFC 8693: exchanges a live access token of this IdP for one meant for `audience`.
fn exchange(s: &IdpState, form: &HashMap<String, String>) -> HttpResponse {
    s.exchange_calls.fetch_add(1, Ordering::SeqCst);
    let subject = form.get("subject_token").cloned().unwrap_or_default();
    let live = subject.starts_with("at-") && s.issued.lock().expect("issued").contains(&subject);
    if !live
        || form.get("subject_token_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:token-type:access_token")
    {
        return oauth_error("invalid_grant");
    }
    if form
        .get("audience")
        .is_some_and(|a| a.contains("forbidden"))
    {
        return oauth_error("invalid_target");
    }
    let (_, answer) = route_answer(s, "xt", format!("exchange:{}", purpose(form)));
    HttpResponse::Ok().json(answer)
}

/// `grant_type=refresh_token`, with rotation (each refresh token works once) unless turned off.
async fn refresh(s: &IdpState, form: &HashMap<String, String>) -> HttpResponse {
    s.refresh_calls.fetch_add(1, Ordering::SeqCst);
    let delay = s.refresh_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    if s.refuse_refresh.load(Ordering::SeqCst) {
        return oauth_error("invalid_grant");
    }
    if bad_target(form) {
        return oauth_error("invalid_target");
    }
    let narrowed = form.contains_key("resource") || form.contains_key("scope");
    if narrowed {
        s.narrowed_calls.fetch_add(1, Ordering::SeqCst);
    }
    let rotate = s.rotate_refresh_tokens.load(Ordering::SeqCst);
    let presented = form.get("refresh_token").cloned().unwrap_or_default();
    {
        let mut live = s.live_refresh_tokens.lock().expect("rts");
        match live.iter().position(|t| *t == presented) {
            Some(i) if rotate => {
                live.remove(i);
            }
            Some(_) => {}
            None => {
                s.refresh_reuse.fetch_add(1, Ordering::SeqCst);
                return oauth_error("invalid_grant");
            }
        }
    }
    let access = random("at");
    let mut answer = json!({
        "access_token": access,
        "token_type": *s.token_type.lock().expect("token_type"),
    });
    let lifetime = if narrowed {
        &s.route_expires_in
    } else {
        &s.refresh_expires_in
    };
    if let Some(e) = expires_in(s, lifetime.load(Ordering::SeqCst)) {
        answer["expires_in"] = e;
    }
    let purpose = if narrowed {
        purpose(form)
    } else {
        "refresh".into()
    };
    mint(s, &access, purpose);
    let mut issued = vec![access];
    if rotate {
        let rotated = random("rt");
        answer["refresh_token"] = json!(rotated);
        s.live_refresh_tokens
            .lock()
            .expect("rts")
            .push(rotated.clone());
        issued.push(rotated);
    }
    if let Some(sub) = s.id_token_on_refresh.lock().expect("sub").clone() {
        let id_token = refreshed_id_token(s, &sub);
        answer["id_token"] = json!(id_token);
        issued.push(id_token);
    }
    s.issued.lock().expect("issued").extend(issued);
    HttpResponse::Ok().json(answer)
}

async fn revoke(s: web::Data<IdpState>, req: HttpRequest, form: Form) -> HttpResponse {
    if !authenticated(&s, &req, &form) {
        return invalid_client();
    }
    let now = s.revocations_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.most_revocations_at_once.fetch_max(now, Ordering::SeqCst);
    let delay = s.revocation_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    s.revocations_in_flight.fetch_sub(1, Ordering::SeqCst);
    if let Some(t) = form.get("token") {
        s.revoked.lock().expect("revoked").push(t.clone());
        s.live_refresh_tokens
            .lock()
            .expect("rts")
            .retain(|x| x != t);
    }
    HttpResponse::Ok().finish()
}

/// RFC 9126: stores the request, answers with its `request_uri`.
async fn par(s: web::Data<IdpState>, req: HttpRequest, form: Form) -> HttpResponse {
    if !s.quirks.par {
        return HttpResponse::NotFound().finish();
    }
    if !authenticated(&s, &req, &form) {
        return invalid_client();
    }
    let required = [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
    ];
    if required.iter().any(|k| !form.contains_key(*k)) {
        return oauth_error("invalid_request");
    }
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{}", random("par"));
    let mut params = form.into_inner();
    params.remove("client_assertion");
    params.remove("client_assertion_type");
    params.remove("client_secret");
    s.pushed
        .lock()
        .expect("pushed")
        .insert(request_uri.clone(), params);
    HttpResponse::Created().json(json!({ "request_uri": request_uri, "expires_in": 60 }))
}

/// Test-only: the parameters pushed under `request_uri` (what `/authorize` would read).
async fn pushed_request(s: web::Data<IdpState>, req: HttpRequest) -> HttpResponse {
    let uri: String = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "request_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    match s.pushed.lock().expect("pushed").get(&uri) {
        Some(params) => HttpResponse::Ok().json(params),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn userinfo(s: web::Data<IdpState>, req: HttpRequest) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let known =
        bearer.starts_with("at-") && s.issued.lock().expect("issued").iter().any(|t| t == bearer);
    if !known {
        return HttpResponse::Unauthorized()
            .insert_header(("www-authenticate", "Bearer error=\"invalid_token\""))
            .finish();
    }
    if s.quirks.oauth2_only {
        return HttpResponse::Ok().json(json!({
            "id": OAUTH2_ID, "login": "octocat", "name": "The Octocat", "created_at": now(),
        }));
    }
    let mut info = json!({
        "sub": *s.userinfo_sub.lock().expect("sub"),
        "email": "ada@example.test",
        "picture": "https://example.test/ada.png",
        "name": "Someone Else",
    });
    super::merge_claims(&mut info, &s.userinfo_claims.lock().expect("claims"));
    HttpResponse::Ok().json(info)
}

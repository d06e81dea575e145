//! The hostile-input matrix of SECURITY.md. Each category is one table; every row is an attack
//! that must be refused with a clear 4xx, and after every row the same invariants are checked:
//! - the status and error code are the expected ones;
//! - no session was created and none ended: the store's session count is unchanged and a
//!   signed-in bystander (the "victim") is still signed in;
//! - nothing reached the upstream API;
//! - auth answers are `no-store` with `Referrer-Policy: no-referrer`;
//! - the process still serves.
//!
//! Sessions live in a real redis-server so that the count is the store's, not a guess.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

/// A proxy on Redis with an API route, its IdP and upstream, and a signed-in bystander.
struct World {
    idp: TestIdp,
    api: Upstream,
    redis: RedisServer,
    proxy: Proxy,
    victim: Browser,
}

/// What must not change while an attack is refused.
#[derive(Clone, Copy, Debug)]
struct Before {
    sessions: usize,
    hits: usize,
}

impl World {
    async fn new(iss_param_supported: bool, extra: &str) -> World {
        let idp = TestIdp::start_with(iss_param_supported).await;
        let api = Upstream::start().await;
        let redis = RedisServer::start();
        let config = format!("{extra}{}", api.api_route("required"));
        let proxy = Proxy::start_with(&idp.state.issuer, Store::Redis(&redis), &config).await;
        let mut w = World {
            idp,
            api,
            redis,
            proxy,
            victim: Browser::new(),
        };
        w.victim = w.sign_in().await;
        w
    }

    /// A new browser signed in through the whole flow (with RFC 9207 `iss`).
    async fn sign_in(&self) -> Browser {
        let mut b = Browser::new();
        let s = start_login(&mut b, &self.proxy, "/").await;
        let code = s.code(&self.idp, Tweak::None);
        let params = [
            ("code", code.as_str()),
            ("state", s.state.as_str()),
            ("iss", self.idp.state.issuer.as_str()),
        ];
        let res = b.get(&callback_url(&self.proxy, &params)).await;
        assert_eq!(res.status(), 302, "sign-in completes");
        b
    }

    fn before(&self) -> Before {
        Before {
            sessions: self.redis.session_count(),
            hits: self.api.hit_count(),
        }
    }

    fn victim_id(&self) -> String {
        self.victim.cookies["vestibule"].clone()
    }

    /// The invariants of a refused attack (see the module comment).
    async fn refused(
        &mut self,
        case: &str,
        res: reqwest::Response,
        status: u16,
        code: &str,
        before: Before,
    ) {
        assert_eq!(res.status().as_u16(), status, "{case}: status");
        // (A 431 is answered before routing, by the head-size limit.)
        let is_auth = res.url().path().starts_with("/auth/") && status != 431;
        if is_auth {
            assert_eq!(res.headers()["cache-control"], "no-store", "{case}");
            assert_eq!(res.headers()["referrer-policy"], "no-referrer", "{case}");
            assert_eq!(res.headers()["x-frame-options"], "DENY", "{case}");
        }
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        assert!(
            !set_cookies
                .iter()
                .any(|c| c.starts_with("vestibule=") && !c.starts_with("vestibule=;")),
            "{case}: no session cookie is set: {set_cookies:?}"
        );
        let body = res.text().await.unwrap_or_default();
        assert!(body.contains(code), "{case}: answer names `{code}`: {body}");
        self.unchanged(case, before).await;
    }

    /// No session created or ended, nothing forwarded, the bystander signed in, still serving.
    async fn unchanged(&mut self, case: &str, before: Before) {
        assert_eq!(
            self.redis.session_count(),
            before.sessions,
            "{case}: no session created or ended"
        );
        assert_eq!(
            self.api.hit_count(),
            before.hits,
            "{case}: nothing forwarded"
        );
        assert_eq!(
            self.victim.session(&self.proxy).await.status(),
            200,
            "{case}: the bystander is still signed in"
        );
        assert_still_serving(&self.proxy).await;
    }
}

/// A browser with exactly this `Cookie` header.
async fn with_cookie(
    w: &World,
    path: &str,
    cookie: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .get(w.proxy.url(path))
        .header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

// ---------------------------------------------------------------------------------------------
// Callback

#[derive(Debug, Clone, Copy)]
enum Cb {
    ForgedState,
    ReplayedState,
    CrossBrowserState,
    NoLoginCookie,
    TamperedLoginCookie,
    DuplicatedLoginCookie,
    MissingState,
    EmptyState,
    OversizedState,
    MissingCode,
    UnknownCode,
    CodeOfAnotherLogin,
    IssMixUp,
    IssMissing,
    IdpAccessDenied,
    IdpServerError,
    DuplicatedState,
    DuplicatedCode,
    DuplicatedIss,
    OversizedCode,
    SignedInBrowserForgedState,
}

#[actix_web::test]
async fn callback_attacks_are_refused() {
    let mut w = World::new(true, "").await;
    let iss = w.idp.state.issuer.clone();
    let table: &[(Cb, u16, &str)] = &[
        (Cb::ForgedState, 400, "invalid_state"),
        (Cb::ReplayedState, 400, "invalid_state"),
        (Cb::CrossBrowserState, 400, "state_from_other_browser"),
        (Cb::NoLoginCookie, 400, "no_login_in_progress"),
        (Cb::TamperedLoginCookie, 400, "state_from_other_browser"),
        (Cb::DuplicatedLoginCookie, 400, "no_login_in_progress"),
        (Cb::MissingState, 400, "missing_state"),
        (Cb::EmptyState, 400, "missing_state"),
        (Cb::OversizedState, 400, "invalid_state"),
        (Cb::MissingCode, 400, "missing_code"),
        (Cb::UnknownCode, 400, "token_request_refused"),
        (Cb::CodeOfAnotherLogin, 400, "token_request_refused"),
        (Cb::IssMixUp, 400, "issuer_mismatch"),
        (Cb::IssMissing, 400, "issuer_mismatch"),
        (Cb::IdpAccessDenied, 403, "access_denied"),
        (Cb::IdpServerError, 400, "idp_error"),
        (Cb::DuplicatedState, 400, "duplicate_parameter"),
        (Cb::DuplicatedCode, 400, "duplicate_parameter"),
        (Cb::DuplicatedIss, 400, "duplicate_parameter"),
        (Cb::OversizedCode, 431, "request_header_too_large"),
        (Cb::SignedInBrowserForgedState, 400, "invalid_state"),
    ];
    for &(row, status, code) in table {
        let case = format!("{row:?}");
        // This row needs a browser signed in first: a session the attack must not end.
        let mut b = if matches!(row, Cb::SignedInBrowserForgedState) {
            w.sign_in().await
        } else {
            Browser::new()
        };
        let s = start_login(&mut b, &w.proxy, "/").await;
        let code_ok = s.code(&w.idp, Tweak::None);
        let good = [
            ("code", code_ok.as_str()),
            ("state", s.state.as_str()),
            ("iss", iss.as_str()),
        ];
        let before = w.before();
        let url = |params: &[(&str, &str)]| callback_url(&w.proxy, params);
        let big = "c".repeat(40_000);
        let long_state = "s".repeat(8_000);
        let res = match row {
            Cb::ForgedState | Cb::SignedInBrowserForgedState => {
                b.get(&url(&[good[0], ("state", "forged-state"), good[2]]))
                    .await
            }
            Cb::ReplayedState => {
                // The first use of this state succeeds (counted), the replay must not.
                let first = b.get(&url(&good)).await;
                assert_eq!(first.status(), 302, "{case}: first use");
                let before = w.before();
                let res = b.get(&url(&good)).await;
                w.refused(&case, res, status, code, before).await;
                assert_eq!(b.session(&w.proxy).await.status(), 200, "{case}");
                continue;
            }
            Cb::CrossBrowserState => {
                let mut victim = Browser::new();
                let _ = start_login(&mut victim, &w.proxy, "/").await;
                victim.get(&url(&good)).await
            }
            Cb::NoLoginCookie => Browser::new().get(&url(&good)).await,
            Cb::TamperedLoginCookie => {
                let c = b.cookies.get_mut("vestibule-login").expect("login cookie");
                let flipped = if c.starts_with('A') { "B" } else { "A" };
                c.replace_range(0..1, flipped);
                b.get(&url(&good)).await
            }
            Cb::DuplicatedLoginCookie => {
                let login = b.cookies["vestibule-login"].clone();
                let cookie = format!("vestibule-login={login}; vestibule-login={login}");
                with_cookie(&w, &url(&good)[w.proxy.base.len()..], &cookie, &[]).await
            }
            Cb::MissingState => b.get(&url(&[good[0], good[2]])).await,
            Cb::EmptyState => b.get(&url(&[good[0], ("state", ""), good[2]])).await,
            Cb::OversizedState => {
                b.get(&url(&[good[0], ("state", &long_state), good[2]]))
                    .await
            }
            Cb::MissingCode => b.get(&url(&[good[1], good[2]])).await,
            Cb::UnknownCode => {
                b.get(&url(&[("code", "stolen-code"), good[1], good[2]]))
                    .await
            }
            Cb::CodeOfAnotherLogin => {
                // The attacker's own code (his PKCE challenge) injected into this login.
                let mut attacker = Browser::new();
                let theirs = start_login(&mut attacker, &w.proxy, "/").await;
                let code = theirs.code(&w.idp, Tweak::None);
                b.get(&url(&[("code", &code), good[1], good[2]])).await
            }
            Cb::IssMixUp => {
                b.get(&url(&[good[0], good[1], ("iss", "http://evil.example")]))
                    .await
            }
            Cb::IssMissing => b.get(&url(&[good[0], good[1]])).await,
            Cb::IdpAccessDenied => {
                b.get(&url(&[("error", "access_denied"), good[1], good[2]]))
                    .await
            }
            Cb::IdpServerError => {
                let res = b
                    .get(&url(&[
                        ("error", "server_error"),
                        ("error_description", "<script>alert(1)</script>"),
                        good[1],
                        good[2],
                    ]))
                    .await;
                assert_eq!(
                    res.headers()["content-security-policy"],
                    "default-src 'none'; frame-ancestors 'none'"
                );
                let status = res.status();
                let page = res.text().await.expect("page");
                assert!(!page.contains("<script>alert"), "{case}: escaped: {page}");
                assert_eq!(status, 400);
                w.unchanged(&case, before).await;
                continue;
            }
            Cb::DuplicatedState => b.get(&url(&[good[0], good[1], good[1], good[2]])).await,
            Cb::DuplicatedCode => b.get(&url(&[good[0], good[0], good[1], good[2]])).await,
            Cb::DuplicatedIss => b.get(&url(&[good[0], good[1], good[2], good[2]])).await,
            Cb::OversizedCode => b.get(&url(&[("code", &big), good[1], good[2]])).await,
        };
        let signed_in_before = b.cookies.contains_key("vestibule");
        w.refused(&case, res, status, code, before).await;
        if signed_in_before {
            assert_eq!(
                b.session(&w.proxy).await.status(),
                200,
                "{case}: the browser's own session did not end"
            );
        }
    }
}

#[actix_web::test]
async fn expired_login_state_is_refused() {
    let mut w = World::new(false, "login_timeout = \"1s\"\n").await;
    // The login timeout cannot be below a second; that second has to pass.
    let mut b = Browser::new();
    let s = start_login(&mut b, &w.proxy, "/").await;
    let code = s.code(&w.idp, Tweak::None);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let before = w.before();
    let res = call_back(&mut b, &w.proxy, &code, &s.state).await;
    w.refused("expired state", res, 400, "", before).await;
}

// ---------------------------------------------------------------------------------------------
// ID token

#[actix_web::test]
async fn id_token_attacks_are_refused() {
    let mut w = World::new(false, "").await;
    for tweak in [
        Tweak::WrongAud,
        Tweak::WrongNonce,
        Tweak::MissingNonce,
        Tweak::WrongIss,
        Tweak::WrongAzp,
        Tweak::ExtraAudNoAzp,
        Tweak::Expired,
        Tweak::IatInFuture,
        Tweak::MissingSub,
        Tweak::UnknownKid,
        Tweak::AlgNone,
        Tweak::HsWithPublicKey,
        Tweak::TamperedSignature,
    ] {
        let mut b = Browser::new();
        let s = start_login(&mut b, &w.proxy, "/").await;
        let code = s.code(&w.idp, tweak);
        let before = w.before();
        let res = call_back(&mut b, &w.proxy, &code, &s.state).await;
        w.refused(&format!("{tweak:?}"), res, 400, "invalid_id_token", before)
            .await;
    }
}

// ---------------------------------------------------------------------------------------------
// Cookies

#[actix_web::test]
async fn forged_cookies_get_no_session() {
    let mut w = World::new(false, "").await;
    let id = w.victim_id();
    let mut flipped = id.clone();
    let c = if flipped.ends_with('A') { "B" } else { "A" };
    flipped.replace_range(flipped.len() - 1.., c);
    // Another deployment (its own IdP, the same Redis): its cookie means nothing here.
    let other_idp = TestIdp::start().await;
    let other = Proxy::start(&other_idp, Store::Redis(&w.redis)).await;
    let mut other_browser = signed_in(&other, &other_idp).await;
    let foreign = other_browser.cookies["vestibule"].clone();
    let attacker = w.sign_in().await;
    let attacker_id = attacker.cookies["vestibule"].clone();

    let table: Vec<(&str, String)> = vec![
        ("tampered", format!("vestibule={flipped}")),
        ("truncated", format!("vestibule={}", &id[..id.len() - 1])),
        ("extended", format!("vestibule={id}A")),
        ("empty", "vestibule=".to_owned()),
        ("quoted", format!("vestibule=\"{id}\"")),
        ("not base64url", format!("vestibule={}", "*".repeat(43))),
        (
            "another deployment's session",
            format!("vestibule={foreign}"),
        ),
        (
            "doubled: two live sessions",
            format!("vestibule={attacker_id}; vestibule={id}"),
        ),
        (
            "doubled: valid then forged",
            format!("vestibule={id}; vestibule={flipped}"),
        ),
        (
            "doubled: forged then valid",
            format!("vestibule={flipped}; vestibule={id}"),
        ),
        ("percent-encoded name", format!("vestib%75le={id}")),
        (
            "id under the login cookie's name",
            format!("vestibule-login={id}"),
        ),
        ("name with a prefix", format!("__Host-vestibule={id}")),
    ];
    for (case, cookie) in &table {
        let before = w.before();
        let res = with_cookie(&w, "/auth/session", cookie, &[("x-csrf", "1")]).await;
        w.refused(case, res, 401, "unauthenticated", before).await;
        let res = with_cookie(&w, "/api/x", cookie, &[("x-csrf", "1")]).await;
        w.refused(case, res, 401, "unauthenticated", before).await;
    }
    assert_eq!(
        other_browser.session(&other).await.status(),
        200,
        "the other deployment's session was not touched"
    );
    // Control: an unrelated malformed or non-UTF-8 cookie beside ours does not hide it.
    let res = with_cookie(
        &w,
        "/auth/session",
        &format!("junk; other=\"x; vestibule={id}; theme=dark"),
        &[("x-csrf", "1")],
    )
    .await;
    assert_eq!(res.status(), 200, "valid cookie among junk");
}

#[actix_web::test]
async fn expired_session_cookie_gets_no_session() {
    let mut w = World::new(false, "idle_timeout = \"1s\"\ncache_ttl = \"0s\"\n").await;
    let b = w.sign_in().await;
    let expired = b.cookies["vestibule"].clone();
    // The bystander (same idle timeout) would expire too: keep it alive while the other idles.
    for _ in 0..5 {
        assert_eq!(w.victim.session(&w.proxy).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let before = w.before();
    let res = with_cookie(
        &w,
        "/auth/session",
        &format!("vestibule={expired}"),
        &[("x-csrf", "1")],
    )
    .await;
    w.refused("idle-expired session", res, 401, "unauthenticated", before)
        .await;
}

// ---------------------------------------------------------------------------------------------
// return_to

#[actix_web::test]
async fn return_to_bypasses_fall_back_to_root() {
    let w = World::new(false, "").await;
    let long = format!("/{}", "a".repeat(5_000));
    let table: Vec<(&str, &str)> = vec![
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\/evil.example", "/"),
        ("/\\/evil.example", "/"),
        ("/%2f%2fevil.example", "/"),
        ("/%2F/evil.example", "/"),
        ("/%5c%5cevil.example", "/"),
        ("%2f%2fevil.example", "/"),
        ("https://evil.example", "/"),
        ("HTTPS://evil.example", "/"),
        ("http:evil.example", "/"),
        ("//user@evil.example", "/"),
        ("https://app@evil.example", "/"),
        ("@evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("JaVaScRiPt:alert(1)", "/"),
        ("data:text/html,<script>alert(1)</script>", "/"),
        ("/\t/evil.example", "/"),
        ("/\r\n/evil.example", "/"),
        ("/\r\nSet-Cookie: vestibule=x", "/"),
        ("/\u{0}evil", "/"),
        ("\u{1f}//evil.example", "/"),
        (" //evil.example", "/"),
        ("/\u{2028}/evil.example", "/"),
        (long.as_str(), "/"),
        // Controls: same-origin paths survive, encoded bytes stay encoded.
        ("/deep/link?q=1#top", "/deep/link?q=1#top"),
        ("/x@evil.example", "/x@evil.example"),
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),
    ];
    for (given, expected) in table {
        let mut b = Browser::new();
        let res = login(&mut b, &w.proxy, &w.idp, Tweak::None, given).await;
        assert_eq!(res.status(), 302, "{given:?}");
        assert_eq!(res.headers()["location"], expected, "return_to {given:?}");
        assert_eq!(
            res.headers().get_all("set-cookie").iter().count(),
            1,
            "{given:?}"
        );
    }
    assert_still_serving(&w.proxy).await;
}

// ---------------------------------------------------------------------------------------------
// CSRF

/// Case, method, path, request headers, status, error code.
type CsrfRow<'a> = (
    &'a str,
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

#[actix_web::test]
async fn cross_site_requests_are_refused() {
    let mut w = World::new(false, "").await;
    let info: Value = w.victim.session(&w.proxy).await.json().await.expect("json");
    let logout = info["logout_url"].as_str().expect("logout_url").to_owned();
    let other_origin = "http://127.0.0.1:1".to_owned();
    let csrf = ("x-csrf", "1");
    let table: Vec<CsrfRow> = vec![
        (
            "session: no header",
            Method::GET,
            "/auth/session",
            vec![],
            403,
            "csrf_header_required",
        ),
        (
            "session: wrong value",
            Method::GET,
            "/auth/session",
            vec![("x-csrf", "0")],
            403,
            "csrf_header_required",
        ),
        (
            "session: cross-site",
            Method::GET,
            "/auth/session",
            vec![csrf, ("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "session: foreign Origin",
            Method::GET,
            "/auth/session",
            vec![csrf, ("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
        (
            "api: no header",
            Method::POST,
            "/api/transfer",
            vec![],
            403,
            "csrf_header_required",
        ),
        (
            "api: wrong value",
            Method::POST,
            "/api/transfer",
            vec![("x-csrf", "true")],
            403,
            "csrf_header_required",
        ),
        (
            "api: foreign Origin",
            Method::POST,
            "/api/transfer",
            vec![csrf, ("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
        (
            "api: Origin null",
            Method::POST,
            "/api/transfer",
            vec![csrf, ("origin", "null")],
            403,
            "cross_site_request",
        ),
        (
            "api: other port",
            Method::PUT,
            "/api/transfer",
            vec![csrf, ("origin", other_origin.as_str())],
            403,
            "cross_site_request",
        ),
        (
            "api: cross-site",
            Method::DELETE,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "api: same-site",
            Method::PATCH,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "same-site")],
            403,
            "cross_site_request",
        ),
        (
            "api: typed URL",
            Method::GET,
            "/api/transfer",
            vec![csrf, ("sec-fetch-site", "none")],
            403,
            "cross_site_request",
        ),
        (
            "api: CORS preflight",
            Method::OPTIONS,
            "/api/transfer",
            vec![
                ("origin", "https://evil.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "x-csrf"),
            ],
            403,
            "csrf_header_required",
        ),
        (
            "logout: no token",
            Method::GET,
            "/auth/logout",
            vec![],
            403,
            "invalid_logout_token",
        ),
        (
            "logout: wrong token",
            Method::GET,
            "/auth/logout?token=wrong",
            vec![],
            403,
            "invalid_logout_token",
        ),
        (
            "logout: cross-site with the token",
            Method::GET,
            logout.as_str(),
            vec![("sec-fetch-site", "cross-site")],
            403,
            "cross_site_request",
        ),
        (
            "logout: same-site with the token",
            Method::GET,
            logout.as_str(),
            vec![("sec-fetch-site", "same-site")],
            403,
            "cross_site_request",
        ),
        (
            "logout: foreign Origin with the token",
            Method::GET,
            logout.as_str(),
            vec![("origin", "https://evil.example")],
            403,
            "cross_site_request",
        ),
    ];
    for (case, method, path, headers, status, code) in table {
        let before = w.before();
        let mut req = w.victim.request(method, &w.proxy.url(path));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = w.victim.send(req).await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{case}: no CORS grant"
        );
        w.refused(case, res, status, code, before).await;
    }
    // A WebSocket upgrade from another origin.
    let before = w.before();
    let ws = format!("{}/api/ws", w.proxy.base.replace("http://", "ws://"));
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws)
            .expect("ws request");
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().expect("hv"));
    req.headers_mut().insert(
        "cookie",
        format!("vestibule={}", w.victim_id()).parse().expect("hv"),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 403, "cross-site WebSocket")
        }
        other => panic!(
            "cross-site WebSocket must be refused: {:?}",
            other.map(|_| ())
        ),
    }
    w.unchanged("cross-site WebSocket", before).await;

    // Controls: the SPA's own calls pass (and the last one ends the session on purpose).
    let res = w
        .victim
        .send(
            w.victim
                .request(Method::POST, &w.proxy.url("/api/transfer"))
                .header("x-csrf", "1")
                .header("sec-fetch-site", "same-origin")
                .header("origin", &w.proxy.base),
        )
        .await;
    assert_eq!(res.status(), 200, "same-origin API call");
    let res = w
        .victim
        .get_with(&w.proxy.url(&logout), &[("sec-fetch-site", "same-origin")])
        .await;
    assert_eq!(res.status(), 302, "same-origin logout");
    assert_eq!(w.victim.session(&w.proxy).await.status(), 401);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP: oversized, malformed and smuggling-shaped requests

/// "The connection was closed without an answer."
const CLOSED: u16 = 0;

/// Sends raw bytes on a fresh connection; returns every status line the proxy answered with.
fn raw(proxy: &Proxy, request: &[u8]) -> Vec<u16> {
    let addr = proxy.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // The server may answer and close before reading everything; that is fine.
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

#[actix_web::test]
async fn malformed_and_smuggling_requests_are_refused() {
    let mut w = World::new(false, "").await;
    let cookie = format!("vestibule={}", w.victim_id());
    let head = |extra: &str| {
        format!("POST /api/x HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\nCookie: {cookie}\r\n{extra}")
    };
    let smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\n\r\n";
    let mut table: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "Content-Length and Transfer-Encoding",
            format!(
                "{}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "Transfer-Encoding then Content-Length",
            format!(
                "{}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "two different Content-Lengths",
            format!(
                "{}Content-Length: 0\r\nContent-Length: 45\r\n\r\n{smuggled}",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "signed Content-Length",
            format!("{}Content-Length: +5\r\n\r\nhello", head("")).into_bytes(),
            400,
        ),
        (
            "unknown Transfer-Encoding",
            format!("{}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "bad chunk size",
            format!(
                "{}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                head("")
            )
            .into_bytes(),
            // actix-http reads broken chunk framing as an I/O error: the connection is closed
            // with no answer (and Vestibule aborts the upstream call at once).
            CLOSED,
        ),
        (
            "obsolete line folding",
            format!(
                "{}X-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
                head("")
            )
            .into_bytes(),
            400,
        ),
        (
            "space before colon",
            format!("{}Content-Length : 0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "NUL in a header value",
            format!("{}X-Nul: a\0b\r\nContent-Length: 0\r\n\r\n", head("")).into_bytes(),
            400,
        ),
        (
            "oversized head",
            format!(
                "{}X-Big: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                head(""),
                "a".repeat(40_000)
            )
            .into_bytes(),
            431,
        ),
        (
            "too many headers",
            format!(
                "{}{}Content-Length: 0\r\n\r\n",
                head(""),
                "X-H: 1\r\n".repeat(120)
            )
            .into_bytes(),
            431,
        ),
        (
            "invalid UTF-8 in the request target",
            b"GET /api/\xff\xfe HTTP/1.1\r\nHost: app\r\n\r\n".to_vec(),
            400,
        ),
    ];
    for (case, path) in [
        ("dot segments out of the route", "/api/../internal"),
        (
            "encoded dot segments out of the route",
            "/api/%2e%2E/internal",
        ),
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: app\r\nX-CSRF: 1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        );
        table.push((case, request.into_bytes(), 400));
    }
    // Invalid UTF-8 in a header value is legal obs-text: forwarded as bytes, never a crash.
    let mut obs_text = head("X-Note: caf").into_bytes();
    obs_text.extend_from_slice(b"\xe9\xff\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    table.push(("obs-text header value (forwarded)", obs_text, 200));

    for (case, request, status) in table {
        let before = w.before();
        let statuses = raw(&w.proxy, &request);
        let expected: &[u16] = if status == CLOSED { &[] } else { &[status] };
        assert_eq!(
            statuses, expected,
            "{case}: exactly this answer, nothing smuggled"
        );
        if status == 200 {
            assert_eq!(w.api.hit_count(), before.hits + 1, "{case}");
            continue;
        }
        w.unchanged(case, before).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Back-channel logout tokens

async fn post_logout(proxy: &Proxy, body: &str, content_type: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(proxy.url("/auth/backchannel-logout"))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request")
}

fn form(token: &str) -> String {
    format!("logout_token={}", urlencode(token))
}

#[actix_web::test]
async fn bad_logout_tokens_are_refused_and_sessions_stay() {
    let mut w = World::new(false, "").await;
    let info: Value = w.victim.session(&w.proxy).await.json().await.expect("json");
    let sid = info["claims"]["sid"].as_str().expect("sid").to_owned();
    let idp = &w.idp;
    let valid = || idp.logout_claims(Some(&sid), Some("user-42"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = valid();
        f(&mut c);
        idp.logout_token(c, false)
    };
    let remove = |k: &'static str| {
        move |c: &mut Value| {
            c.as_object_mut().map(|o| o.remove(k));
        }
    };
    let valid_token = idp.logout_token(valid(), false);
    let parts: Vec<&str> = valid_token.split('.').collect();
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let none_header = b64(r#"{"alg":"none","typ":"logout+jwt"}"#);
    let hs_header = b64(r#"{"alg":"HS256","typ":"logout+jwt","kid":"k1"}"#);
    let mut tampered_claims = valid();
    tampered_claims["sub"] = json!("admin");
    let tampered_payload = b64(&tampered_claims.to_string());

    let table: Vec<(&str, String)> = vec![
        ("signed by an unknown key", idp.logout_token(valid(), true)),
        ("wrong aud", with(&|c| c["aud"] = json!("another-client"))),
        (
            "wrong iss",
            with(&|c| c["iss"] = json!("http://evil.example")),
        ),
        ("stale iat", with(&|c| c["iat"] = json!(now - 3600))),
        ("iat in the future", with(&|c| c["iat"] = json!(now + 3600))),
        ("no iat", with(&remove("iat"))),
        ("expired", with(&|c| c["exp"] = json!(now - 10))),
        ("missing events", with(&remove("events"))),
        (
            "wrong event",
            with(&|c| c["events"] = json!({ "http://schemas.openid.net/event/other": {} })),
        ),
        (
            "event not an object",
            with(&|c| {
                c["events"] = json!({ "http://schemas.openid.net/event/backchannel-logout": "x" })
            }),
        ),
        ("with nonce", with(&|c| c["nonce"] = json!("n"))),
        ("no jti", with(&remove("jti"))),
        (
            "empty sid, no sub",
            with(&|c| {
                c["sid"] = json!("");
                c.as_object_mut().map(|o| o.remove("sub"));
            }),
        ),
        (
            "neither sid nor sub",
            idp.logout_token(idp.logout_claims(None, None), false),
        ),
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "HS256 keyed with the public key",
            format!("{hs_header}.{}.{}", parts[1], parts[2]),
        ),
        (
            "payload swapped under a valid signature",
            format!("{}.{tampered_payload}.{}", parts[0], parts[2]),
        ),
        (
            "signature truncated",
            format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]),
        ),
        ("four segments", format!("{valid_token}.x")),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    for (case, token) in &table {
        let before = w.before();
        let res = post_logout(&w.proxy, &form(token), "application/x-www-form-urlencoded").await;
        w.refused(case, res, 400, "invalid_request", before).await;
    }
    // Transport-level faults.
    let transport: Vec<(&str, String, &str)> = vec![
        (
            "no logout_token",
            String::new(),
            "application/x-www-form-urlencoded",
        ),
        (
            "JSON body",
            json!({ "logout_token": valid_token }).to_string(),
            "application/json",
        ),
        (
            "doubled logout_token",
            format!("{}&{}", form(&valid_token), form("x")),
            "application/x-www-form-urlencoded",
        ),
    ];
    for (case, body, ct) in &transport {
        let before = w.before();
        let res = post_logout(&w.proxy, body, ct).await;
        assert!(res.status().is_client_error(), "{case}: {}", res.status());
        w.unchanged(case, before).await;
    }
    // A replayed token: the first use works (the bystander's session ends), the replay is refused.
    let res = post_logout(
        &w.proxy,
        &form(&valid_token),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(w.victim.session(&w.proxy).await.status(), 401);
    w.victim = w.sign_in().await;
    let before = w.before();
    let res = post_logout(
        &w.proxy,
        &form(&valid_token),
        "application/x-www-form-urlencoded",
    )
    .await;
    w.refused("replayed jti", res, 400, "invalid_request", before)
        .await;
}

//! Works with the IdPs people run: the test IdP made to behave like each quirk of Keycloak,
//! Entra ID, Okta, Auth0, GitHub and the rest (issue 11), one test per behaviour.

use std::sync::atomic::Ordering;

use crate::common::idp::{ClientAuthCheck, OAUTH2_ID, Quirks, RevocationIn};
use crate::common::*;

/// Signs in, calls `/api` once (a refresh when the token needs one), then logs out; returns the
/// logout answer's `Location`.
async fn login_call_logout(proxy: &Proxy, idp: &TestIdp) -> String {
    let mut b = Browser::signed_in(proxy, idp).await;
    assert_eq!(b.api_get(proxy, "/api/x", &[]).await.status(), 200);
    let logout = b.logout_url(proxy).await;
    let res = b.get(&proxy.url(&logout)).await;
    assert_eq!(res.status(), 302);
    res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[actix_web::test]
async fn a_revocation_endpoint_only_in_rfc_8414_metadata_is_used_at_logout() {
    for revocation_in in [
        RevocationIn::OAuthMetadata,
        RevocationIn::OAuthMetadataAppended,
    ] {
        let idp = TestIdp::start_quirky(Quirks {
            path: "/realms/acme",
            revocation_in,
            ..Quirks::default()
        })
        .await;
        assert!(idp.state.issuer.ends_with("/realms/acme"));
        let api = Upstream::start().await;
        let proxy = TestConfig::for_idp(&idp)
            .route(api.api_route("required"))
            .start()
            .await;
        login_call_logout(&proxy, &idp).await;
        assert_eq!(
            *idp.state.revoked.lock().expect("revoked"),
            vec![idp.last_refresh_token()],
            "{revocation_in:?}: the refresh token was revoked at logout"
        );
    }
}

#[actix_web::test]
async fn an_endpoint_set_by_hand_wins_and_start_up_says_what_is_off() {
    let idp = TestIdp::start_quirky(Quirks {
        revocation_in: RevocationIn::Nowhere,
        ..Quirks::default()
    })
    .await;
    let api = Upstream::start().await;
    // Without a revocation endpoint: the log says so, and logout revokes nothing.
    let bin = Binary::spawn(
        TestConfig::for_idp(&idp).route(api.api_route("required")),
        &[],
    );
    let proxy = bin.ready().await;
    login_call_logout(&proxy, &idp).await;
    assert!(idp.state.revoked.lock().expect("revoked").is_empty());
    let logs = bin
        .logs_when("the endpoints in use", |l| {
            l.contains("refresh token revocation at logout")
        })
        .await;
    assert!(logs.contains("IdP endpoints in use"), "{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("refresh token revocation at logout") && l.contains("off")),
        "{logs}"
    );
    // With `[oidc.endpoints] revocation` it is used.
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .set("oidc.endpoints.revocation", idp.endpoint("/revoke"))
        .start()
        .await;
    login_call_logout(&proxy, &idp).await;
    assert_eq!(
        *idp.state.revoked.lock().expect("revoked"),
        vec![idp.last_refresh_token()]
    );
}

/// A config for `private_key_jwt` with the fixture key of `alg`.
fn private_key_jwt(config: TestConfig, alg: &str) -> TestConfig {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let config = config
        .unset("oidc.client_secret")
        .set("oidc.client_auth", "private_key_jwt")
        .set("oidc.private_key_alg", alg)
        .set("oidc.private_key_id", "vestibule-1");
    match alg {
        "ES256" => config.set("oidc.private_key_file", format!("{dir}/client-ec.pem")),
        // As it would come from VESTIBULE_OIDC__PRIVATE_KEY.
        "PS256" => config.set(
            "oidc.private_key",
            std::fs::read_to_string(format!("{dir}/client-rsa.pem")).expect("fixture"),
        ),
        _ => config.set("oidc.private_key_file", format!("{dir}/client-rsa.pem")),
    }
}

#[actix_web::test]
async fn private_key_jwt_authenticates_par_token_refresh_and_revocation() {
    for (alg, public_key, jwt_alg) in [
        (
            "RS256",
            "client-rsa.pub.pem",
            jsonwebtoken::Algorithm::RS256,
        ),
        (
            "PS256",
            "client-rsa.pub.pem",
            jsonwebtoken::Algorithm::PS256,
        ),
        ("ES256", "client-ec.pub.pem", jsonwebtoken::Algorithm::ES256),
    ] {
        let idp = TestIdp::start_quirky(Quirks {
            par: true,
            client_auth: ClientAuthCheck::PrivateKeyJwt {
                public_key,
                alg: jwt_alg,
            },
            ..Quirks::default()
        })
        .await;
        idp.set_expires_in(0, 300);
        let api = Upstream::start().await;
        let config = TestConfig::for_idp(&idp).route(api.api_route("required"));
        let proxy = private_key_jwt(config, alg).start().await;
        login_call_logout(&proxy, &idp).await;
        let at = idp.state.authenticated_at.lock().expect("at").clone();
        let path = |p: &str| {
            format!(
                "{}{p}",
                url::Url::parse(&idp.state.issuer)
                    .expect("url")
                    .path()
                    .trim_end_matches('/')
            )
        };
        assert_eq!(
            at,
            vec![
                path("/par"),
                path("/token"),
                path("/token"),
                path("/revoke")
            ],
            "{alg}: PAR, code, refresh and revocation, each with an assertion"
        );
        let assertions = idp.state.assertions.lock().expect("assertions").clone();
        assert_eq!(assertions.len(), 4, "{alg}: a fresh jti each time");
        assert!(
            assertions
                .iter()
                .all(|(kid, _)| kid.as_deref() == Some("vestibule-1")),
            "{alg}: {assertions:?}"
        );
        assert_eq!(idp.state.refresh_calls.load(Ordering::SeqCst), 1, "{alg}");
    }
}

#[test]
fn a_private_key_that_does_not_fit_is_a_config_error() {
    let config = private_key_jwt(TestConfig::new("http://127.0.0.2:9100"), "ES256").set(
        "oidc.private_key_file",
        format!(
            "{}/tests/fixtures/client-rsa.pem",
            env!("CARGO_MANIFEST_DIR")
        ),
    );
    let (code, out) = binary::command(&["check-config"], &config.toml(), &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("oidc.private_key_file") && out.contains("ES256"),
        "{out}"
    );
    let config = TestConfig::new("http://127.0.0.2:9100")
        .unset("oidc.client_secret")
        .set("oidc.client_auth", "private_key_jwt");
    let (code, out) = binary::command(&["check-config"], &config.toml(), &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("private_key"), "{out}");
}

#[actix_web::test]
async fn par_is_used_when_the_idp_offers_it_and_can_be_required() {
    let idp = TestIdp::start_quirky(Quirks {
        par: true,
        ..Quirks::default()
    })
    .await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/after").await;
    let mut in_url: Vec<String> = start
        .location
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    in_url.sort();
    assert_eq!(
        in_url,
        ["client_id", "request_uri"],
        "only these cross the browser"
    );
    assert_eq!(start.params["code_challenge_method"], "S256");
    let code = start.code(&idp, Tweak::None);
    let res = b.call_back(&proxy, &code, &start.state).await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/after");

    // par = "off": the parameters travel in the URL.
    let proxy = TestConfig::for_idp(&idp)
        .set("oidc.par", "off")
        .start()
        .await;
    let start = Browser::new().start_login(&proxy, "/").await;
    assert!(start.location.query_pairs().any(|(k, _)| k == "state"));

    // par = "required" at an IdP without PAR, or an IdP requiring it with par = "off": not ready.
    let plain = TestIdp::start().await;
    let requiring = TestIdp::start_quirky(Quirks {
        par: true,
        require_par: true,
        ..Quirks::default()
    })
    .await;
    for config in [
        TestConfig::for_idp(&plain).set("oidc.par", "required"),
        TestConfig::for_idp(&requiring).set("oidc.par", "off"),
    ] {
        let proxy = config.start_unready().await;
        let readyz = proxy.url("/readyz");
        let why = "pushed authorization request";
        let within = std::time::Duration::from_secs(5);
        assert!(
            Browser::new()
                .wait_for_answer(&readyz, &[], 503, why, within)
                .await,
            "{:?}",
            proxy.readyz().await
        );
    }
}

#[actix_web::test]
async fn allowed_login_parameters_reach_the_idp_and_bad_ones_are_refused() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set(
            "oidc.extra_auth_params",
            Raw(r#"{ audience = "https://api.example", prompt = "consent" }"#),
        )
        .start()
        .await;
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/x\" onload=\"").await;
    assert_eq!(start.params["audience"], "https://api.example");
    assert_eq!(
        start.params["prompt"], "consent",
        "the deployment's own parameter"
    );
    let url = format!(
        "{}?prompt=login&login_hint=ada%40example.test&max_age=600&ui_locales=de-CH&acr_values=mfa&foo=bar",
        proxy.url("/auth/login")
    );
    let res = b.get(&url).await;
    assert_eq!(res.status(), 302);
    let location =
        url::Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("url");
    let q: std::collections::BTreeMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(
        q["prompt"], "login",
        "the SPA's value wins over the deployment's"
    );
    assert_eq!(q["login_hint"], "ada@example.test");
    assert_eq!(q["max_age"], "600");
    assert_eq!(q["ui_locales"], "de-CH");
    assert_eq!(q["acr_values"], "mfa");
    assert!(!q.contains_key("foo"));

    // Only what login_params allows.
    let narrow = TestConfig::for_idp(&idp)
        .set("oidc.login_params", Raw(r#"["login_hint"]"#))
        .start()
        .await;
    let res = Browser::new()
        .get(&format!(
            "{}?prompt=none&login_hint=x",
            narrow.url("/auth/login")
        ))
        .await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.contains("login_hint=x") && !location.contains("prompt="),
        "{location}"
    );

    // Malformed values: a clear 400, no login started.
    for bad in [
        "prompt=sometimes",
        "max_age=10m",
        "login_hint=a%0d%0aLocation:%20https://evil.example",
        "prompt=none&prompt=login",
    ] {
        let mut b = Browser::new();
        let res = b.get(&format!("{}?{bad}", proxy.url("/auth/login"))).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert!(res.headers().get("location").is_none(), "{bad}");
        assert!(b.cookies.is_empty(), "{bad}: no login cookie");
        let page = res.text().await.expect("page");
        assert!(
            page.contains("invalid_login_parameter") || page.contains("duplicate_parameter"),
            "{bad}: {page}"
        );
    }
}

#[actix_web::test]
async fn a_refused_silent_login_returns_to_the_spa_anonymous() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    for error in ["login_required", "interaction_required", "consent_required"] {
        let mut b = Browser::new();
        let url = format!(
            "{}?prompt=none&return_to={}",
            proxy.url("/auth/login"),
            urlencode("/app?tab=2#top")
        );
        let res = b.get(&url).await;
        assert_eq!(res.status(), 302);
        let location =
            url::Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("url");
        let state = location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state");
        let res = b
            .get(&proxy.callback_url(&[("error", error), ("state", &state)]))
            .await;
        assert_eq!(res.status(), 302, "{error}: not an error page");
        assert_eq!(
            res.headers()["location"],
            format!("/app?tab=2&login_error={error}#top").as_str()
        );
        assert!(!b.cookies.contains_key("vestibule"), "{error}: no session");
        assert_eq!(b.session(&proxy).await.status(), 401);
    }
    // The same error for a login that was not silent is an error page.
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    let res = b
        .get(&proxy.callback_url(&[("error", "login_required"), ("state", &start.state)]))
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("page").contains("idp_error"));
}

/// Starts a login with these `/auth/login` parameters, lets the IdP answer with `tweak`.
async fn log_in_with(
    proxy: &Proxy,
    idp: &TestIdp,
    query: &str,
    tweak: Tweak,
) -> (Browser, reqwest::Response) {
    let mut b = Browser::new();
    let res = b
        .get(&format!("{}?{query}", proxy.url("/auth/login")))
        .await;
    let location =
        url::Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("url");
    let q: std::collections::BTreeMap<String, String> =
        location.query_pairs().into_owned().collect();
    let code = idp.issue_code(&q["nonce"], &q["code_challenge"], &q["redirect_uri"], tweak);
    let res = b.call_back(proxy, &code, &q["state"]).await;
    (b, res)
}

#[actix_web::test]
async fn max_age_needs_a_recent_auth_time() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    for (tweak, status) in [
        (Tweak::NoAuthTime, 400),
        (Tweak::StaleAuthTime, 400),
        (Tweak::None, 302),
    ] {
        let (_, res) = log_in_with(&proxy, &idp, "max_age=600", tweak).await;
        assert_eq!(res.status(), status, "{tweak:?}");
        if status == 400 {
            assert!(res.text().await.expect("page").contains("invalid_id_token"));
        }
    }
    // Without max_age, no auth_time is fine.
    let (_, res) = log_in_with(&proxy, &idp, "", Tweak::NoAuthTime).await;
    assert_eq!(res.status(), 302);
}

#[actix_web::test]
async fn an_acr_other_than_the_one_asked_for_is_reported_to_the_spa() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp).start().await;
    let (mut b, res) = log_in_with(
        &proxy,
        &idp,
        "acr_values=mfa%20hwk&return_to=%2Fpay",
        Tweak::Acr("pwd"),
    )
    .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/pay?login_warning=acr_not_satisfied"
    );
    let info = b.session_info(&proxy).await;
    assert_eq!(
        info["claims"]["acr"], "pwd",
        "signed in, and the SPA sees the acr it got"
    );
    let (_, res) = log_in_with(
        &proxy,
        &idp,
        "acr_values=mfa%20hwk&return_to=%2Fpay",
        Tweak::Acr("hwk"),
    )
    .await;
    assert_eq!(res.headers()["location"], "/pay");
}

#[actix_web::test]
async fn a_plain_oauth2_provider_signs_users_in_through_userinfo() {
    // Like GitHub: no discovery, no ID token, `bearer`, no expires_in, a numeric user id.
    let idp = TestIdp::start_quirky(Quirks {
        oauth2_only: true,
        revocation_in: RevocationIn::Nowhere,
        ..Quirks::default()
    })
    .await;
    *idp.state.token_type.lock().expect("token_type") = "bearer".into();
    idp.set_expires_in(-1, -1);
    let api = Upstream::start().await;
    let config = TestConfig::for_oauth2_idp(&idp).route(api.api_route("required"));
    let proxy = config.clone().start().await;
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    assert!(
        !start.params.contains_key("nonce"),
        "no nonce without OpenID Connect"
    );
    assert_eq!(start.params["scope"], "read:user");
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    let info = b.session_info(&proxy).await;
    assert_eq!(info["sub"], OAUTH2_ID.to_string());
    assert_eq!(info["claims"]["login"], "octocat");
    let seen = b.api_seen(&proxy, "/api/x", &[]).await;
    assert_eq!(
        seen["headers"]["authorization"],
        format!("Bearer {}", idp.last_access_token())
    );
    // No end-session endpoint: logout lands on post_logout_path.
    let logout = b.logout_url(&proxy).await;
    let res = b.get(&proxy.url(&logout)).await;
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(b.session(&proxy).await.status(), 401);

    // With one set by hand, the IdP gets no (empty) id_token_hint: there is no ID token.
    let proxy = config
        .set("oidc.endpoints.end_session", idp.endpoint("/session/end"))
        .start()
        .await;
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    let logout = b.logout_url(&proxy).await;
    let res = b.get(&proxy.url(&logout)).await;
    let location = res.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with(&idp.endpoint("/session/end?")),
        "{location}"
    );
    assert!(!location.contains("id_token_hint"), "{location}");
}

#[actix_web::test]
async fn token_responses_are_read_as_idps_send_them() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    // `bearer`, expires_in as a string ("0": the first API call refreshes), no rotation (the
    // refresh answer has no refresh token), and an ID token in the refresh answer.
    *idp.state.token_type.lock().expect("token_type") = "bearer".into();
    idp.state.expires_in_as_string.store(true, Ordering::SeqCst);
    idp.set_expires_in(0, 0);
    idp.set_rotation(false);
    *idp.state.id_token_on_refresh.lock().expect("sub") = Some(idp::SUB.into());
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    for calls in 1..=2 {
        assert_eq!(b.api_get(&proxy, "/api/x", &[]).await.status(), 200);
        assert_eq!(
            idp.state.refresh_calls.load(Ordering::SeqCst),
            calls,
            "the old refresh token is kept and works again"
        );
    }
    let info = b.session_info(&proxy).await;
    assert_eq!(
        info["claims"]["name"], "Ada King",
        "claims of the refreshed ID token"
    );
    let refreshed_id_token = idp
        .state
        .issued
        .lock()
        .expect("issued")
        .iter()
        .rev()
        .find(|t| t.starts_with("ey"))
        .cloned()
        .expect("an ID token");
    let logout = b.logout_url(&proxy).await;
    let res = b.get(&proxy.url(&logout)).await;
    let location = res.headers()["location"].to_str().expect("ascii");
    assert!(
        location.contains(&format!("id_token_hint={refreshed_id_token}")),
        "logout hints with the newest ID token"
    );
}

#[actix_web::test]
async fn a_refresh_naming_another_user_ends_the_session() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(0, 300);
    *idp.state.id_token_on_refresh.lock().expect("sub") = Some("someone-else".into());
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let res = b.api_get(&proxy, "/api/x", &[]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(api.hit_count(), 0, "nothing forwarded");
    assert_eq!(b.session(&proxy).await.status(), 401, "the session is gone");
}

#[actix_web::test]
async fn without_expires_in_a_token_is_refreshed_when_the_upstream_refuses_it() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    idp.set_expires_in(-1, -1);
    let proxy = TestConfig::for_idp(&idp)
        .route(api.api_route("required"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let first = idp.last_access_token();
    assert_eq!(b.api_get(&proxy, "/api/guarded", &[]).await.status(), 200);
    assert_eq!(
        idp.state.refresh_calls.load(Ordering::SeqCst),
        0,
        "no expiry: no refresh"
    );

    // The upstream now refuses that token: ten calls at once, one refresh, all retried.
    api.reject(&first);
    let mut calls = b.concurrent_api_calls(&[&proxy], "/api/guarded", 10).await;
    let (status, fresh) = calls.remove(0);
    assert_eq!(status, 200);
    for call in calls {
        assert_eq!(call, (200, fresh.clone()));
    }
    assert_eq!(fresh, format!("Bearer {}", idp.last_access_token()));
    assert_eq!(
        idp.state.refresh_calls.load(Ordering::SeqCst),
        1,
        "exactly one refresh"
    );

    // A call with a body cannot be sent again: the 401 is passed on, nothing refreshed.
    api.reject(&idp.last_access_token());
    let req = b
        .request(reqwest::Method::POST, &proxy.url("/api/guarded"))
        .header("x-csrf", "1")
        .body("payload");
    let res = b.send(req).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .contains("invalid_token")
    );
    assert_eq!(idp.state.refresh_calls.load(Ordering::SeqCst), 1);
}

#[actix_web::test]
async fn userinfo_claims_join_the_session_when_its_sub_matches() {
    let idp = TestIdp::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .set("oidc.userinfo", true)
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    let info = b.session_info(&proxy).await;
    assert_eq!(info["claims"]["picture"], "https://example.test/ada.png");
    assert_eq!(
        info["claims"]["name"], "Ada Lovelace",
        "the ID token's claims win"
    );

    *idp.state.userinfo_sub.lock().expect("sub") = "someone-else".into();
    let mut b = Browser::new();
    let res = b.log_in(&proxy, &idp, Tweak::None, "/").await;
    assert_eq!(res.status(), 502);
    assert!(res.text().await.expect("page").contains("invalid_userinfo"));
    assert!(!b.cookies.contains_key("vestibule"));
}

#[actix_web::test]
async fn under_par_one_client_cannot_make_vestibule_flood_the_idp_with_logins() {
    let idp = TestIdp::start_quirky(Quirks {
        par: true,
        ..Quirks::default()
    })
    .await;
    let proxy = TestConfig::for_idp(&idp)
        .set("server.logins_per_minute", 3)
        .set("server.forwarded_hops", 1)
        .start()
        .await;
    let pushed = || {
        idp.state
            .authenticated_at
            .lock()
            .expect("authenticated_at")
            .iter()
            .filter(|p| p.contains("par"))
            .count()
    };
    // One load balancer in front: clients are told apart by the address it appended.
    let login = |client: &'static str, spoof: Option<&'static str>| {
        let proxy_url = proxy.url("/auth/login?return_to=/");
        async move {
            let xff = match spoof {
                Some(s) => format!("{s}, {client}"),
                None => client.to_owned(),
            };
            let res = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client")
                .get(proxy_url)
                .header("x-forwarded-for", xff)
                .send()
                .await
                .expect("login");
            let status = res.status().as_u16();
            (status, res.text().await.unwrap_or_default())
        }
    };
    for _ in 0..3 {
        assert_eq!(login("192.0.2.1", None).await.0, 302);
    }
    assert_eq!(pushed(), 3);
    // A fourth from the same client, also when it writes another address in front.
    for spoof in [None, Some("192.0.2.99")] {
        let (status, body) = login("192.0.2.1", spoof).await;
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("too_many_logins"), "{body}");
    }
    assert_eq!(pushed(), 3, "no IdP call for a refused login");
    // Another client still logs in.
    assert_eq!(login("192.0.2.2", None).await.0, 302);
    assert_eq!(pushed(), 4);
}

//! Several apps in one deployment (`[[apps]]`): picked by host, isolated from each other, with
//! several providers each, and reloaded without a restart.

use std::time::Duration;

use serde_json::Value;

use crate::common::apps::provider;
use crate::common::{Browser, TestApps, TestIdp, Tweak, Upstream, eventually};

const A: &str = "a.localhost";
const B: &str = "b.localhost";

fn app(name: &str, host: &str, port: u16, providers: &[String], extra: &str) -> String {
    format!(
        "[[apps]]\nname = \"{name}\"\npublic_url = \"http://{host}:{port}\"\n{extra}{}",
        providers.concat()
    )
}

/// Two apps on two hosts, each with its own IdP and an `/api` route to its own upstream.
async fn two_apps(idp_a: &TestIdp, idp_b: &TestIdp, up_a: &Upstream, up_b: &Upstream) -> TestApps {
    let (pa, pb) = (provider("idp-a", idp_a), provider("idp-b", idp_b));
    let (ua, ub) = (up_a.url(), up_b.url());
    TestApps::start(move |port| {
        format!(
            "{}{}",
            app(
                "a",
                A,
                port,
                std::slice::from_ref(&pa),
                &format!(
                    "[[apps.routes]]\nprefix = \"/api\"\nupstream = \"{ua}\"\ntoken = \"user\"\n"
                )
            ),
            app(
                "b",
                B,
                port,
                std::slice::from_ref(&pb),
                &format!(
                    "[[apps.routes]]\nprefix = \"/api\"\nupstream = \"{ub}\"\ntoken = \"user\"\n"
                )
            ),
        )
    })
    .await
}

/// App a with two providers, `first` and `second`, each on its own test IdP; `extra`: more of
/// the app's keys or tables.
async fn one_app_two_providers(extra: &str) -> (TestIdp, TestIdp, TestApps) {
    let (idp1, idp2) = (TestIdp::start().await, TestIdp::start().await);
    let both = [provider("first", &idp1), provider("second", &idp2)];
    let extra = extra.to_owned();
    let apps = TestApps::start(move |port| app("a", A, port, &both, &extra)).await;
    (idp1, idp2, apps)
}

async fn signed_in(apps: &TestApps, host: &str, idp: &TestIdp) -> Browser {
    let mut b = apps.browser(&[A, B, "c.localhost"]);
    let res = b.log_in(&apps.at(host), idp, Tweak::None, "/").await;
    assert_eq!(res.status(), 302, "login at {host} completes");
    b
}

#[actix_web::test]
async fn each_app_signs_in_with_its_own_idp_and_its_api_gets_its_own_users_token() {
    let (idp_a, idp_b) = (TestIdp::start().await, TestIdp::start().await);
    let (up_a, up_b) = (Upstream::start().await, Upstream::start().await);
    let apps = two_apps(&idp_a, &idp_b, &up_a, &up_b).await;
    let mut alice = signed_in(&apps, A, &idp_a).await;
    let mut bob = signed_in(&apps, B, &idp_b).await;
    let a_info = alice.session_info(&apps.at(A)).await;
    let b_info = bob.session_info(&apps.at(B)).await;
    assert_eq!(
        a_info["claims"]["iss"],
        Value::from(idp_a.state.issuer.clone())
    );
    assert_eq!(
        b_info["claims"]["iss"],
        Value::from(idp_b.state.issuer.clone())
    );
    assert_eq!(a_info["provider"], "idp-a");
    let seen_a = alice.api_seen(&apps.at(A), "/api/x", &[]).await;
    let seen_b = bob.api_seen(&apps.at(B), "/api/x", &[]).await;
    assert_eq!(up_a.hit_count(), 1, "a's API call went to a's upstream");
    assert_eq!(up_b.hit_count(), 1, "b's API call went to b's upstream");
    let (ta, tb) = (
        &seen_a["headers"]["authorization"],
        &seen_b["headers"]["authorization"],
    );
    assert!(
        ta.as_str().is_some_and(|t| t.starts_with("Bearer ")),
        "{seen_a}"
    );
    assert!(
        tb.as_str().is_some_and(|t| t.starts_with("Bearer ")),
        "{seen_b}"
    );
    assert_ne!(ta, tb, "each app's upstream got its own user's token");
    let (_, metrics) = apps.at("127.0.0.1").metrics().await;
    for app in ["a", "b"] {
        let line = format!(
            "vestibule_http_requests_total{{app=\"{app}\",class=\"api\",route=\"/api\",status=\"2xx\"}} 1"
        );
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
}

#[actix_web::test]
async fn a_host_no_app_answers_gets_421_and_nothing_else_but_the_probes_answer_anywhere() {
    let (idp_a, idp_b) = (TestIdp::start().await, TestIdp::start().await);
    let (up_a, up_b) = (Upstream::start().await, Upstream::start().await);
    let apps = two_apps(&idp_a, &idp_b, &up_a, &up_b).await;
    let mut browser = apps.browser(&["c.localhost"]);
    for path in [
        "/",
        "/auth/login",
        "/auth/session",
        "/api/x",
        "/.well-known/jwks.json",
    ] {
        let res = browser.get(&apps.at("c.localhost").url(path)).await;
        assert_eq!(res.status(), 421, "{path}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "misdirected_request", "{path}");
    }
    assert_eq!(up_a.hit_count() + up_b.hit_count(), 0);
    assert_eq!(
        browser
            .get(&apps.at("c.localhost").url("/healthz"))
            .await
            .status(),
        200
    );
}

#[actix_web::test]
async fn a_cookie_of_one_app_never_loads_a_session_in_another() {
    let (idp_a, idp_b) = (TestIdp::start().await, TestIdp::start().await);
    let (up_a, up_b) = (Upstream::start().await, Upstream::start().await);
    let apps = two_apps(&idp_a, &idp_b, &up_a, &up_b).await;
    let alice = signed_in(&apps, A, &idp_a).await;
    let mut forger = alice.copy();
    let mut forger = {
        let mut b = apps.browser(&[A, B]);
        b.cookies = std::mem::take(&mut forger.cookies);
        b
    };
    assert_eq!(forger.session(&apps.at(B)).await.status(), 401);
    assert_eq!(
        forger.api_get(&apps.at(B), "/api/x", &[]).await.status(),
        401
    );
    assert_eq!(up_b.hit_count(), 0);
    assert_eq!(
        forger.session(&apps.at(A)).await.status(),
        200,
        "still a's session at a"
    );
}

#[actix_web::test]
async fn an_x_forwarded_host_is_taken_only_from_a_trusted_proxy() {
    let (idp_a, idp_b) = (TestIdp::start().await, TestIdp::start().await);
    let (up_a, up_b) = (Upstream::start().await, Upstream::start().await);
    let apps = two_apps(&idp_a, &idp_b, &up_a, &up_b).await;
    let mut alice = signed_in(&apps, A, &idp_a).await;
    let res = alice
        .get_with(
            &apps.at(A).url("/auth/session"),
            &[("x-csrf", "1"), ("x-forwarded-host", B)],
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "an untrusted peer's X-Forwarded-Host changes nothing"
    );
    let res = alice
        .get_with(
            &apps.at(A).url("/auth/session"),
            &[("x-csrf", "1"), ("x-forwarded-host", "c.localhost")],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[actix_web::test]
async fn behind_a_trusted_proxy_its_x_forwarded_host_picks_the_app() {
    let (idp_a, idp_b) = (TestIdp::start().await, TestIdp::start().await);
    let (pa, pb) = (provider("idp-a", &idp_a), provider("idp-b", &idp_b));
    // The `[server]` section is still open where the apps begin.
    let apps = TestApps::start(move |port| {
        format!(
            "trusted_proxies = [\"127.0.0.1/32\"]\n{}{}",
            app("a", A, port, std::slice::from_ref(&pa), ""),
            app("b", B, port, std::slice::from_ref(&pb), "")
        )
    })
    .await;
    let mut alice = signed_in(&apps, A, &idp_a).await;
    let session = apps.at(A).url("/auth/session");
    let b_host = format!("{B}:{}", apps.port);
    let as_b = alice
        .get_with(&session, &[("x-csrf", "1"), ("x-forwarded-host", &b_host)])
        .await;
    assert_eq!(
        as_b.status(),
        401,
        "served as b, where a's cookie is nothing"
    );
    // The proxy appends what it saw to what the client sent: only the last one is its word.
    let appended = format!("{b_host}, a.localhost:{}", apps.port);
    let last = alice
        .get_with(
            &session,
            &[("x-csrf", "1"), ("x-forwarded-host", &appended)],
        )
        .await;
    assert_eq!(
        last.status(),
        200,
        "the last X-Forwarded-Host is the proxy's"
    );
    let unknown = alice
        .get_with(&session, &[("x-forwarded-host", "c.localhost")])
        .await;
    assert_eq!(unknown.status(), 421);
}

#[actix_web::test]
async fn an_app_with_two_providers_shows_a_chooser_and_each_login_goes_to_the_one_chosen() {
    let (_idp1, idp2, apps) =
        one_app_two_providers("chooser_stylesheet = \"/sign-in.css\"\n").await;
    let proxy = apps.at(A);
    let mut b = apps.browser(&[A]);
    let page = b.get(&proxy.url("/auth/login?return_to=%2Finbox")).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    let html = page.text().await.expect("html");
    assert!(
        html.contains("href=\"/auth/login?provider=first&amp;return_to=%2Finbox\""),
        "{html}"
    );
    assert!(html.contains("Sign in with second"), "{html}");
    assert!(
        html.contains("<link rel=stylesheet href=\"/sign-in.css\">"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    let start = b
        .start_login_at(&proxy, "/auth/login?provider=second")
        .await;
    assert!(
        start.location.as_str().starts_with(&idp2.state.issuer),
        "{}",
        start.location
    );
    let code = start.code(&idp2, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);
    let info = b.session_info(&proxy).await;
    assert_eq!(info["provider"], "second");
    assert_eq!(
        info["claims"]["iss"],
        Value::from(idp2.state.issuer.clone())
    );
    assert!(
        b.cookies["vestibule"].starts_with("second."),
        "the cookie names its provider"
    );
    let unknown = b.get(&proxy.url("/auth/login?provider=idp-b")).await;
    assert_eq!(unknown.status(), 400, "a provider of no such name here");
}

#[actix_web::test]
async fn a_reload_adds_a_route_keeps_sessions_and_a_broken_file_changes_nothing() {
    let (idp_a, up) = (TestIdp::start().await, Upstream::start().await);
    let pa = provider("idp-a", &idp_a);
    let pa2 = pa.clone();
    let apps = TestApps::start(move |port| app("a", A, port, std::slice::from_ref(&pa), "")).await;
    let mut alice = signed_in(&apps, A, &idp_a).await;
    assert_eq!(
        alice.api_get(&apps.at(A), "/api/x", &[]).await.status(),
        404
    );
    let with_route = app(
        "a",
        A,
        apps.port,
        std::slice::from_ref(&pa2),
        &format!(
            "[[apps.routes]]\nprefix = \"/api\"\nupstream = \"{}\"\ntoken = \"user\"\n",
            up.url()
        ),
    );
    apps.rewrite(&with_route);
    eventually(
        "the new route answers",
        Duration::from_secs(10),
        async || alice.api_get(&apps.at(A), "/api/x", &[]).await.status() == 200,
    )
    .await;
    assert_eq!(
        alice.session(&apps.at(A)).await.status(),
        200,
        "the session survived"
    );
    apps.rewrite("[[apps]]\nname = \"a\"\n");
    let (_, metrics) = apps.at("127.0.0.1").metrics().await;
    let rejected = |m: &str| m.contains("vestibule_config_reloads_total{result=\"rejected\"}");
    let mut m = metrics;
    eventually(
        "the broken file is rejected",
        Duration::from_secs(10),
        async || {
            m = apps.at("127.0.0.1").metrics().await.1;
            rejected(&m)
        },
    )
    .await;
    assert_eq!(
        alice.api_get(&apps.at(A), "/api/x", &[]).await.status(),
        200,
        "unchanged"
    );
}

#[actix_web::test]
async fn a_reload_that_removes_a_provider_ends_exactly_its_sessions() {
    let (idp1, idp2, apps) = one_app_two_providers("default_provider = \"first\"\n").await;
    let proxy = apps.at(A);
    let mut one = apps.browser(&[A]);
    assert_eq!(
        one.log_in(&proxy, &idp1, Tweak::None, "/").await.status(),
        302
    );
    let mut two = apps.browser(&[A]);
    two.log_in_with(&proxy, "second", &idp2).await;
    apps.rewrite(&app("a", A, apps.port, &[provider("first", &idp1)], ""));
    eventually(
        "the provider is gone",
        Duration::from_secs(10),
        async || two.session(&proxy).await.status() == 401,
    )
    .await;
    let res = two.session(&proxy).await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["reason"], "config_removed", "{body}");
    assert_eq!(
        one.session(&proxy).await.status(),
        200,
        "the other provider's session lives"
    );
}

/// `[[apps.routes]]` entry: `prefix` to `up`, with the user's token.
fn route(prefix: &str, up: &Upstream) -> String {
    format!(
        "[[apps.routes]]\nprefix = \"{prefix}\"\nupstream = \"{}\"\ntoken = \"user\"\n",
        up.url()
    )
}

#[actix_web::test]
async fn twenty_reloads_under_load_drop_no_call_and_no_session() {
    let idp = TestIdp::start().await;
    let (up1, up2) = (Upstream::start().await, Upstream::start().await);
    let p = provider("idp", &idp);
    let first = route("/api", &up1);
    let (p0, first0) = (p.clone(), first.clone());
    let apps = TestApps::start_signalled(move |port| {
        app("a", A, port, std::slice::from_ref(&p0), &first0)
    })
    .await;
    let user = signed_in(&apps, A, &idp).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..6 {
        let mut b = apps.browser(&[A]);
        b.cookies = user.cookies.clone();
        let (proxy, stop) = (apps.at(A), stop.clone());
        load.push(actix_web::rt::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                statuses.push(b.api_get(&proxy, "/api/x", &[]).await.status().as_u16());
            }
            statuses
        }));
    }
    // Each reload changes something a call may meet: a new route, another upstream, a new app.
    let variants = [
        format!("{first}{}", route("/api2", &up2)),
        route("/api", &up2),
        format!(
            "{first}{}",
            app("b", B, apps.port, std::slice::from_ref(&p), "")
        ),
        first.clone(),
    ];
    for n in 1..=20u64 {
        let extra = &variants[(n as usize - 1) % variants.len()];
        let body = if extra.contains("[[apps]]") {
            let (own, other) = extra.split_at(extra.find("[[apps]]").expect("app b"));
            format!(
                "{}{other}",
                app("a", A, apps.port, std::slice::from_ref(&p), own)
            )
        } else {
            app("a", A, apps.port, std::slice::from_ref(&p), extra)
        };
        apps.rewrite(&body);
        apps.reload(n).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut statuses = Vec::new();
    for task in load {
        statuses.extend(task.await.expect("a load task ends without a panic"));
    }
    let failed: Vec<u16> = statuses.iter().copied().filter(|s| *s != 200).collect();
    assert!(
        statuses.len() >= 100,
        "{} calls: not much of a load",
        statuses.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} calls failed: {failed:?}",
        failed.len(),
        statuses.len()
    );
    assert!(
        up1.hit_count() > 0 && up2.hit_count() > 0,
        "both upstreams served in turn"
    );
    let mut user = user;
    let mut b = apps.browser(&[A]);
    b.cookies = std::mem::take(&mut user.cookies);
    assert_eq!(
        b.session(&apps.at(A)).await.status(),
        200,
        "the session survived 20 reloads"
    );
}

#[actix_web::test]
async fn a_provider_removed_by_a_reload_ends_its_sessions_on_every_replica() {
    let redis = crate::common::RedisServer::start();
    let (idp1, idp2) = (TestIdp::start().await, TestIdp::start().await);
    let (p1, p2) = (provider("first", &idp1), provider("second", &idp2));
    let session = format!(
        "[session]\nstore = \"redis\"\nredis_url = \"{}\"\nencryption_key = \"{}\"\n",
        redis.url(),
        crate::common::config::ENCRYPTION_KEY
    );
    let both = {
        let (p1, p2, session) = (p1.clone(), p2.clone(), session.clone());
        move |port| {
            format!(
                "{session}{}",
                app(
                    "a",
                    A,
                    port,
                    &[p1.clone(), p2.clone()],
                    "default_provider = \"first\"\n"
                )
            )
        }
    };
    let (one, two) = (
        TestApps::start_signalled(both.clone()).await,
        TestApps::start_signalled(both).await,
    );
    let mut first_user = one.browser(&[A]);
    assert_eq!(
        first_user
            .log_in(&one.at(A), &idp1, Tweak::None, "/")
            .await
            .status(),
        302
    );
    let mut second_user = one.browser(&[A]);
    second_user.log_in_with(&one.at(A), "second", &idp2).await;
    for replica in [&one, &two] {
        assert_eq!(
            second_user.session(&replica.at(A)).await.status(),
            200,
            "shared store"
        );
    }
    for replica in [&one, &two] {
        replica.rewrite(&format!(
            "{session}{}",
            app("a", A, replica.port, std::slice::from_ref(&p1), "")
        ));
    }
    // One SIGHUP to this process, two replicas (and the metrics are the process's): two reloads.
    one.reload(2).await;
    for replica in [&one, &two] {
        let res = second_user.session(&replica.at(A)).await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["reason"], "config_removed", "{body}");
        assert_eq!(first_user.session(&replica.at(A)).await.status(), 200);
    }
}

#[actix_web::test]
async fn signing_in_with_another_provider_replaces_the_session_of_the_first() {
    let (idp1, idp2, apps) = one_app_two_providers("").await;
    let proxy = apps.at(A);
    let mut b = apps.browser(&[A]);
    b.log_in_with(&proxy, "first", &idp1).await;
    let mut first_copy = apps.browser(&[A]);
    first_copy.cookies = b.cookies.clone();
    b.log_in_with(&proxy, "second", &idp2).await;
    assert_eq!(b.session_info(&proxy).await["provider"], "second");
    let res = first_copy.session(&proxy).await;
    assert_eq!(res.status(), 401, "the first provider's session ended");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["reason"], "replaced", "{body}");
}

#[actix_web::test]
async fn a_step_up_in_an_app_of_several_providers_goes_to_the_sessions_own() {
    let api = Upstream::start().await;
    let admin = format!(
        "[[apps.routes]]\nprefix = \"/admin\"\nupstream = \"{}\"\ntoken = \"user\"\nrequire_acr = [\"mfa\"]\n",
        api.url()
    );
    let (_idp1, idp2, apps) = one_app_two_providers(&admin).await;
    let proxy = apps.at(A);
    let mut b = apps.browser(&[A]);
    b.log_in_with(&proxy, "second", &idp2).await;
    let res = b.api_get(&proxy, "/admin/x", &[]).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    let login_url = body["login_url"].as_str().expect("login_url").to_owned();
    assert!(
        login_url.starts_with("/auth/login?provider=second&"),
        "{login_url}"
    );
    let start = b.start_login_at(&proxy, &login_url).await;
    assert!(
        start.location.as_str().starts_with(&idp2.state.issuer),
        "not the chooser"
    );
    assert_eq!(api.hit_count(), 0);
}

#[actix_web::test]
async fn a_reload_changing_a_restart_only_key_changes_nothing_the_server_was_built_with() {
    let idp = TestIdp::start().await;
    let p = provider("idp", &idp);
    let p0 = p.clone();
    let apps =
        TestApps::start_signalled(move |port| app("a", A, port, std::slice::from_ref(&p0), ""))
            .await;
    let mut user = signed_in(&apps, A, &idp).await;
    // `auth_prefix` and `csrf_header` belong to `[server]`, still open where the apps begin.
    apps.rewrite(&format!(
        "auth_prefix = \"/bff\"\ncsrf_header = \"X-Other\"\n{}",
        app("a", A, apps.port, std::slice::from_ref(&p), "")
    ));
    apps.reload(1).await;
    let info = user.session_info(&apps.at(A)).await;
    let logout = info["logout_url"].as_str().expect("logout_url");
    assert!(logout.starts_with("/auth/logout?"), "{logout}");
    let mut again = apps.browser(&[A]);
    let res = again.log_in(&apps.at(A), &idp, Tweak::None, "/").await;
    assert_eq!(
        res.status(),
        302,
        "logins still work at the prefix the server has"
    );
}

#[actix_web::test]
async fn the_admin_api_scopes_a_sub_to_an_app_and_a_provider() {
    let (idp1, idp2) = (TestIdp::start().await, TestIdp::start().await);
    let (p1, p2) = (provider("first", &idp1), provider("second", &idp2));
    let admin_port = crate::common::binary::free_port();
    let apps = TestApps::start(move |port| {
        format!(
            "admin_listen = \"127.0.0.1:{admin_port}\"\nadmin_token = \"admin-token-0123456789-0123456789-0123\"\n{}{}",
            app("a", A, port, &[p1.clone(), p2.clone()], ""),
            app("b", B, port, std::slice::from_ref(&p1), ""),
        )
    })
    .await;
    // The same `sub` (the test IdPs' one user) at both providers of app a.
    for (name, idp) in [("first", &idp1), ("second", &idp2)] {
        let mut b = apps.browser(&[A]);
        b.log_in_with(&apps.at(A), name, idp).await;
    }
    let mut admin = crate::common::Proxy::external(apps.at(A).base.clone());
    admin.admin_base = Some(format!("http://127.0.0.1:{admin_port}"));
    let token = Some("admin-token-0123456789-0123456789-0123");
    let sub = crate::common::idp::SUB;
    let get = reqwest::Method::GET;
    let res = admin
        .admin(get.clone(), &format!("/admin/sessions?sub={sub}"), token)
        .await;
    assert_eq!(res.status(), 400, "several apps: which one?");
    let res = admin
        .admin(
            get.clone(),
            &format!("/admin/sessions?sub={sub}&app=a"),
            token,
        )
        .await;
    let listed: Value = res.json().await.expect("json");
    let providers: Vec<&str> = listed["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["provider"].as_str().expect("provider"))
        .collect();
    assert_eq!(providers.len(), 2, "{listed}");
    assert!(
        providers.contains(&"first") && providers.contains(&"second"),
        "{listed}"
    );
    let url = format!("/admin/sessions?sub={sub}&app=a&provider=second");
    let res = admin.admin(reqwest::Method::DELETE, &url, token).await;
    let ended: Value = res.json().await.expect("json");
    assert_eq!(ended["ended"], 1, "only the second provider's session");
    let res = admin
        .admin(get.clone(), "/admin/sessions/count?app=a", token)
        .await;
    assert_eq!(res.json::<Value>().await.expect("json")["live"], 1);
    let res = admin
        .admin(get, "/admin/sessions/count?app=a&provider=nobody", token)
        .await;
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn a_cookie_naming_a_provider_that_never_was_gets_no_config_removed_reason() {
    let idp = TestIdp::start().await;
    let p = provider("idp", &idp);
    let apps = TestApps::start(move |port| app("a", A, port, std::slice::from_ref(&p), "")).await;
    let mut b = apps.browser(&[A]);
    let id = "A".repeat(43);
    b.cookies.insert("vestibule".into(), format!("ghost.{id}"));
    let res = b.session(&apps.at(A)).await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.expect("json");
    assert!(body.get("reason").is_none(), "{body}");
}

#[actix_web::test]
async fn an_odd_spelling_of_an_apps_host_is_no_app() {
    let idp = TestIdp::start().await;
    let p = provider("idp", &idp);
    let apps = TestApps::start(move |port| app("a", A, port, std::slice::from_ref(&p), "")).await;
    let mut b = apps.browser(&[A]);
    let url = apps.at(A).url("/auth/login");
    for host in [
        format!("a.localhost:{}:443", apps.port),
        format!("a.localhost.:{}", apps.port),
        format!("x@a.localhost:{}", apps.port),
    ] {
        let res = b.get_with(&url, &[("host", &host)]).await;
        assert_eq!(res.status(), 421, "{host}");
    }
    let res = b
        .get_with(&url, &[("host", &format!("A.LOCALHOST:{}", apps.port))])
        .await;
    assert_eq!(res.status(), 302, "case is not a spelling");
}

#[actix_web::test]
async fn an_event_stream_opened_before_a_reload_hears_its_session_end_after_it() {
    let (idp, up) = (TestIdp::start().await, Upstream::start().await);
    let p = provider("idp", &idp);
    let p0 = p.clone();
    let apps =
        TestApps::start_signalled(move |port| app("a", A, port, std::slice::from_ref(&p0), ""))
            .await;
    let mut user = signed_in(&apps, A, &idp).await;
    let mut events = user.events(&apps.at(A)).await;
    apps.rewrite(&app(
        "a",
        A,
        apps.port,
        std::slice::from_ref(&p),
        &route("/api", &up),
    ));
    apps.reload(1).await;
    assert_eq!(
        user.api_get(&apps.at(A), "/api/x", &[]).await.status(),
        200,
        "the new config"
    );
    let logout = user.logout_url(&apps.at(A)).await;
    user.get(&apps.at(A).url(&logout)).await;
    let (name, data) = events
        .next(Duration::from_secs(5))
        .await
        .expect("the stream of before the reload hears the end");
    assert_eq!(name, "session_ended");
    assert_eq!(data["reason"], "logout");
}

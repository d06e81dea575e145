//! Token kinds per route: the user's login token, a route's own (narrowed by `resource` or
//! `scopes`, or exchanged), the application's (client credentials), `user_or_client`; each
//! obtained exactly once under concurrency and renewed when an upstream refuses it.

use std::sync::atomic::Ordering;

use crate::common::*;
use serde_json::Value;

const ORDERS: &str = "https://orders.example";

/// Routes of every user-token kind, each to its own upstream so none can see another's calls.
struct Apis {
    login: Upstream,
    orders: Upstream,
    reports: Upstream,
    partner: Upstream,
}

impl Apis {
    async fn start() -> Apis {
        Apis {
            login: Upstream::start().await,
            orders: Upstream::start().await,
            reports: Upstream::start().await,
            partner: Upstream::start().await,
        }
    }

    fn config(&self, idp: &TestIdp) -> TestConfig {
        TestConfig::for_idp(idp)
            .set("oidc.scopes", Raw(r#"["openid", "offline_access"]"#))
            .route(self.login.route("/api", "user"))
            .route(self.orders.route("/orders", "user").set("resource", ORDERS))
            .route(
                self.reports
                    .route("/reports", "user")
                    .set("scopes", Raw(r#"["reports:read"]"#)),
            )
            .route(
                self.partner
                    .route("/partner", "user")
                    .set("exchange", Raw(r#"{ audience = "partner-api" }"#)),
            )
    }
}

/// The bearer token an echo upstream saw for `path`.
async fn bearer_seen(b: &mut Browser, proxy: &Proxy, path: &str) -> String {
    let seen = b.api_seen(proxy, path, &[]).await;
    seen["headers"]["authorization"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[actix_web::test]
async fn each_route_gets_a_token_minted_for_it_and_no_other_upstream_sees_it() {
    let idp = TestIdp::start().await;
    let apis = Apis::start().await;
    let proxy = apis.config(&idp).start().await;
    let mut b = Browser::new();
    let start = b.start_login(&proxy, "/").await;
    assert_eq!(
        start.params.get("resource").map(String::as_str),
        Some(ORDERS),
        "the authorization request asks for the narrowed route's resource"
    );
    let code = start.code(&idp, Tweak::None);
    assert_eq!(b.call_back(&proxy, &code, &start.state).await.status(), 302);

    let login = bearer_seen(&mut b, &proxy, "/api/x").await;
    let orders = bearer_seen(&mut b, &proxy, "/orders/x").await;
    let reports = bearer_seen(&mut b, &proxy, "/reports/x").await;
    let partner = bearer_seen(&mut b, &proxy, "/partner/x").await;
    assert_eq!(idp.minted_for(&login), "login");
    assert_eq!(idp.minted_for(&orders), format!("resource={ORDERS}"));
    assert_eq!(idp.minted_for(&reports), "scope=reports:read");
    assert_eq!(idp.minted_for(&partner), "exchange:audience=partner-api");
    let all = [&login, &orders, &reports, &partner];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b, "every route has a token of its own");
        }
    }
    // Cached in the session: a second call mints nothing.
    assert_eq!(bearer_seen(&mut b, &proxy, "/orders/y").await, orders);
    assert_eq!(bearer_seen(&mut b, &proxy, "/partner/y").await, partner);
    assert_eq!(idp.calls(&idp.state.narrowed_calls), 2);
    assert_eq!(idp.calls(&idp.state.exchange_calls), 1);
    // No route's token appears in what the browser can read of its session.
    let info = b.session_info(&proxy).await.to_string();
    for t in all {
        let t = t.trim_start_matches("Bearer ");
        assert!(!info.contains(t), "/auth/session shows no token");
    }
    // Logout drops them with the session: a copy of the old cookie calls nothing.
    let stale = b.copy();
    let logout = b.logout_url(&proxy).await;
    assert_eq!(b.get(&proxy.url(&logout)).await.status(), 302);
    for path in ["/orders/z", "/partner/z"] {
        let mut s = stale.copy();
        assert_eq!(s.api_get(&proxy, path, &[]).await.status(), 401, "{path}");
    }
}

#[actix_web::test]
async fn twenty_concurrent_calls_to_a_resource_route_after_expiry_cause_one_refresh_for_it() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let apis = Apis::start().await;
    let (a, b_replica) = apis.config(&idp).redis(&redis).start_two().await;
    // The login's own token is born expired too, and left alone until an /api call needs it.
    idp.state.login_expires_in.store(0, Ordering::SeqCst);
    let mut b = Browser::signed_in(&a, &idp).await;
    // The first orders token is born expired; the next lives five minutes.
    idp.state.route_expires_in.store(0, Ordering::SeqCst);
    let first = bearer_seen(&mut b, &a, "/orders/x").await;
    idp.state.route_expires_in.store(300, Ordering::SeqCst);
    let refreshes_before = idp.calls(&idp.state.refresh_calls);

    let results = b
        .concurrent_api_calls(&[&a, &b_replica], "/orders/x", 20)
        .await;
    let fresh = &results[0].1;
    assert_ne!(fresh, &first, "the expired token was replaced");
    for (status, bearer) in &results {
        assert_eq!(*status, 200);
        assert_eq!(bearer, fresh, "every call carries the one new token");
    }
    assert_eq!(idp.minted_for(fresh), format!("resource={ORDERS}"));
    assert_eq!(
        idp.calls(&idp.state.refresh_calls) - refreshes_before,
        1,
        "exactly one refresh at the IdP, across both replicas"
    );
    assert_eq!(
        idp.calls(&idp.state.refresh_reuse),
        0,
        "no rotated token reused"
    );
    // The narrowed refreshes rotated the session's refresh token; the login's refresh, on the
    // other replica, spends the newest one.
    let login = bearer_seen(&mut b, &b_replica, "/api/x").await;
    assert_eq!(idp.minted_for(&login), "refresh");
    assert_eq!(idp.calls(&idp.state.refresh_reuse), 0);
}

#[actix_web::test]
async fn fifty_concurrent_calls_to_a_client_route_cause_one_client_credentials_request() {
    let redis = RedisServer::start();
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let config = TestConfig::for_idp(&idp).redis(&redis).route(
        api.route("/jobs", "client")
            .set("scopes", Raw(r#"["jobs:run"]"#)),
    );
    let (a, b_replica) = config.clone().start_two().await;
    idp.set_refresh_delay(300);
    // Nobody is signed in: the application's token needs no session.
    let anonymous = Browser::new();
    let results = anonymous
        .concurrent_api_calls(&[&a, &b_replica], "/jobs/x", 50)
        .await;
    let token = &results[0].1;
    assert_eq!(idp.minted_for(token), "client:scope=jobs:run");
    for (status, bearer) in &results {
        assert_eq!(*status, 200);
        assert_eq!(bearer, token);
    }
    assert_eq!(
        idp.calls(&idp.state.client_calls),
        1,
        "one client-credentials grant for 50 calls on two replicas"
    );
    // Shared through Redis, sealed: the raw token is in no stored value.
    let raw = token.trim_start_matches("Bearer ");
    assert!(
        redis.dump().iter().all(|k| k
            .parts
            .iter()
            .all(|v| !String::from_utf8_lossy(v).contains(raw))),
        "the client token is stored sealed"
    );
    // A third replica reads it from the store rather than asking the IdP.
    let c = config.start().await;
    let mut third = Browser::new();
    assert_eq!(bearer_seen(&mut third, &c, "/jobs/y").await, *token);
    assert_eq!(idp.calls(&idp.state.client_calls), 1);
}

#[actix_web::test]
async fn user_or_client_sends_the_users_token_when_signed_in_and_the_applications_otherwise() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/catalog", "user_or_client"))
        .route(api.route("/maybe", "optional"))
        .start()
        .await;
    let mut anonymous = Browser::new();
    let app = bearer_seen(&mut anonymous, &proxy, "/catalog/x").await;
    assert!(idp.minted_for(&app).starts_with("client:"), "{app}");
    assert_eq!(bearer_seen(&mut anonymous, &proxy, "/maybe/x").await, "");

    let mut user = Browser::signed_in(&proxy, &idp).await;
    let mine = bearer_seen(&mut user, &proxy, "/catalog/x").await;
    assert_eq!(idp.minted_for(&mine), "login");
    assert_eq!(bearer_seen(&mut user, &proxy, "/maybe/x").await, mine);
}

#[actix_web::test]
async fn an_upstream_refusing_a_route_token_gets_one_new_token_and_the_call_is_retried() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(api.route("/orders", "user").set("resource", ORDERS))
        .route(api.route("/jobs", "client"))
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    for (path, counter) in [
        ("/orders", &idp.state.narrowed_calls),
        ("/jobs", &idp.state.client_calls),
    ] {
        let old = bearer_seen(&mut b, &proxy, &format!("{path}/x")).await;
        let before = idp.calls(counter);
        api.reject(old.trim_start_matches("Bearer "));
        let res = b.api_get(&proxy, &format!("{path}/guarded"), &[]).await;
        assert_eq!(res.status(), 200, "{path}: retried with a new token");
        let now = bearer_seen(&mut b, &proxy, &format!("{path}/x")).await;
        assert_ne!(now, old, "{path}");
        assert_eq!(idp.calls(counter) - before, 1, "{path}: one new token");
    }
}

#[actix_web::test]
async fn an_idp_refusing_a_routes_token_gives_403_and_keeps_the_session() {
    let idp = TestIdp::start().await;
    let api = Upstream::start().await;
    let proxy = TestConfig::for_idp(&idp)
        .route(
            api.route("/legacy", "user")
                .set("resource", "http://plain.example"),
        )
        .route(
            api.route("/forbidden", "user")
                .set("exchange", Raw(r#"{ audience = "forbidden-api" }"#)),
        )
        .route(
            api.route("/jobs", "client")
                .set("resource", "http://plain.example"),
        )
        .start()
        .await;
    let mut b = Browser::signed_in(&proxy, &idp).await;
    for path in ["/legacy/x", "/forbidden/x", "/jobs/x"] {
        let res = b.api_get(&proxy, path, &[]).await;
        assert_eq!(res.status(), 403, "{path}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"], "token_not_granted", "{path}");
    }
    assert_eq!(api.hit_count(), 0, "nothing forwarded");
    assert_eq!(b.session(&proxy).await.status(), 200, "still signed in");
}

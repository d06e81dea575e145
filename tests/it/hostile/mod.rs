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
//!
//! One file per category: `callback`, `id_token`, `cookies`, `return_to`, `csrf`, `raw_http`,
//! `backchannel`, `frontchannel`, `login_params` (what `/auth/login` passes on to the IdP),
//! `paths` (one path, one route), `check` (forward-auth: who is believed about which request),
//! `route_tokens` (per-route tokens and step-up), `rules` (the routes' `allow` rules),
//! `identity` (the signed identity sent upstreams), `sessions` (session lists, events, the admin
//! API), `records` (what the store holds for a session, damaged by someone who can write to it),
//! `apps` (several apps on one port: hosts, forwarded hosts, providers; its own world of two apps).
//! This file holds the [`World`] they attack and the invariant checks.

mod apps;
mod backchannel;
mod callback;
mod check;
mod cookies;
mod csrf;
mod frontchannel;
mod id_token;
mod identity;
mod login_params;
mod paths;
pub(crate) mod raw_http;
mod records;
mod return_to;
mod route_tokens;
mod rules;
mod sessions;

use crate::common::idp::Quirks;
use crate::common::*;

/// A proxy on Redis with an API route, its IdP and upstream, and a signed-in bystander.
struct World {
    idp: TestIdp,
    api: Upstream,
    redis: RedisServer,
    proxy: Proxy,
    victim: Browser,
    /// The session cookie's name: `__Host-vestibule` behind TLS, else `vestibule`.
    cookie: &'static str,
}

/// What must not change while an attack is refused.
#[derive(Clone, Copy, Debug)]
struct Before {
    sessions: usize,
    hits: usize,
}

impl World {
    /// `session` keys (e.g. `("login_timeout", "1s")`) change the `[session]` defaults.
    async fn new(iss_param_supported: bool, session: &[(&str, &str)]) -> World {
        Self::with_routes(iss_param_supported, session, |_| Vec::new()).await
    }

    /// [`World::new`] with more routes to the same upstream beside `/api`.
    async fn with_routes(
        iss_param_supported: bool,
        session: &[(&str, &str)],
        routes: impl Fn(&Upstream) -> Vec<TestRoute>,
    ) -> World {
        Self::build(iss_param_supported, session, routes, false, |c| c).await
    }

    /// [`World::new`] with other config keys set (or changed) by `tune`.
    async fn tuned(tune: impl FnOnce(TestConfig) -> TestConfig) -> World {
        Self::build(false, &[], |_| Vec::new(), false, tune).await
    }

    /// [`World::new`] behind a TLS-terminating proxy: an https `public_url`, so the cookies are
    /// `Secure` and `__Host-` prefixed.
    async fn behind_tls() -> World {
        Self::build(false, &[], |_| Vec::new(), true, |c| c).await
    }

    async fn build(
        iss_param_supported: bool,
        session: &[(&str, &str)],
        routes: impl Fn(&Upstream) -> Vec<TestRoute>,
        behind_tls: bool,
        tune: impl FnOnce(TestConfig) -> TestConfig,
    ) -> World {
        let idp = TestIdp::start_with(iss_param_supported).await;
        let api = Upstream::start().await;
        let redis = RedisServer::start();
        let mut config = TestConfig::for_idp(&idp)
            .redis(&redis)
            .route(api.api_route("required"));
        for r in routes(&api) {
            config = config.route(r);
        }
        for (key, value) in session {
            config = config.set(&format!("session.{key}"), *value);
        }
        let config = tune(config);
        let proxy = if behind_tls {
            config.start_behind_tls().await
        } else {
            config.start().await
        };
        let cookie = if behind_tls {
            "__Host-vestibule"
        } else {
            "vestibule"
        };
        Self::signed_in(idp, api, redis, proxy, cookie).await
    }

    /// [`World::new`] against a plain OAuth 2.0 provider (`protocol = "oauth2"`, like GitHub: no
    /// ID token, the user from userinfo).
    async fn oauth2() -> World {
        let idp = TestIdp::start_quirky(Quirks {
            oauth2_only: true,
            ..Quirks::default()
        })
        .await;
        let api = Upstream::start().await;
        let redis = RedisServer::start();
        let proxy = TestConfig::for_oauth2_idp(&idp)
            .redis(&redis)
            .route(api.api_route("required"))
            .start()
            .await;
        Self::signed_in(idp, api, redis, proxy, "vestibule").await
    }

    /// The world with its victim signed in.
    async fn signed_in(
        idp: TestIdp,
        api: Upstream,
        redis: RedisServer,
        proxy: Proxy,
        cookie: &'static str,
    ) -> World {
        let mut w = World {
            idp,
            api,
            redis,
            proxy,
            victim: Browser::new(),
            cookie,
        };
        w.victim = w.sign_in().await;
        w
    }

    /// A new browser signed in through the whole flow (with RFC 9207 `iss`).
    async fn sign_in(&self) -> Browser {
        let mut b = Browser::new();
        let s = b.start_login(&self.proxy, "/").await;
        let code = s.code(&self.idp, Tweak::None);
        let params = [
            ("code", code.as_str()),
            ("state", s.state.as_str()),
            ("iss", self.idp.state.issuer.as_str()),
        ];
        let res = b.get(&self.proxy.callback_url(&params)).await;
        assert_eq!(res.status(), 302, "sign-in completes");
        b
    }

    fn before(&self) -> Before {
        Before {
            sessions: self.redis.session_count(),
            hits: self.api.hit_count(),
        }
    }

    /// After a call whose session value in the store was damaged or forged (`res`): a 401
    /// `unauthenticated`, nothing forwarded, that value removed and no other session ended.
    async fn assert_damaged_session_refused(
        &mut self,
        res: reqwest::Response,
        before: Before,
        case: &str,
    ) {
        assert_eq!(res.status(), 401, "{case}");
        let body = res.text().await.unwrap_or_default();
        assert!(body.contains("\"unauthenticated\""), "{case}: {body}");
        assert_eq!(
            self.api.hit_count(),
            before.hits,
            "{case}: nothing forwarded"
        );
        assert_eq!(
            self.redis.session_count(),
            before.sessions - 1,
            "{case}: the damaged value is removed, no other"
        );
        assert_eq!(
            self.victim.session(&self.proxy).await.status(),
            200,
            "{case}"
        );
    }

    /// How many logins are pending in the store (started, not yet called back).
    fn pending_logins(&self) -> usize {
        let mut c = self
            .redis
            .client()
            .get_connection()
            .expect("redis connection");
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg("vestibule:l:*")
            .query(&mut c)
            .expect("KEYS");
        keys.len()
    }

    /// The bystander's session id (its cookie's value).
    fn victim_id(&self) -> String {
        self.victim.cookies[self.cookie].clone()
    }

    /// The invariants of a refused attack (see the module comment); returns the answer's body.
    async fn refused(
        &mut self,
        case: &str,
        res: reqwest::Response,
        status: u16,
        code: &str,
        before: Before,
    ) -> String {
        // Every body contains "": a row without its code would pass on any refusal.
        assert!(!code.is_empty(), "{case}: the row names no error code");
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
        let (set, cleared) = (format!("{}=", self.cookie), format!("{}=;", self.cookie));
        assert!(
            !set_cookies
                .iter()
                .any(|c| c.starts_with(&set) && !c.starts_with(&cleared)),
            "{case}: no session cookie is set: {set_cookies:?}"
        );
        let body = res.text().await.unwrap_or_default();
        assert!(body.contains(code), "{case}: answer names `{code}`: {body}");
        self.unchanged(case, before).await;
        body
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
        self.proxy.assert_still_serving().await;
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

//! Several apps on one port (`[[apps]]`, issue 26): a request that names one app's host with
//! another app's cookie, a host no app answers or spelled to slip past the match, an
//! `X-Forwarded-Host` from a client or a client's part of a gateway's, a `provider` of another
//! app or of odd bytes, a session or login cookie re-tagged for another provider, a callback at
//! the other app, and the provider chooser fed a hostile query.
//!
//! The world: app `a` (providers `corp` and `social`, two IdPs) and app `b` (provider `partner`,
//! on `corp`'s IdP with the same client: only the app's name keeps their sessions apart) at
//! `a.localhost` and `b.localhost` on one port, an echo upstream per app at `/api`, one Redis,
//! and a signed-in victim per provider. `127.0.0.2` is the trusted gateway; the tests' own
//! `127.0.0.1` is not. Requests are written raw, so that `Host` and the target are the bytes sent.
//!
//! After every row, the invariants of `hostile/mod.rs` for this world: the answer expected, no
//! session cookie set, no session created or ended (the store's count, and every victim still
//! signed in), no pending login created, nothing at either upstream, `/healthz` answers.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::apps::provider;
use crate::common::config::ENCRYPTION_KEY;
use crate::common::*;

const A: &str = "a.localhost";
const B: &str = "b.localhost";
/// The tests' own address: not a trusted proxy.
const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// The trusted gateway (`server.trusted_proxies`).
const GATEWAY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

struct AppsWorld {
    corp_idp: TestIdp,
    social_idp: TestIdp,
    up_a: Upstream,
    up_b: Upstream,
    redis: RedisServer,
    apps: TestApps,
    /// Signed in at `a` with `corp`, at `a` with `social`, at `b` with `partner`.
    victims: [(Browser, &'static str); 3],
}

/// A raw answer: its status, and its head (lower-cased) and body as text.
struct Answer {
    status: u16,
    text: String,
}

impl AppsWorld {
    async fn new() -> AppsWorld {
        let (corp_idp, social_idp) = (TestIdp::start().await, TestIdp::start().await);
        let (up_a, up_b) = (Upstream::start().await, Upstream::start().await);
        let redis = RedisServer::start();
        let (corp, social) = (provider("corp", &corp_idp), provider("social", &social_idp));
        let partner = provider("partner", &corp_idp);
        let session = format!(
            "[session]\nstore = \"redis\"\nredis_url = \"{}\"\nencryption_key = \"{ENCRYPTION_KEY}\"\n",
            redis.url()
        );
        let (ua, ub) = (up_a.url(), up_b.url());
        let apps = TestApps::start(move |port| {
            let route = |up: &str| {
                format!(
                    "[[apps.routes]]\nprefix = \"/api\"\nupstream = \"{up}\"\ntoken = \"user\"\n"
                )
            };
            // The `[server]` section is still open where this begins.
            format!(
                "trusted_proxies = [\"{GATEWAY}/32\"]\n{session}\
                 [[apps]]\nname = \"a\"\npublic_url = \"http://{A}:{port}\"\n{}{corp}{social}\
                 [[apps]]\nname = \"b\"\npublic_url = \"http://{B}:{port}\"\n{}{partner}",
                route(&ua),
                route(&ub),
            )
        })
        .await;
        let mut w = AppsWorld {
            corp_idp,
            social_idp,
            up_a,
            up_b,
            redis,
            apps,
            victims: [
                (Browser::new(), A),
                (Browser::new(), A),
                (Browser::new(), B),
            ],
        };
        w.victims = [
            (w.sign_in(A, "corp").await, A),
            (w.sign_in(A, "social").await, A),
            (w.sign_in(B, "partner").await, B),
        ];
        w
    }

    fn idp(&self, provider: &str) -> &TestIdp {
        match provider {
            "social" => &self.social_idp,
            _ => &self.corp_idp,
        }
    }

    /// A new browser signed in at `host` with `provider`.
    async fn sign_in(&self, host: &str, provider: &str) -> Browser {
        let mut b = self.apps.browser(&[A, B]);
        let proxy = self.apps.at(host);
        let start = b
            .start_login_at(
                &proxy,
                &format!("/auth/login?provider={provider}&return_to=/"),
            )
            .await;
        let code = start.code(self.idp(provider), Tweak::None);
        let res = b.call_back(&proxy, &code, &start.state).await;
        assert_eq!(res.status(), 302, "sign-in at {host} with {provider}");
        b
    }

    /// The session cookie's value of victim `i` (`<provider>.<id>`).
    fn cookie(&self, i: usize) -> String {
        self.victims[i].0.cookies["vestibule"].clone()
    }

    /// `Host` value of `host` on this port.
    fn host(&self, host: &str) -> String {
        format!("{host}:{}", self.apps.port)
    }

    fn pending_logins(&self) -> usize {
        let mut c = self.redis.client().get_connection().expect("redis");
        let keys: Vec<String> = ::redis::cmd("KEYS")
            .arg("vestibule:l:*")
            .query(&mut c)
            .expect("KEYS");
        keys.len()
    }

    /// Sessions, pending logins and hits at each upstream.
    fn counts(&self) -> [usize; 4] {
        [
            self.redis.session_count(),
            self.pending_logins(),
            self.up_a.hit_count(),
            self.up_b.hit_count(),
        ]
    }

    /// Sends `request` from `peer` to the port; the whole answer (the request closes).
    async fn raw(&self, peer: Ipv4Addr, request: &[u8]) -> Answer {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from((peer, 0)))
            .expect("bind the peer's address");
        let mut s = socket
            .connect(SocketAddr::from((CLIENT, self.apps.port)))
            .await
            .expect("connect");
        s.write_all(request).await.expect("write");
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
            .await
            .expect("the answer ends")
            .expect("read");
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        Answer {
            status,
            text: format!("{}\r\n\r\n{body}", head.to_ascii_lowercase()),
        }
    }

    /// After a row: no session created or ended, no pending login created, nothing at either
    /// upstream, every victim still signed in at its app, still serving.
    async fn unchanged(&mut self, case: &str, before: [usize; 4]) {
        assert_eq!(
            self.counts(),
            before,
            "{case}: [sessions, pending logins, hits at a, hits at b]"
        );
        for (victim, host) in &mut self.victims {
            let proxy = self.apps.at(host);
            assert_eq!(
                victim.session(&proxy).await.status(),
                200,
                "{case}: the victim at {host}"
            );
        }
        self.apps.at("127.0.0.1").assert_still_serving().await;
    }

    /// Runs one row: `request` from `peer` must be answered `status` with `expect` in the answer
    /// (an error code, or a header line), set no session or login cookie, and change nothing.
    async fn row(&mut self, row: &Row) {
        let before = self.counts();
        let answer = self.raw(row.peer, &row.request).await;
        let case = &row.case;
        assert_eq!(answer.status, row.status, "{case}: status\n{}", answer.text);
        assert!(!row.expect.is_empty(), "{case}: the row names no answer");
        assert!(
            answer.text.contains(&row.expect),
            "{case}: `{}` in\n{}",
            row.expect,
            answer.text
        );
        for name in ["vestibule", "vestibule-login"] {
            let set = format!("set-cookie: {name}=");
            let cleared = format!("set-cookie: {name}=;");
            assert!(
                answer
                    .text
                    .lines()
                    .all(|l| !l.starts_with(&set) || l.starts_with(&cleared)),
                "{case}: no {name} cookie set\n{}",
                answer.text
            );
        }
        if row.auth {
            assert!(
                answer.text.contains("cache-control: no-store"),
                "{case}: no-store"
            );
        }
        self.unchanged(case, before).await;
    }
}

/// One attack: the request's bytes, who sends it, and the answer it must get.
struct Row {
    case: String,
    peer: Ipv4Addr,
    request: Vec<u8>,
    status: u16,
    /// In the answer: `"error":"<code>"`, or a header line.
    expect: String,
    /// An answer of an auth endpoint (or a 421): `no-store`.
    auth: bool,
}

/// A GET with exactly these header lines (each ending in CRLF) after the request line.
fn get(target: &str, headers: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\n{headers}X-CSRF: 1\r\nConnection: close\r\n\r\n").into_bytes()
}

fn code(c: &str) -> String {
    format!("\"error\":\"{c}\"")
}

/// The code on an error page (`/auth/login`, `/auth/callback`: HTML for a person).
fn page(c: &str) -> String {
    format!("<code>{c}</code>")
}

fn row(case: &str, peer: Ipv4Addr, request: Vec<u8>, status: u16, expect: String) -> Row {
    Row {
        case: case.to_owned(),
        peer,
        request,
        status,
        expect,
        auth: true,
    }
}

/// `Host` spellings, and `X-Forwarded-Host` from a client and from the gateway, on the session
/// and an API route: each 421 or served as the app it names, where the cookie sent is nothing.
fn host_rows(w: &AppsWorld) -> Vec<Row> {
    let (ca, cb) = (
        format!("vestibule={}", w.cookie(0)),
        format!("vestibule={}", w.cookie(2)),
    );
    let (a, b, p) = (w.host(A), w.host(B), w.apps.port);
    let (unauthenticated, misdirected) = (code("unauthenticated"), code("misdirected_request"));
    let mut rows = Vec::new();
    for target in ["/auth/session", "/api/x"] {
        let auth = target.starts_with("/auth/");
        let mut add = |case: &str, peer, headers: String, status, expect: &String| {
            let mut r = row(
                &format!("{case} on {target}"),
                peer,
                get(target, &headers),
                status,
                expect.clone(),
            );
            // An empty `expect`: refused by actix-http's parser, before any app (no JSON).
            if expect.is_empty() {
                r.expect = "http/1.1 400 bad request".to_owned();
                r.auth = false;
            } else {
                r.auth = auth || status == 421;
            }
            rows.push(r);
        };
        let h = |host: &str, cookie: &str, extra: &str| {
            format!("Host: {host}\r\nCookie: {cookie}\r\n{extra}")
        };
        add(
            "b's host with a's cookie",
            CLIENT,
            h(&b, &ca, ""),
            401,
            &unauthenticated,
        );
        add(
            "a's host with b's cookie",
            CLIENT,
            h(&a, &cb, ""),
            401,
            &unauthenticated,
        );
        add(
            "a host no app answers",
            CLIENT,
            h(&format!("c.localhost:{p}"), &ca, ""),
            421,
            &misdirected,
        );
        add(
            "the address, not a name",
            CLIENT,
            h(&format!("127.0.0.1:{p}"), &ca, ""),
            421,
            &misdirected,
        );
        add(
            "b's host in upper case with a's cookie",
            CLIENT,
            h(&b.to_uppercase(), &ca, ""),
            401,
            &unauthenticated,
        );
        add(
            "a's host in mixed case with b's cookie",
            CLIENT,
            h(&format!("A.LocalHost:{p}"), &cb, ""),
            401,
            &unauthenticated,
        );
        add(
            "b's host with a trailing dot",
            CLIENT,
            h(&format!("b.localhost.:{p}"), &ca, ""),
            421,
            &misdirected,
        );
        add(
            "a's host with a trailing dot",
            CLIENT,
            h(&format!("a.localhost.:{p}"), &cb, ""),
            421,
            &misdirected,
        );
        add(
            "b's name on port 80",
            CLIENT,
            h("b.localhost:80", &ca, ""),
            421,
            &misdirected,
        );
        add(
            "b's name without a port",
            CLIENT,
            h(B, &ca, ""),
            421,
            &misdirected,
        );
        add(
            "b's port with a leading zero",
            CLIENT,
            h(&format!("b.localhost:0{p}"), &ca, ""),
            421,
            &misdirected,
        );
        add(
            "userinfo before b's host",
            CLIENT,
            h(&format!("x@{b}"), &ca, ""),
            421,
            &misdirected,
        );
        add(
            "b's host then a comma and a's",
            CLIENT,
            h(&format!("{b}, {a}"), &cb, ""),
            421,
            &misdirected,
        );
        add(
            "a Cyrillic а in a's host",
            CLIENT,
            h(&format!("а.localhost:{p}"), &cb, ""),
            421,
            &misdirected,
        );
        add("an empty Host", CLIENT, h("", &ca, ""), 421, &misdirected);
        add(
            "no Host",
            CLIENT,
            format!("Cookie: {ca}\r\n"),
            400,
            &String::new(),
        );
        add(
            "two Hosts, a's first",
            CLIENT,
            format!("Host: {a}\r\nHost: {b}\r\nCookie: {ca}\r\n"),
            400,
            &String::new(),
        );
        add(
            "two Hosts, b's first",
            CLIENT,
            format!("Host: {b}\r\nHost: {a}\r\nCookie: {cb}\r\n"),
            400,
            &String::new(),
        );
        // An X-Forwarded-Host from a client is no word on the host.
        add(
            "a client's X-Forwarded-Host naming b",
            CLIENT,
            h(&a, &cb, &format!("X-Forwarded-Host: {b}\r\n")),
            401,
            &unauthenticated,
        );
        add(
            "a client's X-Forwarded-Host naming a, at a host no app answers",
            CLIENT,
            h(
                &format!("c.localhost:{p}"),
                &ca,
                &format!("X-Forwarded-Host: {a}\r\n"),
            ),
            421,
            &misdirected,
        );
        add(
            "a client's X-Forwarded-Host list ending in b",
            CLIENT,
            h(&a, &cb, &format!("X-Forwarded-Host: {a}, {b}\r\n")),
            401,
            &unauthenticated,
        );
        add(
            "a client's two X-Forwarded-Hosts, b's last",
            CLIENT,
            h(
                &a,
                &cb,
                &format!("X-Forwarded-Host: {a}\r\nX-Forwarded-Host: {b}\r\n"),
            ),
            401,
            &unauthenticated,
        );
        add(
            "a client's Forwarded host=b",
            CLIENT,
            h(&a, &cb, &format!("Forwarded: host={b}\r\n")),
            401,
            &unauthenticated,
        );
        add(
            "a client's X-Host naming b",
            CLIENT,
            h(&a, &cb, &format!("X-Host: {b}\r\n")),
            401,
            &unauthenticated,
        );
        // From the gateway, only its own (last) entry counts, and it must name an app.
        add(
            "the gateway's a after the client's b",
            GATEWAY,
            h(&a, &cb, &format!("X-Forwarded-Host: {b}, {a}\r\n")),
            401,
            &unauthenticated,
        );
        add(
            "the gateway's a as a second header after the client's b",
            GATEWAY,
            h(
                &a,
                &cb,
                &format!("X-Forwarded-Host: {b}\r\nX-Forwarded-Host: {a}\r\n"),
            ),
            401,
            &unauthenticated,
        );
        add(
            "the gateway's b over a Host of a, with a's cookie",
            GATEWAY,
            h(&a, &ca, &format!("X-Forwarded-Host: {b}\r\n")),
            401,
            &unauthenticated,
        );
        add(
            "the gateway's b in upper case, with a's cookie",
            GATEWAY,
            h(
                &a,
                &ca,
                &format!("X-Forwarded-Host: {}\r\n", b.to_uppercase()),
            ),
            401,
            &unauthenticated,
        );
        add(
            "the gateway's list ending in an empty entry",
            GATEWAY,
            h(&a, &ca, &format!("X-Forwarded-Host: {a},\r\n")),
            421,
            &misdirected,
        );
        add(
            "the gateway's empty X-Forwarded-Host",
            GATEWAY,
            h(&a, &ca, "X-Forwarded-Host: \r\n"),
            421,
            &misdirected,
        );
        add(
            "the gateway's host no app answers",
            GATEWAY,
            h(&a, &ca, "X-Forwarded-Host: c.localhost\r\n"),
            421,
            &misdirected,
        );
    }
    rows
}

/// Absolute-form targets naming another host than `Host` (RFC 9112 §3.2.2: the target's
/// authority is the request's host).
fn absolute_form_rows(w: &AppsWorld) -> Vec<Row> {
    let (ca, cb) = (
        format!("vestibule={}", w.cookie(0)),
        format!("vestibule={}", w.cookie(2)),
    );
    let (a, b, p) = (w.host(A), w.host(B), w.apps.port);
    vec![
        row(
            "an absolute target at b, Host a, a's cookie",
            CLIENT,
            get(
                &format!("http://{b}/auth/session"),
                &format!("Host: {a}\r\nCookie: {ca}\r\n"),
            ),
            401,
            code("unauthenticated"),
        ),
        row(
            "an absolute target at a, Host b, b's cookie",
            CLIENT,
            get(
                &format!("http://{a}/auth/session"),
                &format!("Host: {b}\r\nCookie: {cb}\r\n"),
            ),
            401,
            code("unauthenticated"),
        ),
        row(
            "an absolute target at a host no app answers, Host a",
            CLIENT,
            get(
                &format!("http://c.localhost:{p}/auth/session"),
                &format!("Host: {a}\r\nCookie: {ca}\r\n"),
            ),
            421,
            code("misdirected_request"),
        ),
    ]
}

/// Session cookies re-tagged for another provider or app, or with a broken tag: nothing loads.
fn cookie_rows(w: &AppsWorld) -> Vec<Row> {
    let id = |i: usize| {
        w.cookie(i)
            .split_once('.')
            .expect("a tagged cookie")
            .1
            .to_owned()
    };
    let (corp, social, partner) = (id(0), id(1), id(2));
    let (a, b) = (w.host(A), w.host(B));
    let table: Vec<(&str, &str, String)> = vec![
        ("corp's id tagged social", &a, format!("social.{corp}")),
        ("social's id tagged corp", &a, format!("corp.{social}")),
        (
            "a's id tagged with b's provider, at a",
            &a,
            format!("partner.{corp}"),
        ),
        (
            "b's id tagged corp (the same IdP and client), at a",
            &a,
            format!("corp.{partner}"),
        ),
        ("b's own cookie at a", &a, format!("partner.{partner}")),
        (
            "a's id tagged with b's provider, at b",
            &b,
            format!("partner.{corp}"),
        ),
        ("a tag and no id", &a, "corp.".to_owned()),
        ("a tag and no dot", &a, "corp".to_owned()),
        ("an untagged id", &a, corp.clone()),
        ("an empty tag", &a, format!(".{corp}")),
        ("the tag in upper case", &a, format!("CORP.{corp}")),
        ("the tag twice", &a, format!("corp.corp.{corp}")),
        ("the dot percent-encoded", &a, format!("corp%2E{corp}")),
        (
            "corp's and social's both",
            &a,
            format!("corp.{corp}; vestibule=social.{social}"),
        ),
    ];
    let mut rows = Vec::new();
    for target in ["/auth/session", "/api/x", "/auth/sessions"] {
        for (case, host, value) in &table {
            let mut r = row(
                &format!("{case} on {target}"),
                CLIENT,
                get(
                    target,
                    &format!("Host: {host}\r\nCookie: vestibule={value}\r\n"),
                ),
                401,
                code("unauthenticated"),
            );
            r.auth = target.starts_with("/auth/");
            rows.push(r);
        }
    }
    rows
}

/// `/auth/login?provider=` naming another app's provider, none, or odd bytes: no login starts.
fn provider_rows(w: &AppsWorld) -> Vec<Row> {
    let (a, b, p) = (w.host(A), w.host(B), w.apps.port);
    let long = "p".repeat(1024);
    let table: Vec<(&str, &str, String, u16, String)> = vec![
        (
            "b's provider at a",
            &a,
            "provider=partner".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a's provider at b (the same IdP)",
            &b,
            "provider=corp".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a's other provider at b",
            &b,
            "provider=social".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "an unknown provider",
            &a,
            "provider=nope".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "an empty provider",
            &a,
            "provider=".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "provider twice",
            &a,
            "provider=corp&provider=social".into(),
            400,
            page("duplicate_parameter"),
        ),
        (
            "provider twice, one b's",
            &a,
            "provider=corp&provider=partner".into(),
            400,
            page("duplicate_parameter"),
        ),
        (
            "the name in upper case",
            &a,
            "provider=CORP".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a NUL after the name",
            &a,
            "provider=corp%00".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "CR LF and a header",
            &a,
            "provider=corp%0D%0ASet-Cookie:%20vestibule=x".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a leading space",
            &a,
            "provider=%20corp".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a trailing dot",
            &a,
            "provider=corp.".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "a path",
            &a,
            "provider=../corp".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "invalid UTF-8",
            &a,
            "provider=%FF".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "markup",
            &a,
            "provider=%3Cscript%3E".into(),
            400,
            page("unknown_provider"),
        ),
        (
            "1 KB",
            &a,
            format!("provider={long}"),
            400,
            page("unknown_provider"),
        ),
    ];
    let mut rows: Vec<Row> = table
        .into_iter()
        .map(|(case, host, query, status, expect)| {
            row(
                case,
                CLIENT,
                get(
                    &format!("/auth/login?return_to=/&{query}"),
                    &format!("Host: {host}\r\n"),
                ),
                status,
                expect,
            )
        })
        .collect();
    rows.push(row(
        "a login at a host no app answers",
        CLIENT,
        get(
            "/auth/login?provider=corp",
            &format!("Host: c.localhost:{p}\r\n"),
        ),
        421,
        code("misdirected_request"),
    ));
    rows
}

/// A login in progress: its login cookie's value (`<provider>.<binding>`), state and code.
struct Pending {
    cookie: String,
    state: String,
    code: String,
}

impl AppsWorld {
    async fn start_login(&self, host: &str, provider: &str) -> Pending {
        let mut b = self.apps.browser(&[A, B]);
        let start = b
            .start_login_at(
                &self.apps.at(host),
                &format!("/auth/login?provider={provider}&return_to=/"),
            )
            .await;
        Pending {
            cookie: b.cookies["vestibule-login"].clone(),
            code: start.code(self.idp(provider), Tweak::None),
            state: start.state,
        }
    }
}

/// Callbacks at the other app, or with the login cookie re-tagged for another provider.
fn callback_rows(w: &AppsWorld, at_a: &Pending, at_b: &Pending) -> Vec<Row> {
    let binding = |p: &Pending| p.cookie.split_once('.').expect("tagged").1.to_owned();
    let (a, b, p) = (w.host(A), w.host(B), w.apps.port);
    let callback = |host: &str, login: &Pending, cookie: String| {
        get(
            &format!("/auth/callback?code={}&state={}", login.code, login.state),
            &format!("Host: {host}\r\nCookie: vestibule-login={cookie}\r\n"),
        )
    };
    let (none, unknown) = (page("no_login_in_progress"), page("invalid_state"));
    vec![
        row(
            "a's login called back at b",
            CLIENT,
            callback(&b, at_a, at_a.cookie.clone()),
            400,
            none.clone(),
        ),
        row(
            "a's login called back at b, its cookie tagged with b's provider (the same IdP)",
            CLIENT,
            callback(&b, at_a, format!("partner.{}", binding(at_a))),
            400,
            unknown.clone(),
        ),
        row(
            "a's corp login called back at a, its cookie tagged social",
            CLIENT,
            callback(&a, at_a, format!("social.{}", binding(at_a))),
            400,
            unknown.clone(),
        ),
        row(
            "b's login called back at a",
            CLIENT,
            callback(&a, at_b, at_b.cookie.clone()),
            400,
            none,
        ),
        row(
            "b's login called back at a, its cookie tagged corp (the same IdP)",
            CLIENT,
            callback(&a, at_b, format!("corp.{}", binding(at_b))),
            400,
            unknown,
        ),
        row(
            "a's login called back at a host no app answers",
            CLIENT,
            callback(&format!("c.localhost:{p}"), at_a, at_a.cookie.clone()),
            421,
            code("misdirected_request"),
        ),
    ]
}

/// Logouts of a's corp session sent with its token where it is not that session: served, with
/// nothing to end (302 home, the cookie cleared at that host only).
async fn logout_rows(w: &mut AppsWorld) -> Vec<Row> {
    let info = w.victims[0].0.session_info(&w.apps.at(A)).await;
    let url = info["logout_url"].as_str().expect("logout_url").to_owned();
    let corp = w.cookie(0);
    let id = corp.split_once('.').expect("tagged").1.to_owned();
    let (a, b) = (w.host(A), w.host(B));
    let home = "location: /\r\n".to_owned();
    let logout = |host: &str, cookie: &str| {
        get(
            &url,
            &format!("Host: {host}\r\nCookie: vestibule={cookie}\r\n"),
        )
    };
    vec![
        row(
            "a's logout at b with a's cookie",
            CLIENT,
            logout(&b, &corp),
            302,
            home.clone(),
        ),
        row(
            "a's logout at b, its cookie tagged partner",
            CLIENT,
            logout(&b, &format!("partner.{id}")),
            302,
            home.clone(),
        ),
        row(
            "a's corp logout at a, its cookie tagged social",
            CLIENT,
            logout(&a, &format!("social.{id}")),
            302,
            home,
        ),
    ]
}

#[actix_web::test]
async fn no_host_cookie_or_provider_reaches_another_apps_session_or_login() {
    let mut w = AppsWorld::new().await;
    let (at_a, at_b) = (
        w.start_login(A, "corp").await,
        w.start_login(B, "partner").await,
    );
    let mut rows = host_rows(&w);
    rows.extend(cookie_rows(&w));
    rows.extend(provider_rows(&w));
    rows.extend(callback_rows(&w, &at_a, &at_b));
    rows.extend(logout_rows(&mut w).await);
    for r in &rows {
        w.row(r).await;
    }

    // Controls: the same requests, made right, do reach the app they name.
    let cb = format!("vestibule={}", w.cookie(2));
    let (a, b) = (w.host(A), w.host(B));
    for (case, peer, headers) in [
        (
            "b's host in upper case",
            CLIENT,
            format!("Host: {}\r\nCookie: {cb}\r\n", b.to_uppercase()),
        ),
        (
            "the gateway's b over a Host of a",
            GATEWAY,
            format!("Host: {a}\r\nCookie: {cb}\r\nX-Forwarded-Host: {b}\r\n"),
        ),
    ] {
        let answer = w.raw(peer, &get("/auth/session", &headers)).await;
        assert_eq!(answer.status, 200, "control, {case}: {}", answer.text);
        assert!(
            answer.text.contains("\"provider\":\"partner\""),
            "control, {case}"
        );
    }
    // Neither login was spent by the rows: each completes where it began (a session each).
    let sessions = w.redis.session_count();
    for (host, login) in [(A, &at_a), (B, &at_b)] {
        let answer = w
            .raw(
                CLIENT,
                &get(
                    &format!("/auth/callback?code={}&state={}", login.code, login.state),
                    &format!(
                        "Host: {}\r\nCookie: vestibule-login={}\r\n",
                        w.host(host),
                        login.cookie
                    ),
                ),
            )
            .await;
        assert_eq!(
            answer.status, 302,
            "control, the login at {host}: {}",
            answer.text
        );
    }
    assert_eq!(
        w.redis.session_count(),
        sessions + 2,
        "control: two sessions"
    );
}

/// An absolute-form target names the app, not `Host` (RFC 9112 §3.2.2: a server ignores `Host`
/// then and uses the target's authority): a's cookie with b's URL as the target is b's request,
/// where it loads nothing, and a target at a host no app answers is 421. (Found by these rows:
/// `Host` used to decide.)
#[actix_web::test]
async fn an_absolute_form_target_picks_its_own_app_not_the_host_headers() {
    let mut w = AppsWorld::new().await;
    for r in &absolute_form_rows(&w) {
        w.row(r).await;
    }
}

/// The page with every attribute value blanked: what must not change whatever the query.
fn skeleton(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"") {
        out.push_str(&rest[..i + 6]);
        rest = &rest[i + 6..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Each link's target, as the browser reads it (HTML-unescaped).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .map(|s| {
            s.split('"')
                .next()
                .unwrap_or("")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

#[actix_web::test]
async fn the_chooser_escapes_a_hostile_query_and_its_links_return_only_to_the_origin() {
    let mut w = AppsWorld::new().await;
    let a = w.host(A);
    let page = |query: &str| get(&format!("/auth/login?{query}"), &format!("Host: {a}\r\n"));
    let benign = w.raw(CLIENT, &page("return_to=/inbox")).await;
    assert_eq!(benign.status, 200, "control: the chooser");
    let (_, benign_body) = benign.text.split_once("\r\n\r\n").expect("a body");
    let benign_skeleton = skeleton(benign_body);
    let long = format!("return_to=/{}", "x".repeat(4000));
    let table: Vec<(&str, String, bool)> = vec![
        (
            "markup, encoded",
            "return_to=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
            true,
        ),
        (
            "markup, raw",
            "return_to=\"><script>alert(1)</script>".into(),
            false,
        ),
        (
            "a closing link and a new one, raw",
            "return_to=/</a><a href=//evil.example>".into(),
            false,
        ),
        (
            "a closing link, encoded",
            "return_to=/%3C/a%3E%3Ca%20href=//evil.example%3E".into(),
            true,
        ),
        (
            "single quotes and an event handler",
            "return_to='onmouseover='alert(1)".into(),
            true,
        ),
        (
            "an absolute URL",
            "return_to=https://evil.example/".into(),
            true,
        ),
        (
            "a scheme-relative URL",
            "return_to=//evil.example".into(),
            true,
        ),
        ("a backslash URL", "return_to=/%5Cevil.example".into(), true),
        ("javascript:", "return_to=javascript:alert(1)".into(), true),
        (
            "a provider of b in another parameter",
            "x=%26provider%3Dpartner&return_to=/".into(),
            true,
        ),
        ("an entity", "return_to=/&amp;provider=partner".into(), true),
        ("4 KB", long, true),
    ];
    let mut followed = 0;
    for (case, query, served) in table {
        let case = &case;
        let before = w.counts();
        let answer = w.raw(CLIENT, &page(&query)).await;
        if !served {
            // Raw `"`, `<` and `>` are no request-target bytes: actix-http's 400, before any app.
            assert!(
                answer.text.starts_with("http/1.1 400 bad request"),
                "{case}: {}",
                answer.text
            );
            w.unchanged(case, before).await;
            continue;
        }
        assert_eq!(answer.status, 200, "{case}: the chooser\n{}", answer.text);
        let (head, body) = answer.text.split_once("\r\n\r\n").expect("a body");
        assert!(
            head.contains("default-src 'none'"),
            "{case}: the page's CSP"
        );
        assert!(head.contains("cache-control: no-store"), "{case}: no-store");
        assert!(!head.contains("set-cookie"), "{case}: no cookie");
        assert_eq!(
            skeleton(body),
            benign_skeleton,
            "{case}: only attribute values differ\n{body}"
        );
        let targets = links(body);
        assert_eq!(targets.len(), 2, "{case}: a link per provider");
        for (t, name) in targets.iter().zip(["corp", "social"]) {
            assert!(
                t.starts_with(&format!("/auth/login?provider={name}&")),
                "{case}: {t}"
            );
        }
        w.unchanged(case, before).await;
        // Followed, the link starts a login whose return is on the origin: its callback goes
        // home, never to the query's URL (a session each: after the invariants).
        let mut b = w.apps.browser(&[A]);
        let proxy = w.apps.at(A);
        let res = b.get(&proxy.url(&targets[1])).await;
        if res.status() != 302 {
            // A link the login refuses (a doubled parameter, say) starts nothing.
            assert_eq!(res.status(), 400, "{case}: followed");
            continue;
        }
        let start = b.start_login_at(&proxy, &targets[1]).await;
        let code = start.code(&w.social_idp, Tweak::None);
        let res = b.call_back(&proxy, &code, &start.state).await;
        assert_eq!(res.status(), 302, "{case}: followed, signed in");
        let home = res.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            home.starts_with('/')
                && !home.starts_with("//")
                && !home.contains('\\')
                && !home.contains('<'),
            "{case}: returns to {home}"
        );
        followed += 1;
    }
    assert!(
        followed >= 8,
        "most links were followed to a login: {followed}"
    );
}

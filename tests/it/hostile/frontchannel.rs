//! Front-channel logout calls that must end nothing: `iss` or `sid` missing, empty, repeated,
//! foreign or almost ours, spelled with percent-encoding tricks, too long, or another method;
//! and, when the session is not required, calls that name no session the caller holds. Anyone
//! can load this URL (nothing in it is signed): only our exact issuer and a live `sid` may end
//! anything.

use reqwest::Method;

use super::{World, with_cookie};
use crate::common::*;

/// The victim's IdP session id, from its ID token's claims.
async fn victim_sid(w: &mut World) -> String {
    let info = w.victim.session_info(&w.proxy).await;
    info["claims"]["sid"].as_str().expect("sid").to_owned()
}

/// Each query string of `table`, sent as the IdP's iframe would (no cookie): 400, nothing ended.
async fn all_refused(w: &mut World, table: &[(&str, String)]) {
    for (case, query) in table {
        let before = w.before();
        let res = w.proxy.frontchannel_logout(query).await;
        // Past `server.max_header_bytes` (32 KiB) the head is refused before any handler.
        let (status, code) = if query.len() > 32 * 1024 {
            (431, "request_header_too_large")
        } else {
            (400, "invalid_request")
        };
        w.refused(case, res, status, code, before).await;
    }
}

/// A browser of its own, signed in, ended by a call with `query(sid)`; the victim stays.
async fn control(w: &mut World, case: &str, query: impl Fn(&str) -> String) {
    let mut own = w.sign_in().await;
    let info = own.session_info(&w.proxy).await;
    let sid = info["claims"]["sid"].as_str().expect("sid").to_owned();
    let sessions = w.redis.session_count();
    let res = w.proxy.frontchannel_logout(&query(&sid)).await;
    assert_eq!(res.status(), 200, "{case}");
    assert_eq!(own.session(&w.proxy).await.status(), 401, "{case}");
    assert_eq!(w.redis.session_count(), sessions - 1, "{case}: one ended");
    assert_eq!(w.victim.session(&w.proxy).await.status(), 200, "{case}");
}

#[actix_web::test]
async fn bad_frontchannel_logouts_are_refused_and_sessions_stay() {
    let mut w = World::new(false, &[]).await;
    let sid = victim_sid(&mut w).await;
    let iss = w.idp.state.issuer.clone();
    let enc = urlencode;
    let ours = |iss: &str, sid: &str| format!("iss={}&sid={}", enc(iss), enc(sid));
    let port = iss.rsplit(':').next().expect("port").to_owned();
    let table: Vec<(&str, String)> = vec![
        ("no parameters", String::new()),
        ("missing iss", format!("sid={}", enc(&sid))),
        ("missing sid", format!("iss={}", enc(&iss))),
        ("empty iss", format!("iss=&sid={}", enc(&sid))),
        ("empty sid", format!("iss={}&sid=", enc(&iss))),
        ("both empty", "iss=&sid=".into()),
        ("bare names", "iss&sid".into()),
        (
            "repeated iss",
            format!("{}&iss={}", ours(&iss, &sid), enc(&iss)),
        ),
        (
            "repeated sid",
            format!("{}&sid={}", ours(&iss, &sid), enc(&sid)),
        ),
        (
            "repeated iss, the second foreign",
            format!("{}&iss=http%3A%2F%2Fevil.example", ours(&iss, &sid)),
        ),
        (
            "repeated sid, the second the victim's",
            format!("{}&sid={}", ours(&iss, "sid-unknown"), enc(&sid)),
        ),
        ("foreign iss", ours("http://evil.example", &sid)),
        (
            "iss of another port",
            ours(&format!("http://127.0.0.1:1{port}"), &sid),
        ),
        (
            "iss as localhost",
            ours(&format!("http://localhost:{port}"), &sid),
        ),
        ("iss with a trailing slash", ours(&format!("{iss}/"), &sid)),
        ("iss in upper case", ours(&iss.to_uppercase(), &sid)),
        (
            "iss over https",
            ours(&iss.replace("http:", "https:"), &sid),
        ),
        ("iss with a path", ours(&format!("{iss}/realms/x"), &sid)),
        ("iss with a leading space", ours(&format!(" {iss}"), &sid)),
        ("iss and sid swapped", ours(&sid, &iss)),
        (
            "unknown sid",
            ours(&iss, "sid-00000000000000000000000000000000"),
        ),
        (
            "the victim's sid in upper case",
            ours(&iss, &sid.to_uppercase()),
        ),
        (
            "the victim's sid with a trailing space",
            ours(&iss, &format!("{sid} ")),
        ),
        (
            "the victim's cookie value as sid",
            ours(&iss, &w.victim_id()),
        ),
        (
            "iss double percent-encoded",
            format!("iss={}&sid={}", enc(&enc(&iss)), enc(&sid)),
        ),
        (
            "iss with an encoded NUL",
            format!("iss={}%00&sid={}", enc(&iss), enc(&sid)),
        ),
        (
            "sid with an encoded NUL",
            format!("iss={}&sid={}%00", enc(&iss), enc(&sid)),
        ),
        (
            "sid with an invalid escape",
            format!("iss={}&sid={}%zz", enc(&iss), enc(&sid)),
        ),
        (
            "sid with overlong UTF-8",
            format!("iss={}&sid={}%C0%AE", enc(&iss), enc(&sid)),
        ),
        (
            "`;` as the separator",
            format!("iss={};sid={}", enc(&iss), enc(&sid)),
        ),
        (
            "names in upper case",
            format!("ISS={}&SID={}", enc(&iss), enc(&sid)),
        ),
        (
            "sid as an array",
            format!("iss={}&sid[]={}", enc(&iss), enc(&sid)),
        ),
        ("a 16 KB sid", ours(&iss, &"s".repeat(16 * 1024))),
        ("a 16 KB iss", ours(&"i".repeat(16 * 1024), &sid)),
        ("a 40 KB sid", ours(&iss, &"s".repeat(40 * 1024))),
    ];
    all_refused(&mut w, &table).await;

    // The victim's own browser, framed by a page of the IdP that sends no `iss` and `sid`:
    // the session is required, so its cookie ends nothing.
    let before = w.before();
    let cookie = format!("{}={}", w.cookie, w.victim_id());
    let res = with_cookie(&w, "/auth/frontchannel-logout", &cookie, &[]).await;
    w.refused(
        "the victim's cookie, no parameters",
        res,
        400,
        "invalid_request",
        before,
    )
    .await;

    // Other methods, with a valid query or form: 405, nothing ended.
    let url = w.proxy.frontchannel_logout_url(&ours(&iss, &sid));
    let methods = [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ];
    for method in methods {
        let before = w.before();
        let res = reqwest::Client::new()
            .request(method.clone(), &url)
            .header("content-type", FORM)
            .body(ours(&iss, &sid))
            .send()
            .await
            .expect("request");
        assert_eq!(res.headers()["allow"], "GET", "{method}");
        w.refused(method.as_str(), res, 405, "method_not_allowed", before)
            .await;
    }

    // Controls: as IdPs send it (encoded), and in the other order with the issuer unencoded.
    control(&mut w, "encoded", |sid| ours(&iss, sid)).await;
    control(&mut w, "unencoded, sid first", |sid| {
        format!("sid={}&iss={iss}", enc(sid))
    })
    .await;
}

#[actix_web::test]
async fn without_session_required_only_the_callers_own_session_can_end() {
    let mut w = World::tuned(|c| c.set("oidc.frontchannel_logout_session_required", false)).await;
    let sid = victim_sid(&mut w).await;
    let iss = w.idp.state.issuer.clone();
    let table: Vec<(&str, String)> = vec![
        ("no parameters, no cookie", String::new()),
        ("only iss", format!("iss={}", urlencode(&iss))),
        ("only sid, the victim's", format!("sid={}", urlencode(&sid))),
        ("both empty", "iss=&sid=".into()),
        ("repeated empty sid", "sid=&sid=".into()),
    ];
    all_refused(&mut w, &table).await;
    for (case, cookie) in [
        (
            "a forged cookie",
            format!("{}={}", w.cookie, "A".repeat(43)),
        ),
        (
            "the victim's id under another name",
            format!("other={}", w.victim_id()),
        ),
    ] {
        let before = w.before();
        let res = with_cookie(&w, "/auth/frontchannel-logout", &cookie, &[]).await;
        w.refused(case, res, 400, "invalid_request", before).await;
    }

    // The victim's real cookie, but not in a frame of a same-site page: a cross-site link or
    // redirect (a `SameSite=Lax` cookie goes along), a cross-site frame, a typed URL, a browser
    // that says nothing.
    let victim_cookie = format!("{}={}", w.cookie, w.victim_id());
    for (case, headers) in [
        (
            "a cross-site top-level navigation",
            vec![
                ("sec-fetch-dest", "document"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
        (
            "a cross-site frame",
            vec![
                ("sec-fetch-dest", "iframe"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
        (
            "a frame, but a user-typed URL",
            vec![("sec-fetch-dest", "iframe"), ("sec-fetch-site", "none")],
        ),
        (
            "a same-site image",
            vec![("sec-fetch-dest", "image"), ("sec-fetch-site", "same-site")],
        ),
        ("no Fetch Metadata", vec![]),
    ] {
        let before = w.before();
        let res = with_cookie(&w, "/auth/frontchannel-logout", &victim_cookie, &headers).await;
        w.refused(case, res, 400, "invalid_request", before).await;
    }

    // Control: a browser of its own, framed by a same-site page, sends its cookie and ends its
    // session.
    let mut own = w.sign_in().await;
    let url = w.proxy.frontchannel_logout_url("");
    let framed = [
        ("sec-fetch-dest", "iframe"),
        ("sec-fetch-site", "same-site"),
    ];
    assert_eq!(own.get_with(&url, &framed).await.status(), 200);
    assert_eq!(own.session(&w.proxy).await.status(), 401);
    assert_eq!(w.victim.session(&w.proxy).await.status(), 200);
}

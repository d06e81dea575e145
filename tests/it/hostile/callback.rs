//! Callbacks an attacker can make: forged, replayed, cross-browser or expired state, injected
//! codes, issuer mix-up, IdP errors, parameter pollution.

use std::time::Duration;

use vestibule::store::Namespace;

use super::{World, with_cookie};
use crate::common::idp::CLIENT_ID;
use crate::common::*;

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
    let mut w = World::new(true, &[]).await;
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
        attack(&mut w, row, status, code).await;
    }
}

#[actix_web::test]
async fn oauth2_callback_attacks_are_refused() {
    // Without an ID token, state, PKCE and the code are all that bind the answer to the login.
    let mut w = World::oauth2().await;
    let table: &[(Cb, u16, &str)] = &[
        (Cb::ForgedState, 400, "invalid_state"),
        (Cb::ReplayedState, 400, "invalid_state"),
        (Cb::CrossBrowserState, 400, "state_from_other_browser"),
        (Cb::NoLoginCookie, 400, "no_login_in_progress"),
        (Cb::MissingState, 400, "missing_state"),
        (Cb::MissingCode, 400, "missing_code"),
        (Cb::UnknownCode, 400, "token_request_refused"),
        (Cb::CodeOfAnotherLogin, 400, "token_request_refused"),
        (Cb::IssMixUp, 400, "issuer_mismatch"),
        (Cb::IdpAccessDenied, 403, "access_denied"),
        (Cb::IdpServerError, 400, "idp_error"),
        (Cb::DuplicatedCode, 400, "duplicate_parameter"),
    ];
    for &(row, status, code) in table {
        attack(&mut w, row, status, code).await;
    }
}

/// One row: a login started in a fresh browser (signed in first for
/// `SignedInBrowserForgedState`), its callback attacked as `row` says, refused as `status` and
/// `code` say with the invariants of [`World::refused`].
async fn attack(w: &mut World, row: Cb, status: u16, code: &str) {
    let iss = w.idp.state.issuer.clone();
    let case = format!("{row:?}");
    // This row needs a browser signed in first: a session the attack must not end.
    let mut b = if matches!(row, Cb::SignedInBrowserForgedState) {
        w.sign_in().await
    } else {
        Browser::new()
    };
    let s = b.start_login(&w.proxy, "/").await;
    let code_ok = s.code(&w.idp, Tweak::None);
    let good = [
        ("code", code_ok.as_str()),
        ("state", s.state.as_str()),
        ("iss", iss.as_str()),
    ];
    let before = w.before();
    let url = |params: &[(&str, &str)]| w.proxy.callback_url(params);
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
            return;
        }
        Cb::CrossBrowserState => {
            let mut victim = Browser::new();
            let _ = victim.start_login(&w.proxy, "/").await;
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
            with_cookie(w, &url(&good)[w.proxy.base.len()..], &cookie, &[]).await
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
            let theirs = attacker.start_login(&w.proxy, "/").await;
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
            // The IdP's text is shown: escaped, and no script could run anyway.
            assert_eq!(
                res.headers()["content-security-policy"],
                "default-src 'none'; frame-ancestors 'none'",
                "{case}"
            );
            let page = w.refused(&case, res, status, code, before).await;
            assert!(!page.contains("<script>alert"), "{case}: escaped: {page}");
            return;
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

#[actix_web::test]
async fn expired_login_state_is_refused() {
    let mut w = World::new(false, &[("login_timeout", "1s")]).await;
    let mut b = Browser::new();
    let s = b.start_login(&w.proxy, "/").await;
    let code = s.code(&w.idp, Tweak::None);
    // The store expires the pending login after `login_timeout` (at least a second): wait for
    // its key to be gone, rather than for a guessed time.
    let key = Namespace::new(&w.idp.state.issuer, CLIENT_ID).key("l", &s.state);
    assert!(
        w.redis.exists(&key),
        "the pending login is stored under {key}"
    );
    eventually(
        "the pending login expired",
        Duration::from_secs(15),
        async || !w.redis.exists(&key),
    )
    .await;
    let before = w.before();
    let res = b.call_back(&w.proxy, &code, &s.state).await;
    w.refused("expired state", res, 400, "invalid_state", before)
        .await;
}

//! `/auth/login` links an attacker can send a signed-in user: login parameters of the wrong
//! shape, or repeated, must start no login (no pending login, no login cookie) and end nothing.

use super::World;

#[actix_web::test]
async fn bad_login_parameters_start_no_login_and_end_nothing() {
    let mut w = World::new(false, &[]).await;
    let long_hint = format!("login_hint={}", "a".repeat(257));
    let table: Vec<(&str, &str, &str)> = vec![
        (
            "unknown prompt",
            "prompt=sometimes",
            "invalid_login_parameter",
        ),
        (
            "prompt none combined",
            "prompt=none%20login",
            "invalid_login_parameter",
        ),
        ("empty prompt", "prompt=", "invalid_login_parameter"),
        (
            "doubled prompt",
            "prompt=none&prompt=login",
            "duplicate_parameter",
        ),
        ("negative max_age", "max_age=-1", "invalid_login_parameter"),
        (
            "max_age in e-notation",
            "max_age=1e3",
            "invalid_login_parameter",
        ),
        (
            "11-digit max_age",
            "max_age=99999999999",
            "invalid_login_parameter",
        ),
        (
            "CR LF in login_hint",
            "login_hint=ada%0D%0ALocation:%20https://evil.example",
            "invalid_login_parameter",
        ),
        ("257-byte login_hint", &long_hint, "invalid_login_parameter"),
        (
            "doubled login_hint",
            "login_hint=ada&login_hint=eve",
            "duplicate_parameter",
        ),
        (
            "markup in ui_locales",
            "ui_locales=de%22%3E%3Cscript%3E",
            "invalid_login_parameter",
        ),
        (
            "NUL in acr_values",
            "acr_values=mfa%00",
            "invalid_login_parameter",
        ),
        (
            "doubled acr_values",
            "acr_values=mfa&acr_values=pwd",
            "duplicate_parameter",
        ),
    ];
    for (case, query, code) in &table {
        let before = w.before();
        let pending = w.pending_logins();
        let res = w
            .victim
            .get(&w.proxy.url(&format!("/auth/login?return_to=/&{query}")))
            .await;
        let login_cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.as_bytes().starts_with(b"vestibule-login="));
        assert!(!login_cookie, "{case}: no login cookie");
        w.refused(case, res, 400, code, before).await;
        assert_eq!(w.pending_logins(), pending, "{case}: no pending login");
    }

    // Control: the same link with good parameters starts a login (and so would be counted).
    let before = w.before();
    let pending = w.pending_logins();
    let start = w
        .victim
        .start_login_at(
            &w.proxy,
            "/auth/login?return_to=/&prompt=login&login_hint=ada&max_age=600&ui_locales=de-CH",
        )
        .await;
    assert_eq!(start.params["prompt"], "login");
    assert_eq!(w.pending_logins(), pending + 1, "control: a pending login");
    w.unchanged("control", before).await;
}

use actix_web::test::TestRequest;

use super::*;

fn all() -> Vec<String> {
    crate::config::LOGIN_PARAMS
        .iter()
        .map(|p| (*p).to_owned())
        .collect()
}

fn read_query(query: &str, allowed: &[String]) -> Result<LoginParams, AuthError> {
    let req = TestRequest::get()
        .uri(&format!("/auth/login?{query}"))
        .to_http_request();
    read(&req, allowed)
}

#[test]
fn allowed_parameters_of_the_right_shape_pass_on() {
    let p = read_query(
        "return_to=%2Fx&prompt=none&login_hint=ada%40example.com&acr_values=mfa%20phr\
         &max_age=300&ui_locales=de-CH%20en&audience=evil",
        &all(),
    )
    .expect("valid");
    assert!(p.prompt_none);
    assert_eq!(p.max_age, Some(300));
    assert_eq!(p.acr_values.as_deref(), Some("mfa phr"));
    let names: Vec<&str> = p.params.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            "prompt",
            "login_hint",
            "acr_values",
            "max_age",
            "ui_locales"
        ],
        "return_to and unknown parameters are not passed on"
    );
    let p = read_query("prompt=login%20consent", &all()).expect("valid");
    assert!(!p.prompt_none);
}

#[test]
fn parameters_not_allowed_are_dropped() {
    let p = read_query("prompt=none&login_hint=x", &["login_hint".to_owned()]).expect("valid");
    assert!(!p.prompt_none);
    assert_eq!(p.params, vec![("login_hint", "x".to_owned())]);
}

#[test]
fn malformed_or_repeated_parameters_are_refused() {
    for (query, name) in [
        ("prompt=sometimes", "prompt"),
        ("prompt=none%20login", "prompt"),
        ("prompt=", "prompt"),
        ("max_age=-1", "max_age"),
        ("max_age=5m", "max_age"),
        ("max_age=99999999999", "max_age"),
        ("login_hint=a%0d%0aSet-Cookie:x", "login_hint"),
        ("ui_locales=de%3Cscript%3E", "ui_locales"),
        (&format!("acr_values={}", "a".repeat(300)), "acr_values"),
    ] {
        match read_query(query, &all()) {
            Err(AuthError::InvalidLoginParam(n)) => assert_eq!(n, name, "{query}"),
            other => panic!("{query}: {:?}", other.map(|p| p.params)),
        }
    }
    assert!(matches!(
        read_query("prompt=none&prompt=login", &all()),
        Err(AuthError::DuplicateParam("prompt"))
    ));
}

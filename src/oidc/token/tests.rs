use super::*;

fn parse(json: &str) -> Option<TokenResponse> {
    serde_json::from_str(json).ok()
}

#[test]
fn token_responses_are_read_as_idps_send_them() {
    let t = parse(r#"{"access_token":"a","token_type":"bearer","expires_in":"3600"}"#)
        .expect("string expires_in");
    assert_eq!(t.expires_in, Some(3600));
    assert_eq!(t.token_type.as_deref(), Some("bearer"));
    let t = parse(r#"{"access_token":"a","token_type":"Bearer","expires_in":299.5}"#)
        .expect("fractional expires_in");
    assert_eq!(t.expires_in, Some(299));
    let t = parse(r#"{"access_token":"a","token_type":"BEARER"}"#).expect("no expires_in");
    assert_eq!(t.expires_in, None);
    assert!(t.refresh_token.is_none() && t.id_token.is_none());
    let t = parse(r#"{"access_token":"a","expires_in":"soon","scope":"x y"}"#)
        .expect("unreadable expires_in counts as absent");
    assert_eq!(t.expires_in, None);
    assert!(
        parse(r#"{"token_type":"bearer"}"#).is_none(),
        "no access token"
    );
}

#[test]
fn a_claim_as_text_takes_strings_and_numbers() {
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"id": 583231, "login": "octocat", "empty": "", "obj": {}}"#)
            .expect("json");
    assert_eq!(text(&claims, "id").as_deref(), Some("583231"));
    assert_eq!(text(&claims, "login").as_deref(), Some("octocat"));
    assert_eq!(text(&claims, "empty"), None);
    assert_eq!(text(&claims, "obj"), None);
    assert_eq!(text(&claims, "missing"), None);
}

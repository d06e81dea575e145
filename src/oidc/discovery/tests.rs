use super::*;

#[test]
fn oauth_metadata_is_looked_up_in_both_forms_for_an_issuer_with_a_path() {
    let urls = |i: &str| -> Vec<String> {
        oauth_metadata_urls(i)
            .into_iter()
            .map(|u| u.to_string())
            .collect()
    };
    assert_eq!(
        urls("https://login.example.com"),
        ["https://login.example.com/.well-known/oauth-authorization-server"]
    );
    assert_eq!(
        urls("https://login.example.com/"),
        ["https://login.example.com/.well-known/oauth-authorization-server"]
    );
    assert_eq!(
        urls("https://idp.example.com:8443/realms/acme"),
        [
            "https://idp.example.com:8443/.well-known/oauth-authorization-server/realms/acme",
            "https://idp.example.com:8443/realms/acme/.well-known/oauth-authorization-server",
        ]
    );
}

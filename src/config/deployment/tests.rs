use super::*;

const TWO_APPS: &str = r#"
[server]
listen = "127.0.0.1:8080"
[session]
idle_timeout = "20m"
[[apps]]
name = "shop"
public_url = "http://shop.localhost:8080"
[apps.session]
cookie_name = "shop"
[[apps.routes]]
prefix = "/api"
upstream = "http://127.0.0.1:9001"
[[apps.providers]]
name = "corp"
label = "Corporate account"
issuer = "http://127.0.0.2:9100"
client_id = "shop"
client_secret = "test-client-secret-0123"
[[apps.providers]]
name = "social"
issuer = "http://127.0.0.3:9100"
client_id = "shop"
client_secret = "test-client-secret-4567"
[[apps]]
name = "admin"
public_url = "http://admin.localhost:8080"
[[apps.providers]]
issuer = "http://127.0.0.2:9100"
client_id = "admin"
client_secret = "test-client-secret-89ab"
"#;

fn load(toml: &str) -> Result<Deployment, String> {
    Deployment::from_toml_str(toml, "t.toml").map_err(|e| crate::support::Chain(&e).to_string())
}

#[test]
fn each_app_is_the_top_level_with_its_own_keys_over_it() {
    let d = load(TWO_APPS).expect("valid");
    assert!(d.has_apps());
    let shop = d.app("shop").expect("shop");
    assert_eq!(shop.app.host.as_deref(), Some("shop.localhost:8080"));
    assert_eq!(shop.origin(), "http://shop.localhost:8080");
    assert_eq!(shop.session.cookie_name, "shop");
    assert_eq!(
        shop.session.idle_timeout,
        std::time::Duration::from_secs(1200)
    );
    assert_eq!(shop.routes.len(), 1);
    let names: Vec<&str> = shop.app.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["corp", "social"]);
    assert_eq!(shop.oidc.name, "corp");
    let admin = d.app("admin").expect("admin");
    assert_eq!(admin.session.cookie_name, "vestibule");
    assert!(admin.routes.is_empty());
    assert_eq!(admin.app.providers[0].name, "default");
}

#[test]
fn a_file_without_apps_is_one_implicit_app() {
    let d = load(
        r#"
[server]
listen = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"
[oidc]
issuer = "http://127.0.0.2:9100"
client_id = "vestibule"
client_secret = "test-client-secret-0123"
"#,
    )
    .expect("valid");
    assert!(!d.has_apps());
    assert!(d.process().app.is_implicit());
    assert_eq!(d.process().app.providers.len(), 1);
}

#[test]
fn top_level_app_keys_beside_apps_are_refused_by_name() {
    let with_oidc =
        format!("{TWO_APPS}\n[oidc]\nissuer = \"http://127.0.0.2:9100\"\nclient_id = \"x\"\n");
    let e = load(&with_oidc).expect_err("refused");
    assert!(
        e.contains("`oidc`") && e.contains("[[apps.providers]]"),
        "{e}"
    );
    let with_url = TWO_APPS.replace(
        "listen = \"127.0.0.1:8080\"\n[session]",
        "listen = \"127.0.0.1:8080\"\npublic_url = \"http://x.localhost\"\n[session]",
    );
    let e = load(&with_url).expect_err("refused");
    assert!(e.contains("server.public_url"), "{e}");
}

#[test]
fn a_problem_in_a_provider_names_its_app_and_provider() {
    let bad = TWO_APPS.replace("client_secret = \"test-client-secret-4567\"", "");
    let e = load(&bad).expect_err("refused");
    assert!(e.contains("app \"shop\", provider \"social\""), "{e}");
    assert!(e.contains("oidc.client_secret"), "{e}");
}

#[test]
fn two_apps_may_not_share_a_name_or_a_host() {
    let e = load(&TWO_APPS.replace("name = \"admin\"", "name = \"shop\"")).expect_err("name");
    assert!(e.contains("two apps are named"), "{e}");
    let e = load(&TWO_APPS.replace("http://admin.localhost:8080", "http://SHOP.localhost:8080"))
        .expect_err("host");
    assert!(e.contains("same host"), "{e}");
}

#[test]
fn providers_of_one_app_need_distinct_names_and_clients() {
    let e = load(&TWO_APPS.replace("name = \"social\"", "name = \"corp\"")).expect_err("name");
    assert!(e.contains("two providers are named"), "{e}");
    let e = load(&TWO_APPS.replace("http://127.0.0.3:9100", "http://127.0.0.2:9100"))
        .expect_err("client");
    assert!(e.contains("same client of the same issuer"), "{e}");
}

#[test]
fn store_keys_cannot_be_set_per_app() {
    let e = load(&TWO_APPS.replace("cookie_name = \"shop\"", "store = \"redis\""))
        .expect_err("refused");
    assert!(e.contains("store"), "{e}");
}

#[test]
fn names_that_would_not_be_safe_labels_or_keys_are_refused() {
    for bad in ["Shop", "shop app", "shop|x", ""] {
        let e =
            load(&TWO_APPS.replace("name = \"shop\"", &format!("name = {bad:?}"))).expect_err(bad);
        assert!(e.contains("apps.name"), "{bad}: {e}");
    }
    let e = load(&TWO_APPS.replace("default_provider", "x").replace(
        "[apps.session]",
        "default_provider = \"nobody\"\n[apps.session]",
    ))
    .expect_err("default");
    assert!(e.contains("no provider of app"), "{e}");
}

#[test]
fn a_client_secret_file_is_read_without_its_trailing_newline() {
    let path = std::env::temp_dir().join(format!("vestibule-secret-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, "test-client-secret-from-file\n").expect("write");
    let toml = TWO_APPS.replace(
        "client_secret = \"test-client-secret-89ab\"",
        &format!("client_secret_file = {:?}", path.display().to_string()),
    );
    let d = load(&toml).expect("valid");
    let secret = d
        .app("admin")
        .and_then(|a| a.oidc.client_secret.as_ref())
        .expect("secret");
    use secrecy::ExposeSecret;
    assert_eq!(secret.expose_secret(), "test-client-secret-from-file");
    let _ = std::fs::remove_file(&path);
    let e = load(&toml).expect_err("missing file");
    assert!(e.contains("client_secret_file"), "{e}");
}

#[test]
fn a_single_app_loader_refuses_a_file_of_apps() {
    let e = Config::from_toml_str(TWO_APPS, "t.toml").expect_err("several");
    assert!(e.to_string().contains("[[apps]]"), "{e}");
}

#[test]
fn an_app_host_is_one_plain_name_and_port() {
    for bad in [
        "*",
        "x:abc",
        "x:99999",
        "a.localhost.",
        "b.localhost.:8080",
        "x@b.localhost",
    ] {
        let toml = TWO_APPS.replace(
            "name = \"admin\"\n",
            &format!("name = \"admin\"\nhost = {bad:?}\n"),
        );
        let e = load(&toml).expect_err(bad);
        assert!(e.contains("apps.host"), "{bad}: {e}");
    }
    let upper = TWO_APPS.replace(
        "name = \"admin\"\n",
        "name = \"admin\"\nhost = \"Admin.Example:8443\"\n",
    );
    let d = load(&upper).expect("valid");
    assert_eq!(
        d.app("admin").and_then(|a| a.app.host.clone()).as_deref(),
        Some("admin.example:8443")
    );
}

#[test]
fn a_client_secret_file_with_more_than_the_secret_is_refused() {
    for text in [
        "secret-one-0123456789\n\n",
        " secret-one-0123456789",
        "secret-one\n0123456789",
        "secret-one 0123456789\n",
    ] {
        let path = std::env::temp_dir().join(format!("vestibule-secret-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, text).expect("write");
        let toml = TWO_APPS.replace(
            "client_secret = \"test-client-secret-89ab\"",
            &format!("client_secret_file = {:?}", path.display().to_string()),
        );
        let e = load(&toml).expect_err(text);
        assert!(
            e.contains("client_secret_file") && e.contains("more than one line"),
            "{text:?}: {e}"
        );
        assert!(
            !e.contains("secret-one"),
            "the secret stays out of the message: {e}"
        );
        let _ = std::fs::remove_file(&path);
    }
}

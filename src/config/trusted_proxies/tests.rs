use std::net::IpAddr;

use super::*;

fn proxies(texts: &[&str]) -> Result<TrustedProxies, String> {
    let json = serde_json::to_value(texts).expect("json");
    TrustedProxies::deserialize(json).map_err(|e| e.to_string())
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

#[test]
fn addresses_and_networks_of_both_families_are_matched() {
    let p = proxies(&["10.0.0.7", "192.168.0.0/16", "fd00::/8", "::1"]).expect("valid");
    for inside in ["10.0.0.7", "192.168.4.2", "fd12::1", "::1"] {
        assert!(p.contains(ip(inside)), "{inside}");
    }
    for outside in ["10.0.0.8", "192.169.0.1", "fe80::1", "127.0.0.1", "::2"] {
        assert!(!p.contains(ip(outside)), "{outside}");
    }
}

#[test]
fn an_ipv4_peer_on_an_ipv6_socket_is_matched_as_ipv4() {
    let p = proxies(&["10.0.0.0/8"]).expect("valid");
    assert!(p.contains(ip("::ffff:10.1.2.3")));
    assert!(!p.contains(ip("::ffff:11.1.2.3")));
}

#[test]
fn an_empty_list_trusts_no_one() {
    let p = proxies(&[]).expect("valid");
    assert!(p.is_empty());
    assert!(!p.contains(ip("127.0.0.1")));
    assert_eq!(p, TrustedProxies::default());
}

#[test]
fn what_is_not_an_address_or_a_network_is_refused_by_its_text() {
    for bad in [
        "localhost",
        "10.0.0.0/33",
        "10.0.0",
        "",
        "10.0.0.1/8/8",
        "*",
    ] {
        let e = proxies(&[bad]).expect_err(bad);
        assert!(
            e.contains("expected an IP address or a network"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_network_of_every_address_is_found_and_the_list_serialises_as_written() {
    let p = proxies(&["10.0.0.1", "0.0.0.0/0"]).expect("valid");
    assert_eq!(
        p.everyone().map(ToString::to_string),
        Some("0.0.0.0/0".into())
    );
    assert!(proxies(&["::/0"]).expect("valid").everyone().is_some());
    assert!(
        proxies(&["10.0.0.0/8"])
            .expect("valid")
            .everyone()
            .is_none()
    );
    let json = serde_json::to_value(&p).expect("serialise");
    assert_eq!(json, serde_json::json!(["10.0.0.1/32", "0.0.0.0/0"]));
}

fn load(trusted: &str) -> Result<crate::config::Config, String> {
    crate::config::Config::from_toml_str(
        &format!(
            "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
             trusted_proxies = {trusted}\n[oidc]\nissuer = \"http://127.0.0.2:9100\"\n\
             client_id = \"c\"\nclient_secret = \"test-client-secret-0123\"\n"
        ),
        "test.toml",
    )
    .map_err(|e| e.to_string())
}

#[test]
fn the_config_names_the_key_of_a_bad_entry_and_refuses_a_network_of_every_address() {
    let c = load(r#"["127.0.0.1", "10.0.0.0/8"]"#).expect("valid");
    assert!(c.server.trusted_proxies.contains(ip("10.9.9.9")));
    let e = load(r#"["10.0.0.0/8", "gateway.internal"]"#).expect_err("a name");
    assert!(e.contains("server.trusted_proxies"), "{e}");
    assert!(e.contains("\"gateway.internal\""), "{e}");
    for every in ["0.0.0.0/0", "::/0"] {
        let e = load(&format!(r#"["10.0.0.1", "{every}"]"#)).expect_err(every);
        assert!(e.contains("key `server.trusted_proxies`"), "{e}");
        assert!(e.contains("trusts every address"), "{e}");
    }
}

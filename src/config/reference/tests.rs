use super::*;

fn key(path: &str) -> Key {
    keys()
        .into_iter()
        .find(|k| k.path == path)
        .unwrap_or_else(|| panic!("no key {path}"))
}

#[test]
fn a_nested_key_is_named_as_figment_splits_the_environment() {
    assert_eq!(
        key("session.redis.url").env_var().as_deref(),
        Some("VESTIBULE_SESSION__REDIS__URL")
    );
}

#[test]
fn keys_of_an_array_of_tables_have_no_environment_variable() {
    let prefix = key("routes[].prefix");
    assert_eq!(prefix.env_var(), None);
    assert_eq!(prefix.default, "required");
    assert!(key("routes").table);
    assert_eq!(key("routes[].exchange.audience").env_var(), None);
}

#[test]
fn durations_sizes_and_secrets_read_as_such_with_their_defaults() {
    let idle = key("session.idle_timeout");
    assert_eq!(
        (idle.kind.as_str(), idle.default.as_str()),
        ("duration", "`\"30m\"`")
    );
    assert_eq!(key("routes[].max_body").kind, "size");
    assert_eq!(key("oidc.client_secret").kind, "secret (string)");
    assert_eq!(key("session.previous_encryption_keys").default, "`[]`");
}

#[test]
fn an_enum_lists_its_values_with_their_docs_and_its_default() {
    let store = key("session.store");
    assert_eq!(store.default, "`\"memory\"`");
    let values: Vec<&str> = store.values.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(values, ["\"memory\"", "\"redis\""]);
    assert!(store.values.iter().all(|(_, doc)| !doc.is_empty()));
}

#[test]
fn a_table_s_own_keys_come_before_its_sub_tables() {
    let paths: Vec<String> = keys().into_iter().map(|k| k.path).collect();
    let at = |p: &str| paths.iter().position(|k| k == p).unwrap_or(usize::MAX);
    assert!(at("session.store") < at("session.redis"));
    assert!(at("session.redis") < at("session.redis.url"));
}

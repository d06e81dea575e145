//! The configuration reference (`docs/configuration-reference.md`): generated from the config
//! types by `vestibule config-reference`, so it is only as good as their doc comments and only
//! as fresh as its last regeneration. Both are checked here.

use std::process::Command;

use crate::common::TestConfig;
use crate::common::binary::{self, BIN};

const PAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/docs/configuration-reference.md"
);

#[test]
fn the_committed_configuration_reference_is_what_the_binary_generates() {
    let out = Command::new(BIN)
        .arg("config-reference")
        .env_remove("VESTIBULE_CONFIG")
        .output()
        .expect("run vestibule");
    assert!(
        out.status.success(),
        "config-reference needs no config file"
    );
    let generated = String::from_utf8(out.stdout).expect("UTF-8");
    let committed = std::fs::read_to_string(PAGE).unwrap_or_default();
    let regenerate = vestibule::config::reference::REGENERATE;
    if let Some((n, (was, is))) = committed
        .lines()
        .chain(std::iter::repeat(""))
        .zip(generated.lines().chain(std::iter::repeat("")))
        .take(committed.lines().count().max(generated.lines().count()))
        .enumerate()
        .find(|(_, (was, is))| was != is)
    {
        panic!(
            "docs/configuration-reference.md is stale (line {}: {was:?}, generated: {is:?}); \
             run `{regenerate}`",
            n + 1
        );
    }
    assert_eq!(committed, generated, "run `{regenerate}`");
}

#[test]
fn every_key_of_the_config_file_has_a_doc_comment() {
    let keys = vestibule::config::reference::keys();
    assert!(keys.len() > 50, "the walk found only {} keys", keys.len());
    let missing: Vec<String> = keys
        .into_iter()
        .filter(|k| k.doc.trim().is_empty())
        .map(|k| k.path)
        .collect();
    assert!(
        missing.is_empty(),
        "keys without a doc comment (write one on the field in src/config/, then run `{}`): {missing:#?}",
        vestibule::config::reference::REGENERATE
    );
}

#[test]
fn every_key_of_the_reference_is_one_that_check_config_accepts_by_name() {
    // The walk must name keys as the loader does: each leaf path set in a valid file (or, under
    // `[[routes]]`, in a route) is refused only for its value, never as an unknown field.
    let keys = vestibule::config::reference::keys();
    let valid = TestConfig::new("http://127.0.0.2:9100").toml();
    for key in keys.iter().filter(|k| !k.table) {
        let Some(var) = key.env_var() else { continue };
        let (_, out) = binary::command(&["check-config"], &valid, &[(var.as_str(), "x")]);
        assert!(!out.contains("unknown field"), "{}: {out}", key.path);
    }
}

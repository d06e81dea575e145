//! The JSON Schema of the config file (`vestibule config-schema`), derived from the very types the
//! file is read into (schemars), so it cannot drift from what Vestibule accepts. Editors that
//! read a `#:schema` header (Taplo, VS Code's Even Better TOML) complete and check
//! `vestibule.toml` with it. Durations, sizes and secrets are strings there (`"30s"`, `"10MB"`),
//! tagged with an `x-kind` keyword that editors ignore and the configuration reference reads.

use super::Config;

/// The schema, pretty-printed.
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&schema_value()).unwrap_or_default()
}

/// The schema, as a JSON value.
pub(super) fn schema_value() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Config);
    schema.insert(
        "title".into(),
        serde_json::Value::String("Vestibule configuration (vestibule.toml)".into()),
    );
    schema.to_value()
}

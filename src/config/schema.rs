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
    let mut value = schema.to_value();
    // With `[[apps]]`, each app has its own `public_url` and providers: the top level's are then
    // absent, which the derived schema (from the one-app `Config`) cannot know.
    not_required(&mut value, &["required"], "oidc");
    not_required(
        &mut value,
        &["$defs", "ServerConfig", "required"],
        "public_url",
    );
    value
}

fn not_required(schema: &mut serde_json::Value, path: &[&str], key: &str) {
    let mut at = Some(schema);
    for p in path {
        at = at.and_then(|v| v.get_mut(*p));
    }
    if let Some(serde_json::Value::Array(list)) = at {
        list.retain(|k| k != key);
    }
}

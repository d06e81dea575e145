//! The configuration reference (`vestibule config-reference`, committed as
//! `docs/configuration-reference.md`): every key of the file with its type, default, environment
//! variable and doc comment. It is read off the JSON Schema (`schema.rs`), which is derived from
//! the types the file is read into, so the page says what the loader accepts; a test fails when
//! the committed page is stale or a key has no doc comment.
//!
//! Durations, sizes and secrets are strings in the schema; the fields say which they are with an
//! `x-kind` keyword (`#[schemars(extend("x-kind" = "duration"))]`), which editors ignore.

use serde_json::{Map, Value};

use super::ENV_PREFIX;
use super::schema::schema_value;

/// The command that writes the page, as the banner and the staleness test name it.
pub const REGENERATE: &str = "cargo run -q -- config-reference > docs/configuration-reference.md";

/// One key of the file, as the reference lists it.
#[derive(Debug, Clone)]
pub struct Key {
    /// Dotted path: `session.redis.url`; keys of `[[routes]]` entries are `routes[].prefix`.
    pub path: String,
    /// The doc comment of the field (or of its type), as schemars read it.
    pub doc: String,
    /// A table (`[session.redis]`, `[[routes]]`): a heading with its own keys under it.
    pub table: bool,
    /// Under an array of tables, which environment variables cannot reach.
    in_list: bool,
    kind: String,
    default: String,
    /// Enum values and the doc comment of each (empty when it has none).
    values: Vec<(String, String)>,
}

impl Key {
    /// `VESTIBULE_` and the path's parts joined by `__`, upper case (figment's
    /// `Env::prefixed(ENV_PREFIX).split("__")` in `file.rs`); `None` under `[[routes]]`.
    pub fn env_var(&self) -> Option<String> {
        (!self.in_list).then(|| {
            format!(
                "{ENV_PREFIX}{}",
                self.path.replace('.', "__").to_uppercase()
            )
        })
    }
}

/// Every key of the file, each table's plain keys before its sub-tables (so that a sub-table's
/// heading does not swallow the keys of its parent that follow it).
pub fn keys() -> Vec<Key> {
    let schema = schema_value();
    let walker = Walker {
        defs: schema.get("$defs").and_then(Value::as_object),
    };
    let mut out = Vec::new();
    walker.table(&schema, "", false, &mut out);
    out
}

struct Walker<'a> {
    defs: Option<&'a Map<String, Value>>,
}

impl<'a> Walker<'a> {
    /// The keys of the table `schema` at `prefix` (`""` at the top, else ending in `.`).
    fn table(&self, schema: &'a Value, prefix: &str, in_list: bool, out: &mut Vec<Key>) {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        let required = |name: &str| {
            schema
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|n| n == name))
        };
        let mut tables = Vec::new();
        for (name, field) in properties {
            let path = format!("{prefix}{name}");
            let target = self.resolve(field);
            let doc = [field, target]
                .iter()
                .find_map(|s| s.get("description").and_then(Value::as_str))
                .unwrap_or_default()
                .to_owned();
            let entries = target.get("items").map(|i| self.resolve(i));
            let key = Key {
                path,
                doc,
                table: false,
                in_list,
                kind: kind(field, target, entries),
                default: default(field, target, required(name)),
                values: enum_values(target),
            };
            // An app's providers, routes and SPA are the top level's `[oidc]`, `[[routes]]` and
            // `[spa]`, documented there: a heading, not every key again.
            let mirrored =
                prefix == "apps[]." && matches!(name.as_str(), "providers" | "routes" | "spa");
            match entries {
                _ if mirrored => out.push(Key { table: true, ..key }),
                Some(entry) if entry.get("properties").is_some() => {
                    tables.push((key, entry, true));
                }
                _ if target.get("properties").is_some() => tables.push((key, target, in_list)),
                _ => out.push(key),
            }
        }
        for (mut key, schema, in_list) in tables {
            key.table = true;
            let list = key.kind.starts_with("list");
            let prefix = format!("{}{}.", key.path, if list { "[]" } else { "" });
            out.push(key);
            self.table(schema, &prefix, in_list, out);
        }
    }

    /// The schema a field's value follows: its `$ref` (also inside `anyOf: [$ref, null]`, an
    /// optional table), or the field's own.
    fn resolve(&self, field: &'a Value) -> &'a Value {
        let reference = field.get("$ref").or_else(|| {
            field
                .get("anyOf")
                .and_then(Value::as_array)?
                .iter()
                .find_map(|s| s.get("$ref"))
        });
        reference
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.defs?.get(name))
            .unwrap_or(field)
    }
}

/// The value's type, as a reader writes it.
fn kind(field: &Value, target: &Value, entries: Option<&Value>) -> String {
    let tagged = field.get("x-kind").and_then(Value::as_str);
    let types: Vec<&str> = match target.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| types.contains(&t);
    match tagged {
        Some("duration") => return "duration".into(),
        Some("size") => return "size".into(),
        Some("address") => return "socket address (`\"127.0.0.1:8080\"`)".into(),
        Some("path") => return "file path".into(),
        Some("networks") => return "list of IP addresses or networks (`\"10.0.0.0/8\"`)".into(),
        Some("secret") if is("array") => return "list of secrets".into(),
        Some("secret") => return "secret (string)".into(),
        _ => {}
    }
    if !enum_values(target).is_empty() {
        return "string: one of the values below".into();
    }
    if target.get("properties").is_some() {
        return "table".into();
    }
    if is("array") {
        return match entries {
            Some(e) if e.get("properties").is_some() => "list of tables".into(),
            Some(e) => format!("list of {}", plural(&kind(e, e, None))),
            None => "list".into(),
        };
    }
    if is("object") {
        return "table of strings (name = \"value\")".into();
    }
    let uri = target.get("format").and_then(Value::as_str) == Some("uri");
    match types.iter().find(|t| **t != "null") {
        Some(&"string") if uri => "URL".into(),
        Some(&"integer") => "integer (0 or more)".into(),
        Some(t) => (*t).into(),
        None => "string".into(),
    }
}

fn plural(kind: &str) -> String {
    match kind {
        "URL" => "URLs".into(),
        k => format!("{k}s"),
    }
}

/// The value an absent key takes, as TOML, or `required`.
fn default(field: &Value, target: &Value, required: bool) -> String {
    if required {
        return "required".into();
    }
    match field.get("default") {
        Some(Value::Null) | None if !is_list(target) => "unset".into(),
        Some(Value::Null) | None => "`[]`".into(),
        Some(v) => format!("`{}`", toml_text(v)),
    }
}

fn is_list(target: &Value) -> bool {
    target.get("type").is_some_and(|t| t == "array")
}

fn toml_text(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", toml_text(v)))
                .collect();
            if entries.is_empty() {
                "{}".into()
            } else {
                format!("{{ {} }}", entries.join(", "))
            }
        }
        other => other.to_string(),
    }
}

/// An enum's values (`enum`, or `oneOf` of `const`s and `enum`s), each with its doc comment.
fn enum_values(target: &Value) -> Vec<(String, String)> {
    let listed = |s: &Value, doc: &str| -> Vec<(String, String)> {
        let consts = s.get("const").into_iter();
        let enums = s
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        consts
            .chain(enums)
            .map(|v| (v.to_string(), doc.to_owned()))
            .collect()
    };
    match target.get("oneOf").and_then(Value::as_array) {
        Some(variants) => variants
            .iter()
            .flat_map(|v| {
                let doc = v.get("description").and_then(Value::as_str).unwrap_or("");
                listed(v, doc)
            })
            .collect(),
        None => listed(target, ""),
    }
}

/// The page, Markdown.
pub fn markdown() -> String {
    let mut page = format!(
        "<!-- generated by `vestibule config-reference`; do not edit: change the doc comments in \
         src/config/ and run `{REGENERATE}` -->\n\n{INTRO}"
    );
    for key in keys() {
        page.push_str(&section(&key));
    }
    page
}

const INTRO: &str = "# Configuration reference

Vestibule reads one TOML file (`--config FILE`, or `VESTIBULE_CONFIG`). Below is every key it
accepts, table by table; a key it does not know is an error, not a warning. `vestibule
check-config` checks a file without starting anything, and `vestibule config-schema` prints the
JSON Schema that editors use to complete and check it.

**Environment.** Every key outside `[[routes]]` can also be set by an environment variable, which
wins over the file: `VESTIBULE_`, then the key's path with `__` between its parts, in capitals
(`session.redis.url` is `VESTIBULE_SESSION__REDIS__URL`). Values are read as TOML values would
be: `true`, `42`, `[\"openid\", \"profile\"]`, `{ name = \"value\" }`; anything else is a string.
A table's entries can also be set one by one (`VESTIBULE_OIDC__EXTRA_AUTH_PARAMS__AUDIENCE`).
Secrets belong there rather than in the file.

**Types.** A *duration* is a string such as `\"500ms\"`, `\"30s\"`, `\"5m\"`, `\"12h\"` or
`\"1d\"`. A *size* is a string such as `\"32KiB\"` or `\"10MB\"` (KiB and MiB are powers of 1024,
kB and MB of 1000). A *secret* is a string that Vestibule never logs or prints.
";

fn section(key: &Key) -> String {
    if key.table {
        return table_heading(key);
    }
    let env = match key.env_var() {
        Some(var) => format!("`{var}`"),
        None => "none: a list's entries are set in the file only".into(),
    };
    let mut text = format!(
        "\n### `{}`\n\n{}\n\n| Type | Default | Environment variable |\n|---|---|---|\n| {} | {} | {env} |\n",
        key.path, key.doc, key.kind, key.default
    );
    if !key.values.is_empty() {
        text.push_str("\nValues:\n\n");
        for (value, doc) in &key.values {
            let doc = doc.replace('\n', " ");
            let line = if doc.is_empty() {
                format!("- `{value}`\n")
            } else {
                format!("- `{value}`: {doc}\n")
            };
            text.push_str(&line);
        }
    }
    text
}

/// A table's heading as TOML writes it (`[session.redis]`, `[[routes]]`), its doc, and whether
/// it must be there.
fn table_heading(key: &Key) -> String {
    let list = key.kind == "list of tables";
    let name = if list {
        format!("[[{}]]", key.path)
    } else {
        format!("[{}]", key.path.replace("[]", ""))
    };
    let heading = if key.path.contains("[]") {
        format!("`{name}` (`{}`)", key.path)
    } else {
        format!("`{name}`")
    };
    let note = match (key.default.as_str(), list) {
        ("required", _) => "\n*Required.*\n",
        (_, true) => "\n*Any number of entries (none by default), in the file only.*\n",
        _ => "",
    };
    format!("\n## {heading}\n\n{}\n{note}", key.doc)
}

#[cfg(test)]
mod tests;

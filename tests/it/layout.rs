//! The layout of `src/`, read as text: modules import only from their own layer or below, the
//! file-level import graph has no circle, and no function or file grows past what a reader can
//! hold. Each test fails with the whole list of what breaks its rule.
//!
//! The import graph is read from the text, without building: `crate::`, `super::` and `self::`
//! paths (in `use` statements and in code) resolve to the longest existing
//! file-module, following `pub use` re-exports in index files (`lib.rs`, `mod.rs`, or a file with
//! a directory of children). An index's arrows to its own children are not imports, and neither
//! are comments, doc comments, string contents, `tests.rs` files and `#[cfg(test)] mod tests`
//! blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom to top: a module may import from its own layer and those before it.
const LAYERS: [&str; 19] = [
    "support",
    "crypto",
    "authz",
    "config",
    "telemetry",
    "store",
    "identity",
    "oidc",
    "csrf",
    "session",
    "proxy",
    "auth",
    "spa",
    "apps",
    "admin",
    "health",
    "limits",
    "error",
    "server",
];
const MAX_FUNCTION_LINES: usize = 70;
const MAX_FILE_LINES: usize = 450;

/// A file-module's path in the crate (`[]` is the crate root).
type ModPath = Vec<String>;

/// Every `.rs` file under `src/`: its path relative to `src/` and its text.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under src/");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).expect("a source file"));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

fn is_tests_file(rel: &str) -> bool {
    rel == "tests.rs" || rel.ends_with("/tests.rs")
}

fn show(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// The code of a file without comments, string and char contents, and inline test modules.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (i == 0 || !ident(chars[i - 1])) && matches!(next, Some('"' | '#')) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            j += 1;
            while j < chars.len()
                && !(chars[j] == '"' && (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')))
            {
                j += 1;
            }
            out.push_str("\"\"");
            i = j + 1 + hashes;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('"', '\'', '\n'); a lifetime has no closing quote.
            i += if next == Some('\\') { 3 } else { 2 };
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    without_test_modules(&out)
}

/// `#[cfg(test)] mod tests { … }` blocks removed (their braces matched).
fn without_test_modules(code: &str) -> String {
    let mut out = code.to_owned();
    while let Some(start) = out.find("#[cfg(test)]") {
        let rest = out[start + "#[cfg(test)]".len()..].trim_start();
        let Some(body) = rest.strip_prefix("mod tests") else {
            // Another item under cfg(test): keep it, look further.
            out.replace_range(start..start + 1, " ");
            continue;
        };
        let body = body.trim_start();
        if !body.starts_with('{') {
            out.replace_range(start..start + 1, " ");
            continue;
        }
        let open = out.len() - body.len();
        let mut depth = 0;
        let mut end = out.len();
        for (k, ch) in out[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(start..end, "");
    }
    out
}

/// Each `use` statement of `code`: whether it is `pub` (any visibility), and its tree.
fn use_statements(code: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(k) = code[from..].find("use") {
        let at = from + k;
        from = at + 3;
        let before = code[..at].chars().next_back();
        let after = code[at + 3..].chars().next();
        if before.is_some_and(ident) || !after.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let head = code[..at].trim_end();
        let public = head.ends_with("pub")
            || (head.ends_with(')')
                && head
                    .rfind("pub(")
                    .is_some_and(|p| !head[p..].contains(['\n', ';', '{', '}'])));
        out.push((public, code[at + 3..at + end].to_owned()));
        from = at + end;
    }
    out
}

/// A use tree as flat paths: `a::{b, c::{d as e}}` is `a::b` and `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let mut flat = String::new();
    for word in tree.split_whitespace() {
        if word == "as" {
            flat.push('@');
        } else {
            flat.push_str(word);
        }
    }
    fn ex(t: &str) -> Vec<String> {
        let Some(open) = t.find('{') else {
            return vec![t.split('@').next().unwrap_or_default().to_owned()];
        };
        let (prefix, inner) = (&t[..open], &t[open + 1..t.len().saturating_sub(1)]);
        let mut parts = Vec::new();
        let (mut depth, mut cur) = (0, String::new());
        for ch in inner.chars() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if ch == ',' && depth == 0 {
                parts.push(std::mem::take(&mut cur));
            } else {
                cur.push(ch);
            }
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        parts
            .iter()
            .flat_map(|p| ex(p))
            .map(|x| format!("{prefix}{x}"))
            .collect()
    }
    ex(&flat)
}

/// `crate::…` and `super::…` paths written in code (outside `use` too).
fn inline_paths(code: &str) -> Vec<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for start_word in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(k) = code[from..].find(start_word) {
            let at = from + k;
            from = at + start_word.len();
            if code[..at].chars().next_back().is_some_and(ident) {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(ident(c) || c == ':'))
                .map_or(code.len(), |e| at + e);
            let path = code[at..end].trim_end_matches(':');
            // `super::{…}` is a use tree, read as such; a path names something after its root.
            if path.len() > start_word.len() {
                out.push(path.to_owned());
            }
        }
    }
    out
}

/// The file-level import graph of a source tree (paths relative to `src/`).
struct Graph {
    modules: BTreeMap<ModPath, (String, bool)>,
    edges: BTreeSet<(ModPath, ModPath)>,
}

impl Graph {
    fn of(files: &BTreeMap<String, String>) -> Graph {
        let mut modules = BTreeMap::new();
        let mut code = BTreeMap::new();
        for (rel, text) in files {
            let stem = rel.trim_end_matches(".rs");
            let mut path: ModPath = stem.split('/').map(str::to_owned).collect();
            if stem == "main" || is_tests_file(rel) {
                continue;
            }
            if stem == "lib" {
                path.clear();
            } else if path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            let has_children = stem == "lib"
                || rel.ends_with("/mod.rs")
                || files.keys().any(|k| k.starts_with(&format!("{stem}/")));
            modules.insert(path.clone(), (rel.clone(), has_children));
            code.insert(path, code_of(text));
        }
        let mut graph = Graph {
            modules,
            edges: BTreeSet::new(),
        };
        let reexports = graph.reexports(&code);
        for (m, text) in &code {
            let used = use_statements(text)
                .into_iter()
                .flat_map(|(_, tree)| expand(&tree));
            for path in used.chain(inline_paths(text)) {
                let segs: Vec<&str> = path
                    .split("::")
                    .filter(|s| !s.is_empty() && *s != "*")
                    .collect();
                if segs.is_empty() || !graph.is_local(m, segs[0]) {
                    continue;
                }
                let full = graph.absolute(m, &segs);
                let Some(t) = graph.resolve(&full, &reexports) else {
                    continue;
                };
                let own_child = graph.is_index(m) && t.starts_with(m);
                if &t != m && !t.is_empty() && !own_child {
                    graph.edges.insert((m.clone(), t));
                }
            }
        }
        graph
    }

    /// What each index file's `pub use` makes a name mean: (index, name) -> the defining module.
    fn reexports(&self, code: &BTreeMap<ModPath, String>) -> BTreeMap<(ModPath, String), ModPath> {
        let mut reexports = BTreeMap::new();
        // Re-exports of re-exports: a few passes reach the fixed point of this crate's depth.
        for _ in 0..3 {
            for (m, text) in code.iter().filter(|(m, _)| self.is_index(m)) {
                for (_, tree) in use_statements(text).into_iter().filter(|(p, _)| *p) {
                    for path in expand(&tree) {
                        let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                        let Some((name, init)) = segs.split_last() else {
                            continue;
                        };
                        if init.is_empty() || !self.is_local(m, init[0]) {
                            continue;
                        }
                        let mut full = self.absolute(m, init);
                        full.push((*name).to_owned());
                        if let Some(t) = self.resolve(&full, &reexports)
                            && &t != m
                        {
                            reexports.insert((m.clone(), (*name).to_owned()), t);
                        }
                    }
                }
            }
        }
        reexports
    }

    fn is_index(&self, m: &ModPath) -> bool {
        self.modules.get(m).is_some_and(|(_, index)| *index)
    }

    /// A path this crate resolves: `crate`, `super`, `self`, or a child module's name.
    fn is_local(&self, m: &ModPath, first: &str) -> bool {
        let mut child = m.clone();
        child.push(first.to_owned());
        matches!(first, "crate" | "super" | "self") || self.modules.contains_key(&child)
    }

    fn absolute(&self, m: &ModPath, segs: &[&str]) -> ModPath {
        let (mut base, mut rest): (ModPath, &[&str]) = match segs[0] {
            "crate" => (Vec::new(), &segs[1..]),
            "super" => (m[..m.len().saturating_sub(1)].to_vec(), &segs[1..]),
            "self" => (m.clone(), &segs[1..]),
            _ => (m.clone(), segs),
        };
        while rest.first() == Some(&"super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().map(|s| (*s).to_owned()));
        base
    }

    /// The longest existing module of `path`, or what the module re-exports under the next name.
    fn resolve(
        &self,
        path: &ModPath,
        reexports: &BTreeMap<(ModPath, String), ModPath>,
    ) -> Option<ModPath> {
        let i = (0..=path.len())
            .rev()
            .find(|i| self.modules.contains_key(&path[..*i]))?;
        let best = path[..i].to_vec();
        match path.get(i) {
            Some(next) => Some(
                reexports
                    .get(&(best.clone(), next.clone()))
                    .cloned()
                    .unwrap_or(best),
            ),
            None => Some(best),
        }
    }

    /// The strongly connected components of more than one module (Tarjan).
    fn circles(&self) -> Vec<Vec<ModPath>> {
        struct Tarjan<'g> {
            next: BTreeMap<&'g ModPath, Vec<&'g ModPath>>,
            index: BTreeMap<&'g ModPath, usize>,
            low: BTreeMap<&'g ModPath, usize>,
            stack: Vec<&'g ModPath>,
            on_stack: BTreeSet<&'g ModPath>,
            found: Vec<Vec<ModPath>>,
        }
        impl<'g> Tarjan<'g> {
            fn visit(&mut self, v: &'g ModPath) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                self.on_stack.insert(v);
                for w in self.next.get(v).cloned().unwrap_or_default() {
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.on_stack.contains(w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        self.on_stack.remove(w);
                        component.push(w.clone());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.found.push(component);
                    }
                }
            }
        }
        let mut t = Tarjan {
            next: BTreeMap::new(),
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for (a, b) in &self.edges {
            t.next.entry(a).or_default().push(b);
        }
        for m in self.modules.keys() {
            if !t.index.contains_key(m) {
                t.visit(m);
            }
        }
        t.found
    }

    /// Arrows from a module to a top-level module of a higher layer.
    fn upward(&self) -> Vec<String> {
        // A module missing from the list counts as the top (`every_top_level_module_has_a_layer`).
        let rank = |m: &ModPath| {
            LAYERS
                .iter()
                .position(|l| *l == m[0])
                .unwrap_or(LAYERS.len())
        };
        self.edges
            .iter()
            .filter(|(a, b)| !a.is_empty() && !b.is_empty() && a[0] != b[0])
            .filter(|(a, b)| rank(a) < rank(b))
            .map(|(a, b)| format!("{} -> {}", show(a), show(b)))
            .collect()
    }
}

/// Functions over the limit: `file: name (lines)`. A function ends at the first line that is its
/// own indentation and `}` (rustfmt's layout).
fn long_functions(files: &BTreeMap<String, String>, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files.iter().filter(|(rel, _)| !is_tests_file(rel)) {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((indent, name)) = function_start(line) else {
                continue;
            };
            let Some(open) = (i..lines.len()).find(|j| {
                let l = lines[*j].trim_end();
                l.ends_with('{') || l.ends_with(';')
            }) else {
                continue;
            };
            if lines[open].trim_end().ends_with(';') {
                continue;
            }
            let close = format!("{indent}}}");
            let end = (open + 1..lines.len())
                .find(|j| lines[*j].trim_end() == close)
                .unwrap_or(lines.len());
            let length = end - i + 1;
            if length > limit {
                out.push(format!("src/{rel}: {name} ({length} lines)"));
            }
        }
    }
    out
}

/// A line that starts a function: its indentation and the function's name.
fn function_start(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start();
    let indent = &line[..line.len() - rest.len()];
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix("pub") {
        rest = match r.strip_prefix('(') {
            Some(r) => r.split_once(')')?.1,
            None => r,
        };
        rest = rest.strip_prefix(' ')?;
    }
    for word in ["const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(word).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    (end > 0).then(|| (indent, &rest[..end]))
}

fn failure(what: &str, list: &[String]) -> String {
    format!("{} {what}:\n  {}", list.len(), list.join("\n  "))
}

#[test]
fn no_module_imports_from_a_higher_layer() {
    let upward = Graph::of(&sources()).upward();
    assert!(
        upward.is_empty(),
        "{}\n(the layers, bottom to top: {})",
        failure("imports from a higher layer", &upward),
        LAYERS.join(", ")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let graph = Graph::of(&sources());
    let unknown: BTreeSet<String> = graph
        .modules
        .keys()
        .filter_map(|m| m.first())
        .filter(|m| !LAYERS.contains(&m.as_str()))
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "top-level modules missing from LAYERS: {unknown:?}"
    );
}

#[test]
fn the_import_graph_has_no_circle() {
    let graph = Graph::of(&sources());
    let circles: Vec<String> = graph
        .circles()
        .iter()
        .map(|c| {
            let inside: Vec<String> = graph
                .edges
                .iter()
                .filter(|(a, b)| c.contains(a) && c.contains(b))
                .map(|(a, b)| format!("    {} -> {}", show(a), show(b)))
                .collect();
            format!(
                "{}\n{}",
                c.iter().map(|m| show(m)).collect::<Vec<_>>().join(", "),
                inside.join("\n")
            )
        })
        .collect();
    assert!(circles.is_empty(), "{}", failure("circles", &circles));
}

#[test]
fn no_function_is_longer_than_seventy_lines() {
    let long = long_functions(&sources(), MAX_FUNCTION_LINES);
    assert!(
        long.is_empty(),
        "{}",
        failure(&format!("functions over {MAX_FUNCTION_LINES} lines"), &long)
    );
}

#[test]
fn no_file_is_longer_than_four_hundred_and_fifty_lines() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|(rel, _)| !is_tests_file(rel))
        .map(|(rel, text)| (rel, text.lines().count()))
        .filter(|(_, n)| *n > MAX_FILE_LINES)
        .map(|(rel, n)| format!("src/{rel} ({n} lines)"))
        .collect();
    assert!(
        long.is_empty(),
        "{}",
        failure(&format!("files over {MAX_FILE_LINES} lines"), &long)
    );
}

/// The reader itself, on a small tree: what it must see and what it must not.
#[test]
fn the_guard_sees_imports_in_code_only_and_follows_re_exports() {
    let files: BTreeMap<String, String> = [
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
        ("a/mod.rs", "mod inner;\npub use inner::Thing;\n"),
        ("a/inner.rs", "pub struct Thing;\n"),
        (
            "b.rs",
            "//! See crate::c, and `crate::c::X`.\n\
             use crate::a::Thing; // crate::c\n\
             const S: &str = \"crate::c\";\n\
             const Q: char = '\"';\n\
             fn f<'a>(x: &'a str) -> &'a str { x }\n\
             #[cfg(test)]\nmod tests {\n    use crate::c;\n    fn g() { let _ = \"}\"; }\n}\n",
        ),
        ("c.rs", "pub fn go() { crate::b::f(\"\"); }\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    let graph = Graph::of(&files);
    let edges: Vec<String> = graph
        .edges
        .iter()
        .map(|(a, b)| format!("{} -> {}", show(a), show(b)))
        .collect();
    assert_eq!(edges, ["b -> a::inner", "c -> b"]);
    assert!(graph.circles().is_empty());
}

#[test]
fn the_guard_finds_a_circle_and_an_upward_arrow() {
    let files: BTreeMap<String, String> = [
        ("lib.rs", "pub mod config;\npub mod server;\n"),
        ("config.rs", "use crate::server::Running;\n"),
        ("server.rs", "use super::config::Config;\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    let graph = Graph::of(&files);
    let as_text = |c: &[ModPath]| c.iter().map(|m| show(m)).collect::<Vec<_>>();
    assert_eq!(
        graph
            .circles()
            .iter()
            .map(|c| as_text(c))
            .collect::<Vec<_>>(),
        [["config", "server"]]
    );
    assert_eq!(graph.upward(), ["config -> server"]);
}

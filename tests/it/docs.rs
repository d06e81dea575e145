//! The manual stays true: every TOML snippet of `docs/` and `README.md` passes (or, when marked,
//! fails) `vestibule check-config`, every relative link of the Markdown files names a file and a
//! heading that exist, and every page of `docs/` is in `docs/SUMMARY.md`. The fence markers are
//! described in docs/testing.md ("The snippets in this manual").

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::common::binary;
use crate::common::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The files whose links are checked, besides every page under `docs/`.
const TOP_LEVEL: [&str; 4] = [
    "README.md",
    "ARCHITECTURE.md",
    "CHANGELOG.md",
    "SECURITY.md",
];

/// A valid config that a fragment is merged onto. The client secret and the encryption key come
/// from the environment, as the manual tells readers to do.
const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "http://127.0.0.1:8080"

[oidc]
issuer = "http://127.0.0.2:9100"
client_id = "vestibule"

[session]
store = "memory"
"#;

/// Every Markdown page of the manual (the built site under `docs/book/` is not one).
fn manual_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read docs/")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "book") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&Path::new(ROOT).join("docs"), &mut pages);
    assert!(pages.len() > 10, "docs/ has its pages: {pages:?}");
    pages
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(ROOT)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A fenced code block: its info string and its text.
struct Fence {
    info: String,
    text: String,
    line: usize,
}

/// Splits Markdown into the lines outside fenced code blocks (with their line numbers) and the
/// fenced blocks.
fn split_fences(markdown: &str) -> (Vec<(usize, &str)>, Vec<Fence>) {
    let mut prose = Vec::new();
    let mut fences: Vec<Fence> = Vec::new();
    // The backticks that opened the fence being read, if one is.
    let mut open: Option<String> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &open {
            None if trimmed.starts_with("```") => {
                let marker: String = trimmed.chars().take_while(|c| *c == '`').collect();
                fences.push(Fence {
                    info: trimmed[marker.len()..].trim().to_string(),
                    text: String::new(),
                    line: i + 1,
                });
                open = Some(marker);
            }
            None => prose.push((i + 1, line)),
            Some(marker)
                if trimmed.starts_with(marker.as_str())
                    && trimmed.trim_end().trim_matches('`').is_empty() =>
            {
                open = None;
            }
            Some(_) => {
                let fence = fences.last_mut().expect("the open fence");
                fence.text.push_str(line);
                fence.text.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a fence is never closed");
    (prose, fences)
}

/// Merges `fragment` onto `base`: tables key by key, any other value (arrays of tables
/// included) replacing the base's.
fn merge(base: &mut toml::Table, fragment: toml::Table) {
    for (key, value) in fragment {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(into)), toml::Value::Table(from)) => merge(into, from),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The config file a snippet stands for: itself, or, for a fragment, the base with it merged.
fn as_config(snippet: &Fence) -> String {
    if !snippet.info.split(',').any(|a| a.trim() == "fragment") {
        return snippet.text.clone();
    }
    let mut base: toml::Table = BASE.parse().expect("the base config is TOML");
    let fragment: toml::Table = snippet
        .text
        .parse()
        .unwrap_or_else(|e| panic!("line {}: the fragment is TOML: {e}", snippet.line));
    merge(&mut base, fragment);
    toml::to_string(&base).expect("serialise the merged config")
}

#[test]
fn every_toml_snippet_of_the_manual_passes_check_config_or_is_refused_as_marked() {
    let mut files = manual_pages();
    files.push(Path::new(ROOT).join("README.md"));
    let env = [
        ("VESTIBULE_OIDC__CLIENT_SECRET", "from-env-0123456789abcdef"),
        ("VESTIBULE_SESSION__ENCRYPTION_KEY", config::ENCRYPTION_KEY),
    ];
    let (mut passed, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let (_, fences) = split_fences(&read(file));
        for snippet in fences
            .iter()
            .filter(|f| f.info.split(',').next() == Some("toml"))
        {
            let expect_refusal = snippet.info.split(',').any(|a| a.trim() == "refused");
            let toml = crate::common::apps::with_secret_files(&as_config(snippet));
            let env = crate::common::apps::env_for(&toml, &env);
            let (code, out) = binary::command(&["check-config"], &toml, &env);
            let want = if expect_refusal { 2 } else { 0 };
            if code != Some(want) {
                failures.push(format!(
                    "{}:{}: exit {code:?}, expected {want}:\n{out}",
                    relative(file),
                    snippet.line
                ));
            } else if expect_refusal {
                refused += 1;
            } else {
                passed += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{passed} TOML snippets pass check-config, {refused} are refused as marked");
    assert!(
        passed >= 15 && refused >= 1,
        "{passed} passed, {refused} refused"
    );
}

/// mdBook's heading id (mdbook-html 0.5, `id_from_content`): the heading's text, trimmed and
/// lower-cased, keeping alphanumerics, `_` and `-`, a whitespace becoming `-`, anything else
/// dropped.
fn heading_id(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// A heading's text as rendered: link syntax reduced to its text, code and emphasis marks gone.
fn rendered_text(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) => {
                text.push_str(&after[..close]);
                rest = &after[close + 1..];
                if rest.starts_with('(') {
                    rest = rest.find(')').map_or("", |end| &rest[end + 1..]);
                }
            }
            None => {
                text.push_str(after);
                rest = "";
            }
        }
    }
    text.push_str(rest);
    text.replace(['`', '*'], "")
}

/// The ids mdBook gives the headings of a page; a repeated one gets `-1`, `-2`…
fn heading_ids(markdown: &str) -> HashSet<String> {
    let (prose, _) = split_fences(markdown);
    let mut ids = HashSet::new();
    for (_, line) in prose {
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let id = heading_id(&rendered_text(line[hashes..].trim().trim_end_matches('#')));
        let mut unique = id.clone();
        let mut n = 0;
        while !ids.insert(unique.clone()) {
            n += 1;
            unique = format!("{id}-{n}");
        }
    }
    ids
}

#[test]
fn heading_ids_follow_mdbooks_rule() {
    let page = "# Vestibule\n## Cookie options: `SameSite=Strict` and `__Host-Http-`\n\
                ## `GET /auth/logout?token=…`\n### [Unreleased]\n```\n# not a heading\n```\n\
                ## Auditing a config: `check-config --audit`\n## Examples\n## Examples\n";
    let ids = heading_ids(page);
    for id in [
        "vestibule",
        "cookie-options-samesitestrict-and-__host-http-",
        "get-authlogouttoken",
        "unreleased",
        "auditing-a-config-check-config---audit",
        "examples",
        "examples-1",
    ] {
        assert!(ids.contains(id), "{id} in {ids:?}");
    }
    assert!(!ids.contains("not-a-heading"), "{ids:?}");
}

/// The targets of a page's links, with their line numbers: inline links and images, and
/// reference definitions, outside code.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let (prose, _) = split_fences(markdown);
    let mut targets = Vec::new();
    for (number, line) in prose {
        // Code spans are not links: drop them first.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            targets.push((number, after[..end].trim().to_string()));
            rest = &after[end..];
        }
        let trimmed = plain.trim_start();
        if trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]: ")
        {
            targets.push((number, trimmed[close + 3..].trim().to_string()));
        }
    }
    targets
}

#[test]
fn every_relative_link_names_an_existing_file_and_heading() {
    let mut files = manual_pages();
    files.extend(TOP_LEVEL.iter().map(|f| Path::new(ROOT).join(f)));
    let (mut checked, mut anchors) = (0, 0);
    let mut broken = Vec::new();
    for file in &files {
        for (line, target) in link_targets(&read(file)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let dest = if path.is_empty() {
                file.clone()
            } else {
                file.parent().expect("a folder").join(path)
            };
            let at = format!("{}:{line}: {target}", relative(file));
            if !dest.exists() {
                broken.push(format!("{at}: no such file"));
                continue;
            }
            if anchor.is_empty() {
                continue;
            }
            anchors += 1;
            if dest.extension().is_none_or(|e| e != "md") {
                broken.push(format!("{at}: an anchor into a file that is not Markdown"));
            } else if !heading_ids(&read(&dest)).contains(anchor) {
                broken.push(format!("{at}: no heading with that id"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    println!("{checked} relative links resolve, {anchors} of them with an anchor");
    assert!(
        checked > 100 && anchors > 20,
        "{checked} links, {anchors} anchors"
    );
}

#[test]
fn every_page_of_the_manual_is_in_its_summary() {
    let docs = Path::new(ROOT).join("docs");
    let summary = read(&docs.join("SUMMARY.md"));
    let listed: HashSet<PathBuf> = link_targets(&summary)
        .into_iter()
        .map(|(_, target)| docs.join(target))
        .collect();
    let missing: Vec<String> = manual_pages()
        .into_iter()
        .filter(|page| !page.ends_with("SUMMARY.md") && !listed.contains(page))
        .map(|page| relative(&page))
        .collect();
    assert!(missing.is_empty(), "not in docs/SUMMARY.md: {missing:?}");
}

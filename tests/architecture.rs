//! The dependency rule of docs/ARCHITECTURE.md, checked on the source: each
//! top-level module of `src/` may import only modules of lower layers, so
//! there is no import cycle between them; the application state is known
//! only to the HTTP layer and the composition root. Reads `use crate::…`
//! and `crate::…` paths as text (comments left out), so it needs no build.
#![allow(clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The layers, lowest first. A module may import modules of lower layers
/// only (never its own layer's other modules, never higher ones).
const LAYERS: &[&[&str]] = &[
    // Pure rules and leaf utilities: no I/O of their own beyond the clock.
    &["domain", "clock", "metrics", "telemetry", "crypto"],
    &["config"],
    &["kv", "storage"],
    &["error"],
    // The Core: settings, pool, Redis, clock, file store, metrics, HTTP client.
    &["infra"],
    // The outbox: runs jobs that features register, knows no feature.
    &["notify"],
    &["identity"],
    &["vault"],
    &["oidc"],
    &["catalog"],
    // Told of every dossier event by `dossiers`: the national portal, webhooks.
    &["integrations"],
    &["dossiers"],
    // Fees paid online: move dossiers on when paid.
    &["payments"],
    // The door: the only place that sees every feature's state.
    &["http"],
    // Operator commands and the demo seed.
    &["admin"],
    &["seed"],
    // The composition root (and the command line's admin subcommands,
    // modules of the binary beside main.rs).
    &["startup", "admin_cli"],
];

/// Files that are the crate's roots rather than a module of a layer.
const ROOTS: &[&str] = &["lib.rs", "main.rs"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/oidc/token.rs` → `oidc`).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    if ROOTS.contains(&first) {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

/// The code without comments (`//` to the end of the line).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Top-level modules named after `crate::`, including every first item of a
/// grouped import `crate::{a::…, b, c::{…}}`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && c == ',' {
                    items.push(std::mem::take(&mut item));
                } else {
                    item.push(c);
                }
            }
            items.push(item);
            for item in items {
                let name: String = item.trim().chars().take_while(|&c| is_ident(c)).collect();
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name: String = after.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
        rest = after;
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every file's imports of other top-level modules: (file, from, to).
fn edges() -> Vec<(String, String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut out = Vec::new();
    for file in files {
        let Some(from) = module_of(&file) else {
            continue;
        };
        let text = fs::read_to_string(&file).expect("read source");
        let rel = file
            .strip_prefix(src())
            .expect("under src")
            .display()
            .to_string();
        for to in imports(&code(&text)) {
            if to != from {
                out.push((rel.clone(), from.clone(), to));
            }
        }
    }
    out
}

#[test]
fn every_top_level_module_has_a_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let missing: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_of(f))
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a layer in tests/architecture.rs and docs/ARCHITECTURE.md: {missing:?}"
    );
}

#[test]
fn modules_import_only_lower_layers() {
    let mut broken: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, from, to) in edges() {
        let (Some(a), Some(b)) = (layer_of(&from), layer_of(&to)) else {
            continue;
        };
        if b >= a {
            broken
                .entry(format!("{from} -> {to}"))
                .or_default()
                .push(file);
        }
    }
    assert!(
        broken.is_empty(),
        "imports that break the dependency rule (docs/ARCHITECTURE.md):\n{broken:#?}"
    );
}

#[test]
fn the_application_state_stays_in_the_http_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|f| {
            let module = module_of(f);
            let allowed = matches!(module.as_deref(), Some("http" | "startup" | "admin_cli"))
                || f.ends_with("main.rs");
            !allowed
                && fs::read_to_string(f)
                    .map(|t| code(&t).contains("AppState"))
                    .unwrap_or(false)
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "AppState outside http/ and the composition root: {outside:?}"
    );
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    let found = imports("use crate::{a::b, c::{d, e::f}, self};\nlet x = crate::g::h();");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["a", "c", "g"],
        "the import reader must see every top-level name"
    );
}

//! No two hand-written modules import each other (nor does any longer circle exist), in the
//! `aimlapi` crate, the mock and the xtask. An import is any `crate::<module>` path outside
//! comments and test modules (and `super::<module>` inside a nested module); the crate root,
//! which only declares and re-exports, is left out.
//!
//! `cargo test -p aimlapi-tests --test modules -- --nocapture` prints each crate's import graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`sse::frame`) -> the `.rs` files under `src`.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().map(String::as_str) == Some("mod") {
                parts.pop();
            }
            let name = parts.join("::");
            if name == "lib" || name == "main" {
                continue;
            }
            out.insert(name, path);
        }
    }
    out
}

/// The code of a file without comment lines and without its `#[cfg(test)] mod tests`.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers right after `prefix` (`crate::a`, `crate::{a, b::c}`).
fn after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Module -> the modules it imports.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let mut out = BTreeMap::new();
    for (name, path) in &mods {
        let code = code(path);
        let mut deps = BTreeSet::new();
        for first in after(&code, "crate::") {
            // `crate::sse::frame` is an import of `sse` (a file under it counts as `sse`).
            if mods.contains_key(&first) {
                deps.insert(first);
            }
        }
        let parent = name.rsplit_once("::").map(|(p, _)| p.to_string());
        for sibling in after(&code, "super::") {
            let full = match &parent {
                Some(p) => format!("{p}::{sibling}"),
                None => sibling,
            };
            if mods.contains_key(&full) {
                deps.insert(full);
            }
        }
        deps.remove(name);
        // A module's own children and its parent are one unit here.
        deps.retain(|d| !d.starts_with(&format!("{name}::")));
        out.insert(name.clone(), deps);
    }
    out
}

/// The top-level module a module belongs to (`sse::frame` -> `sse`).
fn top(name: &str) -> &str {
    name.split("::").next().unwrap()
}

/// Every circle among top-level modules, as the path that closes it.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos {
            if top(from) != top(to) {
                edges.entry(top(from)).or_default().insert(top(to));
            }
        }
    }
    let mut found = Vec::new();
    for &start in edges.keys() {
        // Depth-first from `start`, reporting paths that come back to it.
        let mut stack = vec![vec![start]];
        while let Some(path) = stack.pop() {
            let last = *path.last().unwrap();
            for &next in edges.get(last).into_iter().flatten() {
                if next == start {
                    found.push(path.iter().map(|s| s.to_string()).collect());
                } else if !path.contains(&next) && next > start {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for src in ["crates/aimlapi/src", "crates/mock/src", "xtask/src"] {
        let graph = graph(&root.join(src));
        assert!(graph.len() >= 2, "{src}: no modules found");
        println!("{src}:");
        for (from, tos) in &graph {
            println!(
                "  {from} -> {}",
                tos.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        for circle in circles(&graph) {
            problems.push(format!("{src}: {} -> {}", circle.join(" -> "), circle[0]));
        }
    }
    assert!(
        problems.is_empty(),
        "import circles:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_circle_is_found() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(circles(&graph), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        after("use crate::{chat::Chat, sse::frame::X};", "crate::"),
        ["chat", "sse"].into_iter().map(String::from).collect()
    );
}

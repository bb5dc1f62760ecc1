//! No two hand-written modules reach each other (nor does any longer circle exist), in the
//! `aimlapi` crate, the mock and the xtask. A module reaches another through a path (any
//! `crate::<module>` outside comments and test modules, and `super::<module>` inside a nested
//! module) or a call (`.name(` or `::name(` of a function only that module declares: a
//! snake-case name with an underscore that is not a standard library method's); the crate root,
//! which only declares and re-exports, is left out. And in `aimlapi` the inherent `impl` blocks
//! of a type are all in one module (trait impls aside): a type's own methods are on one page.
//!
//! `cargo test -p aimlapi-tests --test modules -- --nocapture` prints each crate's graph.

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

/// Snake-case methods of the standard library and common crates that a module may call on
/// their own types: a function of ours by one of these names is no sign of a call.
const COMMON: &[&str] = &[
    "as_bytes",
    "as_deref",
    "as_mut",
    "as_ref",
    "as_str",
    "and_then",
    "clone_from",
    "contains_key",
    "entry",
    "extend_from_slice",
    "filter_map",
    "flat_map",
    "for_each",
    "get_mut",
    "get_or_insert",
    "get_or_insert_with",
    "into_iter",
    "into_owned",
    "is_empty",
    "is_none",
    "is_some",
    "is_some_and",
    "is_none_or",
    "map_err",
    "ok_or",
    "ok_or_else",
    "or_default",
    "or_else",
    "or_insert",
    "or_insert_with",
    "push_back",
    "push_str",
    "pop_front",
    "read_to_string",
    "serialize_entry",
    "serialize_element",
    "serialize_map",
    "serialize_seq",
    "serialize_str",
    "set_port",
    "split_once",
    "starts_with",
    "strip_prefix",
    "to_owned",
    "to_string",
    "to_vec",
    "try_from",
    "try_into",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "with_capacity",
    "from_str",
    "from_slice",
    "from_value",
    "to_value",
    "poll_next",
    "headers_mut",
    "as_u64",
    "as_f64",
    "as_str",
    "as_object",
    "as_array",
    "insert_header",
    "find_map",
    "retain",
    "last_mut",
    "checked_sub",
    "saturating_add",
    "saturating_sub",
    "trim_start",
    "trim_end",
    "to_ascii_lowercase",
    "eq_ignore_ascii_case",
    "char_indices",
    "match_indices",
    "rsplit_once",
    "take_while",
    "skip_while",
    "with_extension",
    "strip_suffix",
    "max_by_key",
    "min_by_key",
    "into_values",
    "into_keys",
    "copied",
    "cloned",
    "from_utf8_lossy",
    "try_for_each",
    "local_addr",
    "set_sensitive",
    "from_static",
    "to_str",
];

/// Module -> the functions it declares (`fn name`), outside its tests.
fn declared(mods: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    mods.iter()
        .map(|(name, path)| {
            let code = code(path);
            let fns = code
                .match_indices("fn ")
                .filter(|(i, _)| *i == 0 || !code.as_bytes()[i - 1].is_ascii_alphanumeric())
                .map(|(i, _)| {
                    code[i + 3..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|f| !f.is_empty())
                .collect();
            (name.clone(), fns)
        })
        .collect()
}

/// `code` without the text of its string literals (`"..."`, escapes honoured): a message that
/// names a method is no call of it.
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut last = ' ';
    for c in code.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' && last != '\'' {
            in_string = true;
        } else {
            out.push(c);
        }
        last = c;
    }
    out
}

/// The modules whose functions `code` calls: `.name(` or `::name(` of a function only one
/// module declares, with an underscore in its name, not a [`COMMON`] one.
fn calls(code: &str, own: &str, declared: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let code = without_strings(code);
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (module, fns) in declared {
        for f in fns {
            owners.entry(f).or_default().push(module);
        }
    }
    let mut out = BTreeSet::new();
    for (f, modules) in owners {
        if modules.len() != 1 || !f.contains('_') || COMMON.contains(&f) || modules[0] == own {
            continue;
        }
        if code.contains(&format!(".{f}(")) || code.contains(&format!("::{f}(")) {
            out.insert(modules[0].to_string());
        }
    }
    out
}

/// Whether a module's code only declares modules and re-exports (a face, as the crate root is):
/// it is left out of the graph, and the modules under it count as units of their own.
fn is_face(code: &str) -> bool {
    let items = [
        "fn ",
        "struct ",
        "enum ",
        "impl",
        "trait ",
        "const ",
        "static ",
        "type ",
        "macro_rules!",
    ];
    code.lines().all(|line| {
        let l = line.trim_start();
        let l = l
            .strip_prefix("pub(crate) ")
            .or_else(|| l.strip_prefix("pub(super) "))
            .or_else(|| l.strip_prefix("pub "))
            .unwrap_or(l);
        !items.iter().any(|k| l.starts_with(k))
    })
}

/// The module paths after `crate::` in `code` (`crate::a::b::C` gives `a::b::C`; a group
/// `crate::{a, b::c}` gives each).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let path = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_string()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|item| path(item.trim())));
        } else {
            out.insert(path(rest));
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The module `path` names: its longest start that is a module (`chat::write::Body` is
/// `chat::write`).
fn module_of(path: &str, mods: &BTreeMap<String, PathBuf>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| mods.contains_key(m))
}

/// Module -> the modules it reaches, by path or call; faces left out.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let declared = declared(&mods);
    let mut out = BTreeMap::new();
    for (name, path) in &mods {
        let code = code(path);
        if is_face(&code) {
            continue;
        }
        let mut deps = calls(&code, name, &declared);
        for used in crate_paths(&code) {
            // `crate::sse::frame::X` is an import of `sse::frame`.
            deps.extend(module_of(&used, &mods));
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

/// The faces among the modules under `src`.
fn faces(src: &Path) -> BTreeSet<String> {
    modules(src)
        .into_iter()
        .filter(|(_, path)| is_face(&code(path)))
        .map(|(name, _)| name)
        .collect()
}

/// The unit a module belongs to: its top-level module (`sse::frame` -> `sse`), or, under a
/// top-level face, the module below it (`chat::write::openai` -> `chat::write`).
fn top<'a>(name: &'a str, faces: &BTreeSet<String>) -> &'a str {
    let mut ends = name.match_indices("::").map(|(i, _)| i);
    let first = ends.next().unwrap_or(name.len());
    if !faces.contains(&name[..first]) {
        return &name[..first];
    }
    &name[..ends.next().unwrap_or(name.len())]
}

/// Every circle among the units (top-level modules, or the modules under a top-level face);
/// modules in one folder may reach each other, as the path that closes it.
fn circles(
    graph: &BTreeMap<String, BTreeSet<String>>,
    faces: &BTreeSet<String>,
) -> Vec<Vec<String>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, tos) in graph {
        for to in tos {
            let (a, b) = (top(from, faces), top(to, faces));
            // Within one folder (a top-level module and what is under it), as one unit.
            let folder = |m: &str| m.split("::").next().unwrap_or(m).to_string();
            if a != b && folder(a) != folder(b) {
                edges.entry(a).or_default().insert(b);
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

/// The type of each inherent `impl` block in `code` (`impl<T: X<Y>> Name<T> {`); trait impls
/// (`impl A for B`) are left out.
fn inherent_impls(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in code.lines() {
        let Some(rest) = line.trim_start().strip_prefix("impl") else {
            continue;
        };
        // Past the generic parameters, balanced.
        let mut rest = rest;
        if rest.starts_with('<') {
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '<' => depth += 1,
                    '>' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &rest[end..];
        } else if !rest.starts_with(' ') {
            continue;
        }
        let header = rest.split('{').next().unwrap_or("");
        if header.contains(" for ") {
            continue;
        }
        let path: String = header
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        if let Some(name) = path.rsplit("::").next().filter(|n| !n.is_empty()) {
            out.push(name.to_string());
        }
    }
    out
}

#[test]
fn a_type_s_inherent_impls_are_in_one_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/aimlapi/src");
    let mut homes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in modules(&src) {
        for ty in inherent_impls(&code(&path)) {
            homes.entry(ty).or_default().insert(module.clone());
        }
    }
    assert!(
        homes.contains_key("Client") && homes.contains_key("Chat"),
        "{homes:?}"
    );
    let spread: Vec<String> = homes
        .iter()
        .filter(|(_, modules)| modules.len() > 1)
        .map(|(ty, modules)| format!("{ty}: {modules:?}"))
        .collect();
    assert!(
        spread.is_empty(),
        "types whose inherent impls are spread over modules:\n{}",
        spread.join("\n")
    );
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
        for circle in circles(&graph, &faces(&root.join(src))) {
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
    assert_eq!(circles(&graph, &BTreeSet::new()), vec![vec!["a", "b", "c"]]);
    // Under a face, the modules below it are the units: `f::x -> f::y -> f::x` is a circle,
    // `f::x -> b` and `b -> f::y` are not.
    let under_face: BTreeMap<String, BTreeSet<String>> =
        [("f::x", vec!["b"]), ("b", vec!["f::y"]), ("f::y", vec![])]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
            .collect();
    let face: BTreeSet<String> = ["f".to_string()].into();
    assert!(circles(&under_face, &face).is_empty());
    assert_eq!(circles(&under_face, &BTreeSet::new()), vec![vec!["b", "f"]]);
    assert!(is_face("//! doc\nmod a;\npub use self::a::X;\n"));
    assert!(!is_face("mod a;\npub fn f() {}\n"));
    assert_eq!(
        crate_paths("use crate::{chat::Chat, sse::frame::X};\nlet x = crate::json::first(y);"),
        ["chat::Chat", "json::first", "sse::frame::X"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert_eq!(
        inherent_impls("impl<T: A<B>> Client<T> {\nimpl fmt::Debug for Client {\nimpl Chat {"),
        ["Client", "Chat"]
    );
    let declared: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["model_facts", "new"]),
        ("b", vec!["send_request", "new"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    // A call of a function only `a` declares reaches `a`; `new` is declared by both.
    assert_eq!(
        calls("let f = t.model_facts(m); X::new();", "b", &declared),
        ["a"].into_iter().map(String::from).collect()
    );
}

/// The names `aimlapi`'s root re-exports that are not modules (`pub use a::{B, C};`,
/// `pub use a::B;`; a crate re-exported whole, `pub use x as y;` or `pub use reqwest;`, is a
/// module).
fn root_items(lib: &str) -> Vec<String> {
    let mut items = Vec::new();
    for stmt in lib.split(';') {
        let stmt = stmt.trim();
        let Some(path) = stmt
            .lines()
            .filter(|l| !l.trim_start().starts_with("#[") && !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .strip_prefix("pub use ")
            .map(str::to_string)
        else {
            continue;
        };
        if path.contains(" as ") || !path.contains("::") {
            continue;
        }
        match path.split_once('{') {
            Some((_, group)) => items.extend(
                group
                    .trim_end_matches('}')
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            ),
            None => items.extend(path.rsplit("::").next().map(str::to_string)),
        }
    }
    items
}

#[test]
fn the_crate_root_is_a_face_of_at_most_twenty_items_that_no_module_imports_through() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/aimlapi/src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    // Only the top of the file: the inline `sse` and `tools` modules re-export for themselves.
    let top = &lib[..lib.find("pub mod sse").unwrap_or(lib.len())];
    let items = root_items(top);
    assert!(
        items.len() >= 10,
        "the root's items were not found: {items:?}"
    );
    assert!(
        items.len() <= 20,
        "{} items at the crate root: {items:?}",
        items.len()
    );
    let mut through = Vec::new();
    for (module, path) in modules(&src) {
        let code = code(&path);
        for used in crate_paths(&code) {
            let first = used.split("::").next().unwrap_or_default();
            if first == "types" || items.iter().any(|i| i == first) {
                through.push(format!("{module}: crate::{used}"));
            }
        }
    }
    assert!(
        through.is_empty(),
        "imports through the root's re-exports:\n{}",
        through.join("\n")
    );
    assert_eq!(
        root_items("pub use a::{B, C};\npub use x as y;\npub use d::E;\n#[cfg(f)]\npub use z;"),
        ["B", "C", "E"]
    );
}

//! `cargo xtask`: project automation.
//!
//! ```text
//! cargo xtask codegen                           regenerate crates/types and crates/client from schema/
//! cargo xtask codegen --check                   fail, with a summary, if the checked-in output is stale
//! cargo xtask codegen --spec <file|dir> --out <dir>
//!                                               generate a standalone crate pair from any documents
//! cargo xtask adopt <vendor.json|dir> --out <file|dir> [--dialect NAME]
//!                                               write our document for a vendor's model page
//! ```

mod adopt;
mod doc;
mod generate;
mod hoist;
mod jsonschema;
mod passes;
mod table;
mod walk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use generate::Files;

const USAGE: &str = "usage: cargo xtask codegen [--check] [--spec <file-or-dir> --out <dir>]
       cargo xtask adopt <vendor-document-or-dir> --out <file-or-dir> [--dialect NAME]";

/// The types crate's Rust name, as the generated client refers to it.
const TYPES_CRATE: &str = "aimlapi_types";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<(), String> {
    let (cmd, rest) = args.split_first().ok_or(USAGE)?;
    if cmd == "adopt" {
        return adopt_command(rest);
    }
    if cmd != "codegen" {
        return Err(format!("unknown command `{cmd}`\n{USAGE}"));
    }
    let mut check = false;
    let mut spec = None;
    let mut out = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--spec" => spec = Some(PathBuf::from(it.next().ok_or("--spec needs a path")?)),
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "-h" | "--help" => {
                println!("{USAGE}\n\nNormalization passes, in order:");
                for p in passes::PASSES {
                    println!("  {:<30} {}", p.name, p.fixes);
                }
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    match (spec, out) {
        (Some(spec), Some(out)) => standalone(&spec, &out),
        (None, None) => workspace(check),
        _ => Err(format!("--spec and --out go together\n{USAGE}")),
    }
}

/// `cargo xtask adopt`: our document for each vendor document given (a file, or every
/// chat-completions document in a directory), written under `--out`.
fn adopt_command(args: &[String]) -> Result<(), String> {
    let mut input = None;
    let mut out = None;
    let mut dialect = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a path")?)),
            "--dialect" => dialect = Some(it.next().ok_or("--dialect needs a name")?.clone()),
            "-h" | "--help" => {
                println!("{USAGE}\n\nDialects (read from the request body unless given):");
                for (d, request, ..) in adopt::DIALECTS {
                    println!("  {d:<18} request type {request}");
                }
                return Ok(());
            }
            other if input.is_none() && !other.starts_with('-') => {
                input = Some(PathBuf::from(other))
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let input = input.ok_or(USAGE)?;
    let out = out.ok_or("--out is required")?;
    let words = adopt::Descriptions::bundled();
    let (files, into_dir) = if input.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&input)
            .map_err(|e| format!("{}: {e}", input.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        (files, true)
    } else {
        (vec![input.clone()], out.is_dir())
    };
    let mut written = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let vendor: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let is_chat = vendor
            .get("paths")
            .and_then(serde_json::Value::as_object)
            .is_some_and(|p| p.keys().any(|k| k.ends_with("/chat/completions")));
        if input.is_dir() && !is_chat {
            eprintln!(
                "adopt: {}: no chat-completions path, skipped",
                file.display()
            );
            continue;
        }
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: bad file name", file.display()))?;
        let adopted = adopt::adopt(&vendor, name, dialect.as_deref(), &words)?;
        let target = if into_dir {
            out.join(name)
        } else {
            out.clone()
        };
        let text = serde_json::to_string_pretty(&adopted.value).expect("JSON") + "\n";
        std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
        written += 1;
        eprintln!(
            "adopt: {name} -> {} ({})",
            target.display(),
            adopted.value["info"]["x-codegen-dialect"]
                .as_str()
                .unwrap_or("?")
        );
        for line in &adopted.report {
            eprintln!("  {line}");
        }
    }
    eprintln!("adopt: {written} documents written");
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn print_report(g: &generate::Generated) {
    for (stem, changes) in &g.report {
        let changed: Vec<String> = changes
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        eprintln!(
            "  {stem}: {}",
            if changed.is_empty() {
                "clean".to_string()
            } else {
                changed.join(", ")
            }
        );
    }
    eprintln!("  {} types", g.type_names.len());
}

fn workspace(check: bool) -> Result<(), String> {
    let root = workspace_root();
    let docs = generate::load_docs(&root.join("schema"))?;
    let target = generate::Target {
        types_crate: TYPES_CRATE,
        openapi_dir: "../openapi",
        jsonschema_dir: "../jsonschema",
        hooks: true,
    };
    let g = generate::run(docs, &target)?;
    // The types crate depends on `regress` only while some schema has a `pattern`: a document
    // that adds one must add the dependency too, or the crate would not build.
    if uses_regress(&g.types_rs) {
        let manifest = std::fs::read_to_string(root.join("crates/types/Cargo.toml"))
            .map_err(|e| format!("crates/types/Cargo.toml: {e}"))?;
        if !manifest.contains("\nregress = ") {
            return Err(
                "a schema has a `pattern`, so the generated types use the `regress` \
                        crate: add `regress = \"0.10\"` to crates/types/Cargo.toml"
                    .into(),
            );
        }
    }
    let mut files = Files::new();
    files.insert("crates/types/src/generated.rs".into(), g.types_rs.clone());
    files.insert("crates/client/src/generated.rs".into(), g.client_rs.clone());
    add_documents(&mut files, &g, Path::new("crates/types"));
    let owned = ["crates/types/openapi", "crates/types/jsonschema"];
    if check {
        let stale = generate::check(&root, &files, &owned);
        if stale.is_empty() {
            eprintln!(
                "codegen: generated code is up to date ({} files)",
                files.len()
            );
            return Ok(());
        }
        let mut msg = String::from(
            "generated code is stale; run `cargo xtask codegen` and commit the result:\n",
        );
        for s in stale {
            msg.push_str(&format!("  {s}\n"));
        }
        return Err(msg.trim_end().to_string());
    }
    eprintln!("codegen: {} documents", g.normalized.len());
    print_report(&g);
    // Remove generated documents whose source is gone.
    for dir in owned {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = Path::new(dir).join(e.file_name());
            if !files.contains_key(&rel) {
                std::fs::remove_file(e.path())
                    .map_err(|err| format!("{}: {err}", e.path().display()))?;
            }
        }
    }
    let changed = generate::write(&root, &files)?;
    eprintln!("codegen: {changed} of {} files changed", files.len());
    Ok(())
}

/// Whether generated types code uses the `regress` crate (typify's regular expressions, for
/// schemas with a `pattern`).
fn uses_regress(types_rs: &str) -> bool {
    types_rs.contains("regress::")
}

/// The normalized documents and request schemas, under the types crate at `types_dir`.
fn add_documents(files: &mut Files, g: &generate::Generated, types_dir: &Path) {
    for (stem, text) in &g.normalized {
        let path = types_dir.join("openapi").join(format!("{stem}.json"));
        files.insert(path, text.clone());
    }
    for (stem, text) in &g.request_schemas {
        let path = types_dir
            .join("jsonschema")
            .join(format!("{stem}.request.json"));
        files.insert(path, text.clone());
    }
}

/// A crate pair under `out` that builds on its own: `out/types` and `out/client`.
fn standalone(spec: &Path, out: &Path) -> Result<(), String> {
    let docs = generate::load_docs(spec)?;
    let target = generate::Target {
        types_crate: "generated_types",
        openapi_dir: "../openapi",
        jsonschema_dir: "../jsonschema",
        hooks: false,
    };
    let g = generate::run(docs, &target)?;
    print_report(&g);
    let mut files = Files::new();
    files.insert("Cargo.toml".into(), STANDALONE_WORKSPACE.to_string());
    files.insert(
        "types/src/lib.rs".into(),
        format!(
            "//! Types generated from {}.\n\n{}",
            spec.file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("the documents"),
            g.types_rs
        ),
    );
    let mut types_manifest = STANDALONE_TYPES.to_string();
    if uses_regress(&g.types_rs) {
        types_manifest.push_str("regress = \"0.10\"\n");
    }
    files.insert("types/Cargo.toml".into(), types_manifest);
    files.insert("client/Cargo.toml".into(), STANDALONE_CLIENT.to_string());
    files.insert(
        "client/src/lib.rs".into(),
        format!(
            "//! A client generated from {}.\n\n{}",
            spec.file_name()
                .and_then(|s| s.to_str())
                .unwrap_or("the documents"),
            g.client_rs
        ),
    );
    add_documents(&mut files, &g, Path::new("types"));
    let changed = generate::write(out, &files)?;
    eprintln!("codegen: wrote {changed} files under {}", out.display());
    Ok(())
}

const STANDALONE_WORKSPACE: &str = r#"# Generated by `cargo xtask codegen --spec ... --out ...`.
[workspace]
resolver = "2"
members = ["types", "client"]
"#;

const STANDALONE_TYPES: &str = r#"[package]
name = "generated-types"
version = "0.1.0"
edition = "2021"
publish = false

[features]
default = ["builder", "string-conversions", "deserialize-requests"]
builder = []
string-conversions = []
deserialize-requests = []

[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

const STANDALONE_CLIENT: &str = r#"[package]
name = "generated-client"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
generated-types = { path = "../types" }
progenitor-client = "0.15.1"
reqwest = { version = "0.13", default-features = false, features = ["json", "stream", "query"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

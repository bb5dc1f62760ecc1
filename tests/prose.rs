//! Our documents are in our own words: no description, summary or title in `schema/` or in the
//! tables the generator writes them from is the vendor's prose. Checked against the vendor's
//! documents in `../shared/vendor-specs/` beside the checkout; without them the test says loudly
//! that it skipped (CI has them).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every prose string (`description`, `summary`, `title`) in `v`, and every string value of a
/// flat table of descriptions.
fn prose(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("description" | "summary" | "title", Value::String(s)) => out.push(s.clone()),
                    _ => prose(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| prose(x, out)),
        _ => {}
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .flat_map(|p| if p.is_dir() { json_files(&p) } else { vec![p] })
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Runs of `n` words, as text.
fn runs(s: &str, n: usize) -> Vec<String> {
    words(s).windows(n).map(|w| w.join(" ")).collect()
}

#[test]
fn our_documents_do_not_copy_the_vendor_s_prose() {
    let vendor_dir = root().join("../shared/vendor-specs");
    if !vendor_dir.is_dir() {
        eprintln!(
            "\n########## SKIPPED: copied-prose check ##########\n\
             no {} beside the checkout: the vendor's documents are not here to compare with\n",
            vendor_dir.display()
        );
        return;
    }
    let mut theirs = Vec::new();
    for f in json_files(&vendor_dir) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        prose(&v, &mut theirs);
    }
    const RUN: usize = 8;
    let exact: BTreeSet<String> = theirs.iter().map(|s| words(s).join(" ")).collect();
    let long_runs: BTreeSet<String> = theirs.iter().flat_map(|s| runs(s, RUN)).collect();
    assert!(
        exact.len() > 100,
        "only {} vendor descriptions read",
        exact.len()
    );

    let mut ours: Vec<(String, String)> = Vec::new();
    let mut sources: Vec<PathBuf> = json_files(&root().join("schema"));
    sources.push(root().join("xtask/src/descriptions.json"));
    sources.push(root().join("xtask/src/shared_response.json"));
    for f in &sources {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let mut found = Vec::new();
        if f.ends_with("descriptions.json") {
            found.extend(
                v.as_object()
                    .unwrap()
                    .values()
                    .filter_map(|s| s.as_str().map(String::from)),
            );
        } else {
            prose(&v, &mut found);
        }
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        ours.extend(found.into_iter().map(|s| (name.clone(), s)));
    }
    assert!(
        ours.len() > 100,
        "only {} of our descriptions read",
        ours.len()
    );
    let copied: Vec<String> = ours
        .iter()
        .filter(|(_, s)| {
            let w = words(s);
            // Three words or fewer are names, not prose ("The answer.").
            w.len() > 3 && exact.contains(&w.join(" "))
                || runs(s, RUN).iter().any(|r| long_runs.contains(r))
        })
        .map(|(f, s)| format!("{f}: {s}"))
        .collect();
    assert!(
        copied.is_empty(),
        "descriptions that repeat the vendor's prose:\n{}",
        copied.join("\n")
    );
}

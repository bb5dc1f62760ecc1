//! Helpers for the workspace tests: reading fixtures.

use std::path::PathBuf;

/// The path of a fixture: under `tests/fixtures/`, or under `crates/mock/fixtures/` for the
/// documented answers the mock serves (they ship with it).
pub fn fixture_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let here = root.join("fixtures").join(name);
    if here.exists() {
        return here;
    }
    root.join("../crates/mock/fixtures").join(name)
}

/// The text of a fixture.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A fixture parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The payloads of the `data:` lines of an SSE transcript fixture.
pub fn data_lines(name: &str) -> Vec<String> {
    fixture(name)
        .lines()
        .filter_map(|l| l.strip_prefix("data: ").map(str::to_string))
        .collect()
}

/// The generated types crate's source, for tests that look at what was generated.
pub fn generated_types_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/types/src/generated.rs");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

//! The model catalogue: `GET /v1/models` (and `/models`, `/api/v1/models`) and
//! `GET /model/{id}`, served from `fixtures/catalogue.json`.
//!
//! Each entry in the fixture is whole (identity, modalities, capabilities, pricing); a request
//! gets the identity (`id`, `aliases`, `type`, `info`, `tags`) and the sections its `include` or
//! `details` asks for, of the entries its filters keep.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

/// The catalogue the mock serves: `{"note": ..., "data": [entry, ...]}`.
const FIXTURE: &str = include_str!("../fixtures/catalogue.json");

/// The sections every entry carries; the others come only when asked for.
const IDENTITY: [&str; 5] = ["id", "aliases", "type", "info", "tags"];

/// The sections `include` can attach.
const SECTIONS: [&str; 3] = ["pricing", "modalities", "capabilities"];

/// The filter parameters ([`facets`] says what of an entry each one's values are matched against).
const FILTERS: [&str; 7] = [
    "id",
    "type",
    "tags",
    "modalities",
    "input_modalities",
    "output_modalities",
    "capabilities",
];

/// The catalogue's entries, parsed once.
pub(crate) fn entries() -> &'static [Value] {
    static ENTRIES: OnceLock<Vec<Value>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let fixture: Value =
            serde_json::from_str(FIXTURE).expect("fixtures/catalogue.json is JSON");
        match fixture.get("data") {
            Some(Value::Array(data)) => data.clone(),
            _ => panic!("fixtures/catalogue.json has no `data` list"),
        }
    })
}

/// The entry whose id or one of whose aliases is `name`, compared case-insensitively.
pub(crate) fn find(name: &str) -> Option<&'static Value> {
    entries()
        .iter()
        .find(|e| names(e).any(|n| n.eq_ignore_ascii_case(name)))
}

/// An entry's id and aliases.
fn names(entry: &Value) -> impl Iterator<Item = &str> {
    let id = entry.get("id").and_then(Value::as_str);
    let aliases = entry
        .get("aliases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    id.into_iter().chain(aliases)
}

/// The price of one token in and one token out, in US dollars, when the entry quotes fixed
/// token prices for both.
pub(crate) fn token_prices(entry: &Value) -> Option<(f64, f64)> {
    let pricing = entry.get("pricing")?;
    if pricing.get("kind").and_then(Value::as_str) != Some("fixed") {
        return None;
    }
    let units = pricing.get("units")?.as_array()?;
    let price = |measure: &str| {
        units.iter().find_map(|u| {
            if u.get("name")?.as_str()? != "token" || u.get("measure")?.as_str()? != measure {
                return None;
            }
            let per = u.get("per")?.as_f64().filter(|p| *p > 0.0)?;
            Some(u.get("price")?.as_f64()? / per)
        })
    };
    Some((price("input")?, price("output")?))
}

/// A query string as `(name, value)` pairs, each percent-decoded (`+` is a space).
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

/// `text` with its `%XX` escapes decoded (and `+` as a space in a query); an escape that is not
/// one is kept as written, bytes that are not UTF-8 are replaced.
pub(crate) fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every value given for `name`: repeated parameters and comma-separated lists merged, trimmed,
/// lower-cased, empty ones left out.
fn values(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The optional sections a request asks for: `include` values (`all` for every one; unknown
/// values ignored), or every one with `details=true` or `details=1`.
fn sections(pairs: &[(String, String)]) -> Vec<&'static str> {
    let include = values(pairs, "include");
    let details = values(pairs, "details")
        .iter()
        .any(|v| v == "true" || v == "1");
    if details || include.iter().any(|v| v == "all") {
        return SECTIONS.to_vec();
    }
    SECTIONS
        .into_iter()
        .filter(|s| include.iter().any(|v| v == s))
        .collect()
}

/// What of `entry` the values of the filter `name` are matched against, lower-cased.
fn facets(entry: &Value, name: &str) -> Vec<String> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.to_ascii_lowercase()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect(),
            _ => Vec::new(),
        }
    };
    let input = || strings(entry.pointer("/modalities/input"));
    let output = || strings(entry.pointer("/modalities/output"));
    match name {
        "id" => names(entry).map(str::to_ascii_lowercase).collect(),
        "modalities" => input().into_iter().chain(output()).collect(),
        "input_modalities" => input(),
        "output_modalities" => output(),
        other => strings(entry.get(other)),
    }
}

/// The filters a request gives: each parameter with a value, with its values.
fn filters(pairs: &[(String, String)]) -> Vec<(&'static str, Vec<String>)> {
    FILTERS
        .iter()
        .map(|name| (*name, values(pairs, name)))
        .filter(|(_, wanted)| !wanted.is_empty())
        .collect()
}

/// Whether `entry` passes every filter: some value of each parameter matches (OR within a
/// parameter, AND across them).
fn keeps(entry: &Value, filters: &[(&str, Vec<String>)]) -> bool {
    filters.iter().all(|(name, wanted)| {
        let have = facets(entry, name);
        wanted.iter().any(|w| have.contains(w))
    })
}

/// `entry` with its identity and the `sections` asked for.
fn project(entry: &Value, sections: &[&str]) -> Value {
    let mut out = Map::new();
    for key in IDENTITY.iter().chain(sections) {
        if let Some(v) = entry.get(*key) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// The body of `GET /v1/models?<query>`: `{"object": "list", "data": [...]}`.
pub(crate) fn list(query: &str) -> String {
    let pairs = query_pairs(query);
    let sections = sections(&pairs);
    let filters = filters(&pairs);
    let data: Vec<Value> = entries()
        .iter()
        .filter(|e| keeps(e, &filters))
        .map(|e| project(e, &sections))
        .collect();
    json!({"object": "list", "data": data}).to_string()
}

/// The body of `GET /model/{name}?<query>`: `{"object": "model", "data": {...}}`, or `None`
/// when no id or alias is `name`.
pub(crate) fn one(name: &str, query: &str) -> Option<String> {
    let entry = find(name)?;
    let sections = sections(&query_pairs(query));
    Some(json!({"object": "model", "data": project(entry, &sections)}).to_string())
}

/// A weak entity tag for `body`: its length and 64-bit FNV-1a hash, both in hex.
pub(crate) fn etag(body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("W/\"{:x}-{hash:016x}\"", body.len())
}

/// Whether an `If-None-Match` value names `etag` (a list of tags, compared weakly, or `*`).
pub(crate) fn matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if_none_match
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_what_is_not_an_escape() {
        assert_eq!(decode("a%2Fb+c", true), "a/b c");
        assert_eq!(decode("a+b", false), "a+b");
        assert_eq!(decode("100%", true), "100%");
        assert_eq!(decode("%zz%4", true), "%zz%4");
        assert_eq!(decode("%ff%fe", true), "\u{fffd}\u{fffd}");
        assert_eq!(decode("%C3%A9", true), "é");
    }

    #[test]
    fn values_merge_repeats_and_commas() {
        let pairs = query_pairs("tags=A,b&tags=c&tags=&x=1");
        assert_eq!(values(&pairs, "tags"), ["a", "b", "c"]);
        assert!(values(&pairs, "id").is_empty());
    }

    #[test]
    fn an_etag_is_weak_and_stable() {
        let tag = etag("{}");
        assert!(tag.starts_with("W/\"2-"), "{tag}");
        assert_eq!(tag, etag("{}"));
        assert_ne!(tag, etag("{ }"));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"x\", {tag}"), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("W/\"2-0\"", &tag));
    }

    #[test]
    fn every_entry_has_its_identity() {
        for e in entries() {
            for key in IDENTITY {
                assert!(e.get(key).is_some(), "{key} missing from {e}");
            }
        }
    }
}

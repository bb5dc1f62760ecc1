//! Properties of `parse_partial_json` over every cut of random JSON documents.
//!
//! Random `serde_json::Value`s (null, booleans, i64, u64, finite f64, strings with quotes,
//! backslashes, control characters and one- to four-byte characters, arrays, objects; nested a
//! few levels) are written three ways: compact, pretty, and compact with every non-ASCII character
//! escaped as `\uXXXX` (surrogate pairs included). For each text, and each of its prefixes cut at
//! a char boundary:
//!
//! - the prefix reads without panicking;
//! - the whole text reads as `serde_json::from_str` reads it, and so does any prefix that is
//!   itself whole JSON (such as one ending just after the top-level value, or a number's first
//!   digits);
//! - what a prefix reads as invents nothing: each object key and array index in it is there at
//!   the same path in the whole value, each string is a prefix of the whole string, and each
//!   `true`, `false` or `null` is the whole value's too.

use aimlapi::chat::parse_partial_json;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        1 => Just(' '),
        1 => Just('"'),
        1 => Just('\\'),
        1 => Just('/'),
        1 => prop::char::range('\u{0}', '\u{1f}'),
        1 => Just('\u{7f}'),
        1 => Just('é'),
        1 => Just('€'),
        1 => Just('😀'),
        1 => any::<char>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(text_char(), 0..6).prop_map(|chars| chars.into_iter().collect())
}

fn leaf() -> impl Strategy<Value = Value> {
    use prop::num::f64;
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        (f64::POSITIVE | f64::NEGATIVE | f64::NORMAL | f64::SUBNORMAL | f64::ZERO)
            .prop_map(|x| Value::Number(Number::from_f64(x).expect("finite"))),
        text().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Compact JSON with every non-ASCII character written as a `\u` escape (two for a character
/// outside the BMP). Outside strings serde_json writes only ASCII, so every such character is
/// inside a string, where the escape means the same.
fn ascii_escaped(value: &Value) -> String {
    let mut out = String::new();
    for ch in serde_json::to_string(value).unwrap().chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Whether `partial` (what a prefix reads as) holds only what `full` holds at the same paths.
fn invents_nothing(partial: &Value, full: &Value, path: &str) -> Result<(), String> {
    match (partial, full) {
        (Value::Object(part), Value::Object(whole)) => {
            for (key, value) in part {
                let Some(whole_value) = whole.get(key) else {
                    return Err(format!("key {key:?} at {path:?} is not in the whole value"));
                };
                invents_nothing(value, whole_value, &format!("{path}/{key}"))?;
            }
            Ok(())
        }
        (Value::Array(part), Value::Array(whole)) => {
            if part.len() > whole.len() {
                return Err(format!(
                    "{} elements at {path:?}, of {}",
                    part.len(),
                    whole.len()
                ));
            }
            for (index, (value, whole_value)) in part.iter().zip(whole).enumerate() {
                invents_nothing(value, whole_value, &format!("{path}/{index}"))?;
            }
            Ok(())
        }
        (Value::String(part), Value::String(whole)) if whole.starts_with(part.as_str()) => Ok(()),
        (Value::Number(_), Value::Number(_)) => Ok(()),
        (Value::Bool(_) | Value::Null, _) if partial == full => Ok(()),
        _ => Err(format!(
            "{partial} at {path:?} where the whole value has {full}"
        )),
    }
}

fn check_text(text: &str) -> Result<(), TestCaseError> {
    let full: Value = serde_json::from_str(text).unwrap();
    prop_assert_eq!(&parse_partial_json(text), &full, "whole text {:?}", text);
    for (end, _) in text.char_indices() {
        let prefix = &text[..end];
        let read = parse_partial_json(prefix);
        if let Ok(whole) = serde_json::from_str::<Value>(prefix) {
            prop_assert_eq!(&read, &whole, "whole-JSON prefix {:?}", prefix);
        }
        // Nothing read yet is null, whatever the whole value is.
        if read.is_null() && prefix.trim() != "null" {
            continue;
        }
        if let Err(why) = invents_nothing(&read, &full, "") {
            return Err(TestCaseError::fail(format!("prefix {prefix:?}: {why}")));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_prefix_reads_and_invents_nothing(value in value()) {
        check_text(&serde_json::to_string(&value).unwrap())?;
        check_text(&serde_json::to_string_pretty(&value).unwrap())?;
        check_text(&ascii_escaped(&value))?;
    }
}

//! The rule both folds keep for what they do not name: a field a chunk or event carries beyond
//! the fields its type names is carried into the folded answer, at the level it came.

use serde_json::{Map, Value};

/// How a number that is already there meets a new one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbers {
    /// The last value wins, as for every other scalar.
    Last,
    /// The larger stays: usage counts, which only grow as a stream goes on.
    Largest,
}

/// Merges `new` into `old`: objects field by field, anything else replaces (under
/// [`Numbers::Largest`] a number replaces a number only when it is larger); a `null` never
/// replaces a value.
pub(crate) fn merge_value(old: &mut Value, new: &Value, numbers: Numbers) {
    match (old, new) {
        (_, Value::Null) => {}
        (Value::Object(old), Value::Object(new)) => merge_fields(old, new, numbers),
        (old @ Value::Number(_), Value::Number(n)) if numbers == Numbers::Largest => {
            if n.as_f64() > old.as_f64() {
                *old = Value::Number(n.clone());
            }
        }
        (old, new) => *old = new.clone(),
    }
}

/// Merges the fields of `new` into `old` by [`merge_value`].
pub(crate) fn merge_fields(
    old: &mut Map<String, Value>,
    new: &Map<String, Value>,
    numbers: Numbers,
) {
    for (key, value) in new {
        match old.get_mut(key) {
            Some(slot) if !slot.is_null() => merge_value(slot, value, numbers),
            Some(_) if value.is_null() => {}
            _ => {
                old.insert(key.clone(), value.clone());
            }
        }
    }
}

/// `slot` merged with `new`: the new value where there was none, else [`merge_value`]'s rule
/// for a scalar (the last wins).
pub(crate) fn last<T: Clone>(slot: &mut Option<T>, new: &Option<T>) {
    if new.is_some() {
        slot.clone_from(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_scalars_take_the_last_and_counts_the_largest() {
        let mut old = json!({"a": 1, "o": {"x": 1, "keep": true}, "n": null});
        merge_value(
            &mut old,
            &json!({"a": 0, "o": {"x": 2}, "n": 3, "z": null}),
            Numbers::Last,
        );
        assert_eq!(
            old,
            json!({"a": 0, "o": {"x": 2, "keep": true}, "n": 3, "z": null})
        );
        let mut counts = json!({"in": 10, "out": 5});
        merge_value(&mut counts, &json!({"in": 0, "out": 7}), Numbers::Largest);
        assert_eq!(counts, json!({"in": 10, "out": 7}));
    }
}

//! From OpenAPI 3.0 schemas to the JSON Schema typify reads, and the check that typify's output
//! covers every schema it was given.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};
use typify::{TypeDetails, TypeId, TypeSpace};

use crate::walk::ref_name;

/// Converts one hoisted OpenAPI schema to JSON Schema:
/// - `nullable: true` becomes a `"null"` type (or a `oneOf` with `null` around a reference);
/// - `anyOf` becomes `oneOf`: typify turns `anyOf` into a struct of flattened optional fields that
///   fails at run time (typify#895); serde tries untagged variants in order, so overlapping
///   branches still parse;
/// - documentation-only and vendor keywords (`example`, `x-...`, `discriminator`) are dropped;
/// - a string's `pattern` is dropped: typify would check it with the `regress` crate, a
///   dependency every service would build for a few date filters; the documents keep it, so
///   validators (the mock, Prism) still check it.
pub fn to_json_schema(v: &Value) -> Value {
    convert(v, Target::Typify)
}

/// Who reads the converted schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// typify: `anyOf` as `oneOf`, references as they are.
    Typify,
    /// A validator: the same meaning exactly, references into `$defs`.
    Validation,
}

fn convert(v: &Value, target: Target) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        match k.as_str() {
            "nullable" | "example" | "examples" | "discriminator" | "xml" | "externalDocs"
            | "readOnly" | "writeOnly" | "deprecated" => {}
            k if k.starts_with("x-") => {}
            "pattern" if target == Target::Typify => {}
            "$ref" if target == Target::Validation => {
                let to = v.as_str().unwrap_or_default();
                let name = to.strip_prefix("#/components/schemas/").unwrap_or(to);
                out.insert(k.into(), json!(format!("#/$defs/{name}")));
            }
            "properties" => {
                let props = v
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(n, s)| (n.clone(), convert(s, target)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.into(), Value::Object(props));
            }
            "anyOf" | "oneOf" | "allOf" => {
                let list = v
                    .as_array()
                    .map(|l| l.iter().map(|b| convert(b, target)).collect())
                    .unwrap_or_default();
                let key = if k == "anyOf" && target == Target::Typify {
                    "oneOf"
                } else {
                    k
                };
                out.insert(key.into(), Value::Array(list));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(k.into(), convert(v, target));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if m.get("nullable") != Some(&Value::Bool(true)) {
        return Value::Object(out);
    }
    match target {
        Target::Typify => typify_nullable(out),
        Target::Validation => validation_nullable(out),
    }
}

fn typify_nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::Array(all)) = out.get("allOf").cloned() {
        // `{allOf: [$ref], nullable: true}`: the reference, or null.
        out.remove("allOf");
        let mut branches = all;
        branches.push(json!({"type": "null"}));
        out.insert("oneOf".into(), Value::Array(branches));
    } else if let Some(Value::String(t)) = out.get("type").cloned() {
        out.insert("type".into(), json!([t, "null"]));
    } else if !out.contains_key("oneOf") && !out.contains_key("$ref") && !out.contains_key("type") {
        // `{nullable: true}` alone: any value at all.
    } else if let Some(Value::Array(branches)) = out.get_mut("oneOf") {
        branches.push(json!({"type": "null"}));
    }
    Value::Object(out)
}

fn validation_nullable(mut out: Map<String, Value>) -> Value {
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        values.push(Value::Null);
    }
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
            Value::Object(out)
        }
        // `{nullable: true}` alone: any value at all.
        None if out.keys().all(|k| k == "description") => Value::Object(out),
        // A reference or a union: it, or null.
        _ => json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
    }
}

/// The JSON Schema (draft 2020-12) a validator uses for one document's request body: every
/// component of the normalized document under `$defs`, converted faithfully (unlike
/// [`to_json_schema`], `anyOf` stays `anyOf`: a validator must accept what any branch accepts),
/// and a root that refers to the request body's component. `None` when the document has no JSON
/// request body.
pub fn request_validation_schema(doc: &Value) -> Option<Value> {
    let root = doc
        .get("paths")?
        .as_object()?
        .values()
        .filter_map(Value::as_object)
        .flat_map(|ops| ops.values())
        .find_map(|op| op.pointer("/requestBody/content/application~1json/schema"))
        .map(|s| convert(s, Target::Validation));
    let defs: Map<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(n, s)| (n.clone(), convert(s, Target::Validation)))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    if let Value::Object(r) = root? {
        out.extend(r);
    }
    out.insert("$defs".into(), Value::Object(defs));
    Some(Value::Object(out))
}

/// The component name a type resolves to once `Option`, `Box`, `Vec` and map layers are peeled off.
fn named(ts: &TypeSpace, id: &TypeId) -> Option<String> {
    let t = ts.get_type(id).ok()?;
    let found = match t.details() {
        TypeDetails::Option(inner)
        | TypeDetails::Box(inner)
        | TypeDetails::Vec(inner)
        | TypeDetails::Set(inner)
        | TypeDetails::Map(_, inner)
        | TypeDetails::Array(inner, _) => named(ts, &inner),
        TypeDetails::Enum(_) | TypeDetails::Struct(_) | TypeDetails::Newtype(_) => Some(t.name()),
        _ => None,
    };
    found
}

/// The component a schema refers to, looking through `nullable` wrappers, arrays and maps.
fn referenced(s: &Value) -> Option<String> {
    if let Some(n) = ref_name(s) {
        return Some(n.to_string());
    }
    if let Some(Value::Array(list)) = s.get("allOf").or_else(|| s.get("oneOf")) {
        let refs: Vec<_> = list
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        if refs.len() == 1 {
            return referenced(refs[0]);
        }
    }
    if let Some(items) = s.get("items") {
        return referenced(items);
    }
    if let Some(ap @ Value::Object(_)) = s.get("additionalProperties") {
        return referenced(ap);
    }
    None
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Checks that every component has a generated type of the right shape: a struct with one field
/// per property, pointing at the types of the components the properties refer to; an enum with
/// one variant per union branch (carrying the branch's type) or per enum value. This is what
/// catches a schema that typify silently replaced by another one of the same name.
pub fn verify(components: &BTreeMap<String, Value>, ts: &TypeSpace) -> Result<(), String> {
    let mut by_name: HashMap<String, Vec<TypeDetailsSummary>> = HashMap::new();
    for t in ts.iter_types() {
        by_name.entry(t.name()).or_default().push(summarize(ts, &t));
    }
    let mut errors = Vec::new();
    for (name, schema) in components {
        let Some(found) = by_name.get(name) else {
            errors.push(format!("schema `{name}` has no generated type"));
            continue;
        };
        if found.len() > 1 {
            errors.push(format!("`{name}` names {} generated types", found.len()));
            continue;
        }
        let got = &found[0];
        let want = expected(schema);
        if let Some(want) = want {
            if &want != got {
                errors.push(format!("schema `{name}` lost in generation: the schema has {want}, the generated type has {got}"));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// What a generated type holds, in the terms a schema can be compared with.
#[derive(Debug, PartialEq, Eq)]
enum TypeDetailsSummary {
    /// Field count, and the sorted component names the fields refer to.
    Struct(usize, Vec<String>),
    /// Variant count, and the sorted component names the variants carry.
    Enum(usize, Vec<String>),
    Other,
}

impl std::fmt::Display for TypeDetailsSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Struct(n, refs) => write!(f, "{n} properties referring to {refs:?}"),
            Self::Enum(n, refs) => write!(f, "{n} variants carrying {refs:?}"),
            Self::Other => write!(f, "no fields or variants"),
        }
    }
}

fn summarize(ts: &TypeSpace, t: &typify::Type<'_>) -> TypeDetailsSummary {
    match t.details() {
        TypeDetails::Struct(s) => {
            let props: Vec<_> = s.properties_info().collect();
            let refs = props.iter().filter_map(|p| named(ts, &p.type_id)).collect();
            TypeDetailsSummary::Struct(props.len(), sorted(refs))
        }
        TypeDetails::Enum(e) => {
            let variants: Vec<_> = e.variants_info().collect();
            let mut refs = Vec::new();
            for v in &variants {
                match &v.details {
                    typify::TypeEnumVariant::Tuple(ids) => {
                        refs.extend(ids.iter().filter_map(|id| named(ts, id)))
                    }
                    typify::TypeEnumVariant::Struct(props) => {
                        refs.extend(props.iter().filter_map(|(_, id)| named(ts, id)))
                    }
                    typify::TypeEnumVariant::Simple => {}
                }
            }
            TypeDetailsSummary::Enum(variants.len(), sorted(refs))
        }
        _ => TypeDetailsSummary::Other,
    }
}

/// The summary a schema should generate, where its shape decides one.
fn expected(schema: &Value) -> Option<TypeDetailsSummary> {
    if let Some(Value::Object(props)) = schema.get("properties") {
        if props.is_empty() {
            return None;
        }
        let mut n = props.len();
        // A schema for the other keys adds one flattened map field.
        if matches!(
            schema.get("additionalProperties"),
            Some(Value::Object(_)) | Some(Value::Bool(true))
        ) {
            n += 1;
        }
        let refs = props.values().filter_map(referenced).collect();
        return Some(TypeDetailsSummary::Struct(n, sorted(refs)));
    }
    if let Some(Value::Array(branches)) = schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        let real: Vec<_> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        let refs = real.iter().filter_map(|b| referenced(b)).collect();
        return Some(TypeDetailsSummary::Enum(real.len(), sorted(refs)));
    }
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(TypeDetailsSummary::Enum(values.len(), Vec::new()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_any_of_become_json_schema() {
        assert_eq!(
            to_json_schema(&json!({"type": "string", "nullable": true, "example": "x"})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            to_json_schema(
                &json!({"allOf": [{"$ref": "#/components/schemas/U"}], "nullable": true})
            ),
            json!({"oneOf": [{"$ref": "#/components/schemas/U"}, {"type": "null"}]})
        );
        assert_eq!(
            to_json_schema(&json!({"anyOf": [{"type": "string"}], "x-open-enum": true})),
            json!({"oneOf": [{"type": "string"}]})
        );
        assert_eq!(to_json_schema(&json!({"nullable": true})), json!({}));
    }
}

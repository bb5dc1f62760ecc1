//! Joining: the schema that two schemas of one name become when documents differ in what they
//! leave out, and the canonical text by which equal schemas are found.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::naming::typify_case;
use crate::walk::ref_name;

/// Joins hoisted schemas, reading the components they refer to from `schemas`.
pub(super) struct Joiner<'a> {
    /// The components by name.
    pub(super) schemas: &'a BTreeMap<String, Value>,
}

impl Joiner<'_> {
    /// The narrowest schema that accepts everything `a` or `b` accepts, when the two differ only
    /// by what one of them leaves out: properties (a property required by only one becomes
    /// optional), branches of a union, values of an enum, looser numeric bounds; a reference
    /// whose schema accepts all the other side does. An error saying where, when they differ in
    /// kind (an object and a string, different string constraints).
    pub(super) fn join(&self, a: &Value, b: &Value) -> Result<Value, String> {
        self.join_at(a, b, 0)
    }

    fn join_at(&self, a: &Value, b: &Value, depth: usize) -> Result<Value, String> {
        if depth > 32 {
            return Err("nested too deep".into());
        }
        if canonical(a) == canonical(b) {
            return Ok(a.clone());
        }
        let (Value::Object(x), Value::Object(y)) = (a, b) else {
            return Err("not both schemas".into());
        };
        if let Some(r) = self.join_refs(a, b, depth) {
            return r;
        }
        // `X or null` against `X`: the nullable side wins.
        if let Some(j) = self
            .join_nullable(x, y, depth)
            .or_else(|| self.join_nullable(y, x, depth))
        {
            return Ok(j);
        }
        let union = |m: &Map<String, Value>| m.contains_key("oneOf") || m.contains_key("anyOf");
        if union(x) || union(y) {
            return self.join_unions(x, y, depth);
        }
        let mut out = Map::new();
        let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for k in keys {
            let (vx, vy) = (x.get(k), y.get(k));
            let v = match k.as_str() {
                "properties" => {
                    let (Some(Value::Object(px)), Some(Value::Object(py))) = (vx, vy) else {
                        return Err("properties on one side only".into());
                    };
                    let mut props = Map::new();
                    let names: std::collections::BTreeSet<&String> =
                        px.keys().chain(py.keys()).collect();
                    for n in names {
                        let v = match (px.get(n), py.get(n)) {
                            (Some(p), Some(q)) => self
                                .join_at(p, q, depth + 1)
                                .map_err(|e| format!("{n}: {e}"))?,
                            (Some(p), None) | (None, Some(p)) => p.clone(),
                            (None, None) => unreachable!(),
                        };
                        props.insert(n.clone(), v);
                    }
                    Value::Object(props)
                }
                "required" => {
                    let both: Vec<Value> = match (vx, vy) {
                        (Some(Value::Array(rx)), Some(Value::Array(ry))) => {
                            rx.iter().filter(|r| ry.contains(r)).cloned().collect()
                        }
                        _ => Vec::new(),
                    };
                    if both.is_empty() {
                        continue;
                    }
                    Value::Array(both)
                }
                "additionalProperties" => match (vx, vy) {
                    (Some(Value::Bool(false)), Some(Value::Bool(false))) => Value::Bool(false),
                    (Some(p), Some(q)) => self
                        .join_at(p, q, depth + 1)
                        .map_err(|e| format!("additionalProperties: {e}"))?,
                    _ => continue,
                },
                "enum" => {
                    let (Some(Value::Array(ex)), Some(Value::Array(ey))) = (vx, vy) else {
                        return Err("enum on one side only".into());
                    };
                    let mut values = ex.clone();
                    values.extend(ey.iter().cloned());
                    unique_variants(&mut values);
                    Value::Array(values)
                }
                "minimum" | "exclusiveMinimum" => {
                    match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                        (Some(p), Some(q)) => json!(p.min(q)),
                        _ => continue,
                    }
                }
                "maximum" | "exclusiveMaximum" | "maxItems" => {
                    match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                        (Some(_), Some(_)) if vx == vy => vx.cloned().unwrap_or_default(),
                        (Some(p), Some(q)) => json!(p.max(q)),
                        _ => continue,
                    }
                }
                "minItems" => match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                    (Some(p), Some(q)) => json!(p.min(q)),
                    _ => continue,
                },
                "description" | "example" | "examples" | "default" => match vx.or(vy) {
                    Some(v) => v.clone(),
                    None => continue,
                },
                _ => {
                    if vx != vy {
                        return Err(format!(
                            "{k}: {} against {}",
                            vx.map_or("nothing".into(), short),
                            vy.map_or("nothing".into(), short)
                        ));
                    }
                    vx.cloned().unwrap_or_default()
                }
            };
            out.insert(k.clone(), v);
        }
        Ok(Value::Object(out))
    }

    /// Two references, or a reference and an inline schema: the side whose schema accepts all
    /// the other's does. `None` when neither side is a bare reference.
    fn join_refs(&self, a: &Value, b: &Value, depth: usize) -> Option<Result<Value, String>> {
        fn bare(v: &Value) -> Option<&str> {
            v.as_object()
                .filter(|m| m.len() == 1)
                .and_then(|_| ref_name(v))
        }
        let (ra, rb) = (bare(a), bare(b));
        if ra.is_none() && rb.is_none() {
            return None;
        }
        let resolve = |v: &Value, name: Option<&str>| -> Value {
            name.and_then(|n| self.schemas.get(n))
                .cloned()
                .unwrap_or_else(|| v.clone())
        };
        let (sa, sb) = (resolve(a, ra), resolve(b, rb));
        // A union that has the other as one of its branches.
        let has_branch = |u: &Value, branch: &Value| {
            ["oneOf", "anyOf"].iter().any(|k| {
                u.get(*k)
                    .and_then(Value::as_array)
                    .is_some_and(|bs| bs.iter().any(|x| canonical(x) == canonical(branch)))
            })
        };
        if ra.is_some() && has_branch(&sa, b) {
            return Some(Ok(a.clone()));
        }
        if rb.is_some() && has_branch(&sb, a) {
            return Some(Ok(b.clone()));
        }
        Some(match self.join_at(&sa, &sb, depth + 1) {
            Ok(j) if ra.is_some() && canonical(&j) == canonical(&sa) => Ok(a.clone()),
            Ok(j) if rb.is_some() && canonical(&j) == canonical(&sb) => Ok(b.clone()),
            Ok(_) => Err(format!(
                "{} against {}: each has something the other lacks",
                short(a),
                short(b)
            )),
            Err(e) => Err(format!("{} against {}: {e}", short(a), short(b))),
        })
    }

    /// `x` nullable (`{allOf: [X], nullable: true}`) and `y` plain `X`: `x`.
    fn join_nullable(
        &self,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
        depth: usize,
    ) -> Option<Value> {
        if x.get("nullable") != Some(&Value::Bool(true)) {
            return None;
        }
        let inner = x.get("allOf")?.as_array()?;
        match inner.as_slice() {
            [only]
                if self
                    .join_at(only, &Value::Object(y.clone()), depth + 1)
                    .ok()?
                    == *only =>
            {
                Some(Value::Object(x.clone()))
            }
            _ => None,
        }
    }

    /// Two unions, or a union and one of its possible branches: every branch of both, once.
    fn join_unions(
        &self,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
        depth: usize,
    ) -> Result<Value, String> {
        let branches = |m: &Map<String, Value>| -> (Option<&'static str>, Vec<Value>) {
            for k in ["oneOf", "anyOf"] {
                if let Some(Value::Array(b)) = m.get(k) {
                    return (Some(k), b.clone());
                }
            }
            (None, vec![Value::Object(m.clone())])
        };
        let (kx, bx) = branches(x);
        let (ky, by) = branches(y);
        // Keywords beside the union (nullable, the open-enum marker) must agree.
        let rest = |m: &Map<String, Value>, k: Option<&str>| -> Map<String, Value> {
            if k.is_none() {
                return Map::new();
            }
            m.iter()
                .filter(|(key, _)| {
                    Some(key.as_str()) != k && !matches!(key.as_str(), "description" | "default")
                })
                .map(|(key, v)| (key.clone(), v.clone()))
                .collect()
        };
        let (rx, ry) = (rest(x, kx), rest(y, ky));
        if kx.is_some() && ky.is_some() && rx != ry {
            return Err("unions with different keywords beside their branches".into());
        }
        let mut out: Vec<Value> = bx.clone();
        for b in by {
            if out.iter().any(|o| canonical(o) == canonical(&b)) {
                continue;
            }
            // A branch that covers, or is covered by, one already there takes its place.
            if let Some((i, wider)) = out
                .iter()
                .enumerate()
                .find_map(|(i, o)| self.covering_at(o, &b, depth + 1).ok().map(|w| (i, w)))
            {
                out[i] = wider;
                continue;
            }
            // An open enum's known values: one branch of enum values, widened.
            if let Some(i) = out
                .iter()
                .position(|o| o.get("enum").is_some() && b.get("enum").is_some())
            {
                out[i] = self
                    .join_at(&out[i], &b, depth + 1)
                    .map_err(|e| format!("enum branch: {e}"))?;
                continue;
            }
            out.push(b);
        }
        let keyword = match (kx, ky) {
            (Some("oneOf"), Some("oneOf")) | (Some("oneOf"), None) | (None, Some("oneOf")) => {
                "oneOf"
            }
            _ => "anyOf",
        };
        let mut m = if kx.is_some() { rx } else { ry };
        if let Some(d) = x.get("description").or(y.get("description")) {
            m.insert("description".into(), d.clone());
        }
        m.insert(keyword.into(), Value::Array(out));
        Ok(Value::Object(m))
    }

    /// `a` or `b`, whichever accepts everything the other does; an error when neither does.
    pub(super) fn covering(&self, a: &Value, b: &Value) -> Result<Value, String> {
        self.covering_at(a, b, 0)
    }

    fn covering_at(&self, a: &Value, b: &Value, depth: usize) -> Result<Value, String> {
        let j = self.join_at(a, b, depth)?;
        let c = canonical(&j);
        if c == canonical(a) || c == canonical(b) {
            Ok(j)
        } else {
            Err("each has something the other lacks (different dialects)".into())
        }
    }
}

/// A schema's text, cut short for a message.
fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.len() > 80 {
        format!("{}...", &t[..t.floor_char_boundary(80)])
    } else {
        t
    }
}

/// Keeps the first of enum values that are equal, or that typify would give the same variant
/// name (`anthropic/claude-opus-4-7` and `anthropic/claude-opus-4.7` are both
/// `AnthropicClaudeOpus47`, which typify refuses). A string value dropped from an open enum
/// still parses and sends through its string branch. Returns whether any was dropped.
pub fn unique_variants(values: &mut Vec<Value>) -> bool {
    let mut seen: Vec<Value> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let before = values.len();
    values.retain(|v| {
        let name = v.as_str().map(typify_case);
        if seen.contains(v) || name.as_ref().is_some_and(|n| names.contains(n)) {
            return false;
        }
        seen.push(v.clone());
        names.extend(name);
        true
    });
    values.len() != before
}

/// The schema's text without the keywords that only document it: two schemas with the same
/// canonical text generate the same type.
pub(super) fn canonical(v: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "description" | "example" | "examples" | "default" | "x-codegen-name"
                        )
                    })
                    .map(|(k, v)| {
                        // Property maps hold names, not keywords: keep every key there.
                        if k == "properties" {
                            let props = v
                                .as_object()
                                .map(|p| p.iter().map(|(pk, pv)| (pk.clone(), strip(pv))).collect())
                                .unwrap_or_default();
                            (k.clone(), Value::Object(props))
                        } else {
                            (k.clone(), strip(v))
                        }
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(v).to_string()
}

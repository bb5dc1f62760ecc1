//! The normalization passes: one small pass per quirk of the vendor's documents, run in the order of
//! [`PASSES`]. Each takes a document as published and leaves a valid OpenAPI 3.0 document that
//! says the same thing in a form the generators handle. Each returns how many places it changed.

use serde_json::{json, Map, Value};

use crate::doc::Doc;
use crate::walk::{
    all_schemas_mut, operations_mut, reach, refs, refs_mut, roots_mut, snake, visit_mut, Site,
};

/// A named normalization pass.
pub struct Pass {
    /// The pass's name, as ARCHITECTURE.md and the codegen report list it.
    pub name: &'static str,
    /// The quirk it fixes.
    pub fixes: &'static str,
    /// Runs the pass; returns the number of places changed.
    pub run: fn(&mut Doc) -> usize,
}

/// Every pass, in the order they run.
pub const PASSES: &[Pass] = &[
    Pass { name: "describe_responses", fixes: "responses without the description OpenAPI requires (openapiv3 refuses the document)", run: describe_responses },
    Pass { name: "operation_ids", fixes: "operation ids that differ per document for the same endpoint, or are missing", run: operation_ids },
    Pass { name: "supply_shared_response", fixes: "chat-completion operations published with no response schema (a bare 201)", run: supply_shared_response },
    Pass { name: "pointer_refs", fixes: "a `$ref` that is a JSON pointer into the document or the schema around it, not a component (inlined; one that points nowhere is left for hoisting to report)", run: pointer_refs },
    Pass { name: "prune_unreferenced_components", fixes: "hundreds of component schemas that no operation uses", run: prune_unreferenced_components },
    Pass { name: "drop_titles", fixes: "schema titles (a root title names every type after the model)", run: drop_titles },
    Pass { name: "null_branches", fixes: "\"X or null\" spelled as a oneOf/anyOf branch that is only null ({nullable: true}, {type: \"null\"}) or as a `type` list with \"null\" (OpenAPI 3.0 reads neither): X with nullable: true (several types in the list: an anyOf of them)", run: null_branches },
    Pass { name: "single_branches", fixes: "a oneOf/anyOf with one branch (typify makes it the branch's type, not a union)", run: single_branches },
    Pass { name: "phantom_required", fixes: "a `required` name that no property of the object defines (a batch body requires a top-level `model` it has not got; typify would add a field of any type)", run: phantom_required },
    Pass { name: "plain_string_formats", fixes: "string formats typify types with crates the generated types do not depend on (`date-time`, `date`: chrono; `uuid`): kept as strings", run: plain_string_formats },
    Pass { name: "typeless_enums", fixes: "enum without type", run: typeless_enums },
    Pass { name: "dedupe_enum_values", fixes: "repeated enum values, and values typify would name alike (`a-4-7`, `a-4.7`): typify panics or fails on them", run: dedupe_enum_values },
    Pass { name: "integer_counts", fixes: "integers typed as number (index, created, token counts)", run: integer_counts },
    Pass { name: "request_defaults", fixes: "defaults on optional request fields (the generated type would always send them)", run: request_defaults },
    Pass { name: "open_model", fixes: "a model enum that rejects ids the API accepts", run: open_model },
    Pass { name: "lenient_responses", fixes: "response schemas stricter than what the API sends (required fields it omits, closed enums, nulls, fields it adds)", run: lenient_responses },
];

/// Runs every pass over `doc`; returns `(pass name, places changed)` in order.
pub fn normalize(doc: &mut Doc) -> Vec<(&'static str, usize)> {
    PASSES.iter().map(|p| (p.name, (p.run)(doc))).collect()
}

/// The chat-completion response shared by every AI/ML model page, for documents that publish none.
pub fn shared_response() -> Value {
    serde_json::from_str(include_str!("shared_response.json"))
        .expect("shared_response.json is valid JSON")
}

fn describe_responses(doc: &mut Doc) -> usize {
    let mut n = 0;
    operations_mut(&mut doc.value, &mut |_, _, op| {
        let Some(Value::Object(responses)) = op.get_mut("responses") else {
            return;
        };
        for (code, resp) in responses.iter_mut() {
            let Value::Object(resp) = resp else { continue };
            let missing =
                !matches!(resp.get("description"), Some(Value::String(s)) if !s.is_empty());
            if missing {
                resp.insert(
                    "description".into(),
                    Value::String(format!("Response {code}")),
                );
                n += 1;
            }
        }
    });
    n
}

fn operation_ids(doc: &mut Doc) -> usize {
    // Versioned paths first, so `/v1/chat/completions` gets the plain name and its alias the suffix.
    let mut ops: Vec<(bool, String, String)> = Vec::new();
    operations_mut(&mut doc.value, &mut |path, method, _| {
        let versioned = path.split('/').any(is_version);
        ops.push((!versioned, path.to_string(), method.to_string()));
    });
    ops.sort();
    let mut taken = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeMap::new();
    for (_, path, method) in &ops {
        let mut name = derived_operation_id(method, path);
        if !taken.insert(name.clone()) {
            name.push_str("_unversioned");
            while !taken.insert(name.clone()) {
                name.push('_');
            }
        }
        names.insert((path.clone(), method.clone()), name);
    }
    let mut n = 0;
    operations_mut(&mut doc.value, &mut |path, method, op| {
        let name = &names[&(path.to_string(), method.to_string())];
        if op.get("operationId").and_then(Value::as_str) != Some(name) {
            op.insert("operationId".into(), Value::String(name.clone()));
            n += 1;
        }
    });
    n
}

fn is_version(seg: &str) -> bool {
    seg.len() > 1 && seg.starts_with('v') && seg[1..].chars().all(|c| c.is_ascii_digit())
}

/// Path words that say what a `post` does to the object before them.
const ACTIONS: &[&str] = &["cancel"];

/// `post /v1/chat/completions` -> `create_chat_completion`; `post /v1/batches/cancel/{id}` ->
/// `cancel_batch`.
fn derived_operation_id(method: &str, path: &str) -> String {
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && !is_version(s) && !s.starts_with('{'))
        .collect();
    let verb = match method {
        "post" => "create",
        "get" => "get",
        "put" => "put",
        "patch" => "update",
        "delete" => "delete",
        other => other,
    };
    let mut parts: Vec<String> = segs.iter().map(|s| snake(s)).collect();
    // `post /v1/batches/cancel/{id}`: the last word is the action on what the path names.
    if let (Some(action), "post") = (
        parts.last().filter(|p| ACTIONS.contains(&p.as_str())),
        method,
    ) {
        let action = action.clone();
        parts.pop();
        let object = parts.last().map(|p| crate::walk::singular(p));
        return match object {
            Some(object) => format!("{action}_{object}"),
            None => action,
        };
    }
    if let Some(last) = parts.last_mut() {
        if method == "post" {
            *last = crate::walk::singular(last);
        }
    }
    if parts.is_empty() {
        verb.to_string()
    } else {
        format!("{verb}_{}", parts.join("_"))
    }
}

fn has_json_success(op: &Map<String, Value>) -> bool {
    let Some(Value::Object(responses)) = op.get("responses") else {
        return false;
    };
    responses.iter().any(|(code, r)| {
        code.starts_with('2') && r.pointer("/content/application~1json/schema").is_some()
    })
}

fn supply_shared_response(doc: &mut Doc) -> usize {
    let mut n = 0;
    operations_mut(&mut doc.value, &mut |path, method, op| {
        if method != "post" || !path.ends_with("/chat/completions") || has_json_success(op) {
            return;
        }
        let responses = op
            .entry("responses")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("responses is an object");
        responses.retain(|code, _| !code.starts_with('2'));
        responses.insert("200".into(), shared_response());
        n += 1;
    });
    n
}

/// The names that the `$ref`s of `v` of the form `#/components/schemas/<name>` give.
fn component_refs(v: &Value, out: &mut Vec<String>) {
    refs(v, &mut |r| {
        if let Some(name) = r.strip_prefix("#/components/schemas/") {
            out.push(name.to_string());
        }
    });
}

fn prune_unreferenced_components(doc: &mut Doc) -> usize {
    let mut wanted = Vec::new();
    if let Some(paths) = doc.value.get("paths") {
        component_refs(paths, &mut wanted);
    }
    let Some(Value::Object(schemas)) = doc.value.pointer_mut("/components/schemas") else {
        return 0;
    };
    let keep = reach(wanted, &mut |name, todo| {
        if let Some(s) = schemas.get(name) {
            component_refs(s, todo);
        }
    });
    let before = schemas.len();
    schemas.retain(|k, _| keep.contains(k));
    before - schemas.len()
}

fn drop_titles(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        // `title` inside `properties` is a property name, not a keyword: only drop string titles
        // of schemas, which `visit_mut` hands us (property maps are never visited as schemas).
        if matches!(m.get("title"), Some(Value::String(_))) {
            m.remove("title");
            n += 1;
        }
    });
    n
}

/// Where a `$ref` that is not a component reference points: a JSON pointer into the document, or,
/// failing that, into the root schema it sits in (some documents write them relative to the
/// enclosing schema: `#/properties/choices/items/...`).
fn resolve_pointer<'a>(doc: &'a Value, root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let path = pointer.strip_prefix('#')?;
    doc.pointer(path).or_else(|| root.pointer(path))
}

/// Replaces every `$ref` that points into the document or its enclosing root schema (rather than
/// at `#/components/schemas/...`) with a copy of what it points at. References inside the copy are
/// resolved too, to a depth of 16 (a pointer into itself stays a reference, which hoisting then
/// reports by name).
fn pointer_refs(doc: &mut Doc) -> usize {
    fn resolve(v: &mut Value, doc: &Value, root: &Value, depth: usize, n: &mut usize) {
        refs_mut(v, &mut |r, m| {
            let target = Some(r)
                .filter(|r| r.starts_with("#/") && !r.starts_with("#/components/"))
                .and_then(|r| resolve_pointer(doc, root, r))
                .filter(|_| depth < 16)
                .cloned();
            let Some(mut target) = target else {
                return false;
            };
            resolve(&mut target, doc, root, depth + 1, n);
            m.remove("$ref");
            if let Value::Object(t) = target {
                for (k, x) in t {
                    m.entry(k).or_insert(x);
                }
            }
            *n += 1;
            true
        });
    }
    let original = doc.value.clone();
    let mut n = 0;
    roots_mut(&mut doc.value, &mut |_, root| {
        let enclosing = root.clone();
        resolve(root, &original, &enclosing, 0, &mut n);
    });
    n
}

/// Replaces a `oneOf`/`anyOf` of one branch by that branch (keywords beside the union kept).
fn single_branches(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        for key in ["oneOf", "anyOf"] {
            let one = matches!(m.get(key), Some(Value::Array(list)) if list.len() == 1);
            if !one {
                continue;
            }
            let Some(Value::Array(mut list)) = m.remove(key) else {
                continue;
            };
            let Some(Value::Object(branch)) = list.pop() else {
                continue;
            };
            n += 1;
            if branch.contains_key("$ref") {
                // A reference cannot take sibling keywords in OpenAPI 3.0: wrap it.
                m.insert("allOf".into(), json!([Value::Object(branch)]));
            } else {
                for (k, v) in branch {
                    m.entry(k).or_insert(v);
                }
            }
        }
    });
    n
}

/// A branch that means "or null": `{nullable: true}`, `{type: "null"}` or `{type: ["null"]}`,
/// perhaps with a description or a title.
fn is_null_branch(v: &Value) -> bool {
    let Value::Object(m) = v else { return false };
    let says_null = match m.get("type") {
        None => m.get("nullable") == Some(&Value::Bool(true)),
        Some(t) => t == &json!("null") || t == &json!(["null"]),
    };
    says_null
        && m.keys()
            .all(|k| matches!(k.as_str(), "nullable" | "type" | "description" | "title"))
}

/// The keywords that only constrain values of one JSON type: which type each belongs to, for
/// splitting `{type: [A, B], ...}` into one branch per type.
fn keyword_types(key: &str, value: &Value) -> &'static [&'static str] {
    match key {
        "items" | "minItems" | "maxItems" | "uniqueItems" => &["array"],
        "properties" | "required" | "additionalProperties" | "minProperties" | "maxProperties" => {
            &["object"]
        }
        "minLength" | "maxLength" | "pattern" => &["string"],
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
            &["number", "integer"]
        }
        "format" => match value.as_str() {
            Some("int32" | "int64") => &["integer"],
            Some("float" | "double") => &["number", "integer"],
            _ => &["string"],
        },
        _ => &[],
    }
}

/// Whether an `enum` value is a value of JSON type `t`.
fn is_of_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    }
}

/// `type` as a list (JSON Schema; OpenAPI 3.0 takes one type name): `"null"` in it becomes
/// `nullable: true` (and leaves an `enum`), one other type stays the type, several become an
/// `anyOf` of one branch per type, each with the keywords that constrain its values. Whether
/// `m` changed.
fn type_list(m: &mut Map<String, Value>) -> bool {
    let Some(Value::Array(list)) = m.get("type") else {
        return false;
    };
    let mut types: Vec<String> = Vec::new();
    let mut null = false;
    for t in list.iter().filter_map(Value::as_str) {
        if t == "null" {
            null = true;
        } else if !types.iter().any(|x| x == t) {
            types.push(t.to_string());
        }
    }
    m.remove("type");
    if null {
        m.insert("nullable".into(), Value::Bool(true));
        if let Some(Value::Array(values)) = m.get_mut("enum") {
            values.retain(|v| !v.is_null());
        }
    }
    match types.as_slice() {
        [] => {}
        [one] => {
            m.insert("type".into(), json!(one));
        }
        several => {
            let mut branches: Vec<Map<String, Value>> = several
                .iter()
                .map(|t| {
                    let mut b = Map::new();
                    b.insert("type".into(), json!(t));
                    b
                })
                .collect();
            let moved: Vec<String> = m
                .iter()
                .filter(|(k, v)| !keyword_types(k, v).is_empty())
                .map(|(k, _)| k.clone())
                .collect();
            for k in moved {
                let v = m.remove(&k).expect("listed");
                let owners = keyword_types(&k, &v);
                for b in branches.iter_mut() {
                    if owners.contains(&b["type"].as_str().unwrap_or_default()) {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
            // An `enum` is split by the type of each value; a type none of its values has
            // cannot be met, so it is no branch.
            if let Some(Value::Array(values)) = m.remove("enum") {
                branches.retain_mut(|b| {
                    let t = b["type"].as_str().unwrap_or_default().to_string();
                    let own: Vec<Value> = values
                        .iter()
                        .filter(|v| is_of_type(v, &t))
                        .cloned()
                        .collect();
                    if own.is_empty() {
                        return false;
                    }
                    b.insert("enum".into(), Value::Array(own));
                    true
                });
            }
            let union = Value::Array(branches.into_iter().map(Value::Object).collect());
            if m.contains_key("anyOf") {
                // A union beside the list already: both must hold.
                let all = m.entry("allOf").or_insert_with(|| json!([]));
                if let Value::Array(all) = all {
                    all.push(json!({ "anyOf": union }));
                }
            } else {
                m.insert("anyOf".into(), union);
            }
        }
    }
    true
}

/// Reads "X or null" in each of its spellings as OpenAPI 3.0's `nullable: true` on X: a
/// `oneOf`/`anyOf` branch that is only null (`{nullable: true}`, `{type: "null"}`) is dropped and
/// the union made nullable (one branch left: the union is that branch); a `type` list is read by
/// [`type_list`].
fn null_branches(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        for key in ["oneOf", "anyOf"] {
            let Some(Value::Array(list)) = m.get_mut(key) else {
                continue;
            };
            let before = list.len();
            list.retain(|b| !is_null_branch(b));
            let left = list.len();
            if left == before {
                continue;
            }
            n += 1;
            m.insert("nullable".into(), Value::Bool(true));
            if left > 1 {
                continue;
            }
            // One branch left: the schema is that branch, nullable; none: null alone.
            let only = m
                .remove(key)
                .and_then(|l| l.as_array().cloned())
                .and_then(|mut l| l.pop());
            match only {
                Some(Value::Object(only)) if only.contains_key("$ref") => {
                    // A reference takes no sibling keywords in OpenAPI 3.0: wrap it.
                    let all = m.entry("allOf").or_insert_with(|| json!([]));
                    if let Value::Array(all) = all {
                        all.push(Value::Object(only));
                    }
                }
                Some(Value::Object(only)) => {
                    for (k, v) in only {
                        m.entry(k).or_insert(v);
                    }
                }
                _ => {}
            }
        }
        if type_list(m) {
            n += 1;
        }
        // `{type: "null"}` alone (not a branch): null is all it takes.
        if m.get("type") == Some(&json!("null")) {
            m.remove("type");
            m.insert("nullable".into(), Value::Bool(true));
            n += 1;
        }
    });
    n
}

fn phantom_required(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        let Some(Value::Object(props)) = m.get("properties") else {
            return;
        };
        let defined: std::collections::BTreeSet<String> = props.keys().cloned().collect();
        let Some(Value::Array(required)) = m.get_mut("required") else {
            return;
        };
        let before = required.len();
        required.retain(|r| r.as_str().is_some_and(|r| defined.contains(r)));
        n += before - required.len();
        if required.is_empty() {
            m.remove("required");
        }
    });
    n
}

/// String formats that typify would type with another crate.
const CRATE_FORMATS: &[&str] = &["date-time", "date", "time", "uuid"];

fn plain_string_formats(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        let crate_format = m
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(|f| CRATE_FORMATS.contains(&f));
        if crate_format {
            m.remove("format");
            n += 1;
        }
    });
    n
}

fn typeless_enums(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        if m.contains_key("type") {
            return;
        }
        let Some(Value::Array(values)) = m.get("enum") else {
            return;
        };
        if !values.is_empty() && values.iter().all(Value::is_string) {
            m.insert("type".into(), Value::String("string".into()));
            n += 1;
        }
    });
    n
}

fn dedupe_enum_values(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        let Some(Value::Array(values)) = m.get_mut("enum") else {
            return;
        };
        if crate::hoist::unique_variants(values) {
            n += 1;
        }
    });
    n
}

/// Property names that the APIs define as counts, indexes or timestamps: whole numbers.
fn is_count_name(name: &str) -> bool {
    matches!(
        name,
        "index" | "created" | "n" | "top_k" | "top_logprobs" | "seed" | "expires_at" | "bytes"
    ) || name.ends_with("_tokens")
        || name.ends_with("_index")
}

fn integer_counts(doc: &mut Doc) -> usize {
    let mut n = 0;
    all_schemas_mut(&mut doc.value, &mut |_, m| {
        let Some(Value::Object(props)) = m.get_mut("properties") else {
            return;
        };
        for (name, prop) in props.iter_mut() {
            if !is_count_name(name) {
                continue;
            }
            // `bytes` is an array of byte values; the rest are plain numbers.
            let target = if name == "bytes" {
                prop.get_mut("items")
            } else {
                Some(prop)
            };
            if let Some(Value::Object(t)) = target {
                if t.get("type") == Some(&json!("number")) {
                    t.insert("type".into(), json!("integer"));
                    n += 1;
                }
            }
        }
    });
    n
}

fn request_defaults(doc: &mut Doc) -> usize {
    let mut n = 0;
    roots_mut(&mut doc.value, &mut |site, root| {
        if site != Site::Request {
            return;
        }
        visit_mut(root, &mut |m| {
            let required: Vec<String> = m
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let Some(Value::Object(props)) = m.get_mut("properties") else {
                return;
            };
            for (name, prop) in props.iter_mut() {
                let Value::Object(p) = prop else { continue };
                if required.contains(name) {
                    continue;
                }
                if let Some(default) = p.remove("default") {
                    let note = format!("Default when unset: {default}.");
                    let desc = match p.get("description").and_then(Value::as_str) {
                        Some(d) if !d.is_empty() => format!("{d} {note}"),
                        _ => note,
                    };
                    p.insert("description".into(), Value::String(desc));
                    n += 1;
                }
            }
        });
    });
    n
}

/// Makes `schema` (a string enum) an open enum: the known values typed, any other string kept.
/// The hoisting step names the known part `Known<Name>` from the `x-open-enum` marker.
fn open_enum(schema: &mut Map<String, Value>) {
    let mut known = Map::new();
    for key in ["type", "enum"] {
        if let Some(v) = schema.remove(key) {
            known.insert(key.into(), v);
        }
    }
    known.insert("type".into(), json!("string"));
    schema.insert("anyOf".into(), json!([known, {"type": "string"}]));
    schema.insert("x-open-enum".into(), json!(true));
}

fn open_model(doc: &mut Doc) -> usize {
    // One model type for all documents, unless a document names its own (a provider that
    // spells ids its own way): its known ids are those of all the documents that share it.
    let name = doc
        .value
        .pointer("/info/x-codegen-model-name")
        .and_then(Value::as_str)
        .unwrap_or("ModelId")
        .to_string();
    let mut n = 0;
    operations_mut(&mut doc.value, &mut |_, _, op| {
        let Some(Value::Object(content)) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
        else {
            return;
        };
        // A body's own `model`, or each request's in a batch of them.
        const MODELS: [&str; 2] = [
            "/schema/properties/model",
            "/schema/properties/requests/items/properties/params/properties/model",
        ];
        for media in content.values_mut() {
            for at in MODELS {
                let Some(Value::Object(model)) = media.pointer_mut(at) else {
                    continue;
                };
                if model.contains_key("enum") && !model.contains_key("x-open-enum") {
                    open_enum(model);
                    model.insert("x-codegen-name".into(), Value::String(name.clone()));
                    n += 1;
                }
            }
        }
    });
    n
}

/// A branch of a union whose `type` (or `role`) has one value: that constant tells the branches
/// apart, so it stays required and closed.
fn discriminator_of(m: &Map<String, Value>) -> Option<&'static str> {
    ["type", "role"]
        .into_iter()
        .find(|k| crate::walk::const_of(m, k).is_some())
}

/// The response fields that every documented response and chunk carries.
const ALWAYS_SENT: &[&str] = &["choices", "index"];

/// What a response schema keeps of its `required`, beside [`ALWAYS_SENT`]: nothing, unless it is
/// a branch of a union ([`telling_fields`]) or a schema the document names as it names such a
/// branch.
#[derive(Clone, Default)]
struct Keep {
    /// The required fields kept required (and not made nullable).
    required: Vec<String>,
    /// The branch's constant discriminator, which also stays a closed enum.
    discriminator: Option<&'static str>,
}

/// Every property name `v` may carry: its own, its `allOf` members', its union branches' and
/// those of the components it refers to (to a depth of 8).
fn defined_properties(
    v: &Value,
    components: &Value,
    depth: usize,
    out: &mut std::collections::BTreeSet<String>,
) {
    let Value::Object(m) = v else { return };
    if depth > 8 {
        return;
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        out.extend(props.keys().cloned());
    }
    if let Some(target) = crate::walk::ref_name(v).and_then(|name| components.get(name)) {
        defined_properties(target, components, depth + 1, out);
    }
    for key in crate::walk::LISTS {
        if let Some(Value::Array(list)) = m.get(*key) {
            for b in list {
                defined_properties(b, components, depth + 1, out);
            }
        }
    }
}

/// The property names each branch may carry ([`defined_properties`]).
fn branch_properties(
    branches: &[Value],
    components: &Value,
) -> Vec<std::collections::BTreeSet<String>> {
    branches
        .iter()
        .map(|b| {
            let mut out = std::collections::BTreeSet::new();
            defined_properties(b, components, 0, &mut out);
            out
        })
        .collect()
}

/// The `required` names of `m` that are its properties.
fn required_properties(m: &Map<String, Value>) -> Vec<String> {
    let props = m.get("properties").and_then(Value::as_object);
    m.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .filter(|r| props.is_some_and(|p| p.contains_key(*r)))
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// What each branch of a union keeps required so that an untagged enum still tells them apart:
/// a branch with a constant discriminator keeps that; one without keeps its required fields that
/// no other branch of the union defines as a property or, when every one of them is defined by
/// another branch, all its required fields.
fn telling_fields(branches: &[Value], components: &Value) -> Vec<Keep> {
    let defined = branch_properties(branches, components);
    branches
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let Value::Object(m) = b else {
                return Keep::default();
            };
            if let Some(d) = discriminator_of(m) {
                return Keep {
                    required: vec![d.to_string()],
                    discriminator: Some(d),
                };
            }
            let required = required_properties(m);
            let own: Vec<String> = required
                .iter()
                .filter(|r| {
                    defined
                        .iter()
                        .enumerate()
                        .all(|(j, other)| j == i || !other.contains(*r))
                })
                .cloned()
                .collect();
            Keep {
                required: if own.is_empty() { required } else { own },
                discriminator: None,
            }
        })
        .collect()
}

/// serde tries an untagged enum's variants in order, so a branch that keeps only fields other
/// branches define too (or none) must come after those branches: a body of one of them carries
/// its fields and would read as it. Such branches move to the end of the union (those keeping
/// more fields first, since a body that has them all has the fewer); the others keep their
/// order. Whether the order changed.
fn order_branches(list: &mut Vec<Value>, keeps: &mut Vec<Keep>, components: &Value) -> bool {
    let defined = branch_properties(list, components);
    // A branch shadows another object when a body of that one can carry every field it keeps
    // (an object branch that keeps none takes every object).
    let shared = |i: usize| {
        let keep = &keeps[i];
        keep.discriminator.is_none()
            && list[i].get("properties").is_some()
            && (0..list.len()).any(|j| {
                j != i
                    && !defined[j].is_empty()
                    && keep.required.iter().all(|r| defined[j].contains(r))
            })
    };
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by_key(|&i| {
        if shared(i) {
            (1, std::cmp::Reverse(keeps[i].required.len()))
        } else {
            (0, std::cmp::Reverse(0))
        }
    });
    if order.iter().enumerate().all(|(at, &i)| at == i) {
        return false;
    }
    let mut taken: Vec<Option<(Value, Keep)>> =
        list.drain(..).zip(keeps.drain(..)).map(Some).collect();
    for i in order {
        let (b, k) = taken[i].take().expect("each index once");
        list.push(b);
        keeps.push(k);
    }
    true
}

/// What [`lenient`] reads beside the schema at hand.
struct Lenient {
    /// The document's components, for the properties a `$ref` branch defines.
    components: Value,
    /// What each union branch that the document names (`x-codegen-name`) keeps: a named schema
    /// is one type, so where it also appears outside the union it keeps the same.
    named: std::collections::BTreeMap<String, Keep>,
}

fn lenient_responses(doc: &mut Doc) -> usize {
    let components = doc
        .value
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut named = std::collections::BTreeMap::<String, Keep>::new();
    let mut responses = doc.value.clone();
    roots_mut(&mut responses, &mut |site, root| {
        if site != Site::Response {
            return;
        }
        visit_mut(root, &mut |m| {
            for key in ["oneOf", "anyOf"] {
                let Some(Value::Array(list)) = m.get(key) else {
                    continue;
                };
                for (branch, keep) in list.iter().zip(telling_fields(list, &components)) {
                    let Some(name) = branch.get("x-codegen-name").and_then(Value::as_str) else {
                        continue;
                    };
                    let held = named.entry(name.to_string()).or_default();
                    for r in keep.required {
                        if !held.required.contains(&r) {
                            held.required.push(r);
                        }
                    }
                    held.discriminator = held.discriminator.or(keep.discriminator);
                }
            }
        });
    });
    let cx = Lenient { components, named };
    let mut n = 0;
    roots_mut(&mut doc.value, &mut |site, root| {
        if site != Site::Response {
            return;
        }
        lenient(root, None, &cx, &mut n);
    });
    n
}

/// Loosens one response schema and everything in it; `branch`: what it keeps as a union's
/// branch. A schema the document names keeps what that name keeps in every union it is a branch
/// of, wherever it is, so that all its places stay one type.
fn lenient(schema: &mut Value, branch: Option<&Keep>, cx: &Lenient, n: &mut usize) {
    let Value::Object(m) = schema else { return };
    let named = m
        .get("x-codegen-name")
        .and_then(Value::as_str)
        .and_then(|name| cx.named.get(name));
    let keep = named.or(branch).cloned().unwrap_or_default();
    // An object keeps the fields it does not know (typify: a flattened `extra` map), so that a
    // field the API adds tomorrow survives a parse and serialize.
    if m.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        && m.get("additionalProperties") != Some(&json!({}))
    {
        m.insert("additionalProperties".into(), json!({}));
        *n += 1;
    } else if m.get("additionalProperties") == Some(&Value::Bool(false)) {
        // Closed, without properties: opened. A map's value schema (`additionalProperties` an
        // object) stays, so the map is typed.
        m.remove("additionalProperties");
        *n += 1;
    }
    if let Some(Value::Object(props)) = m.get("properties") {
        let names: Vec<String> = props.keys().cloned().collect();
        let required: Vec<Value> = names
            .iter()
            .filter(|k| {
                ALWAYS_SENT.contains(&k.as_str())
                    && m.get("required")
                        .and_then(Value::as_array)
                        .is_some_and(|r| r.contains(&json!(k)))
                    || keep.required.contains(k)
            })
            .map(|k| json!(k))
            .collect();
        if m.get("required")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0)
            != required.len()
        {
            *n += 1;
        }
        if required.is_empty() {
            m.remove("required");
        } else {
            m.insert("required".into(), Value::Array(required.clone()));
        }
        let Some(Value::Object(props)) = m.get_mut("properties") else {
            unreachable!()
        };
        for (name, prop) in props.iter_mut() {
            let Value::Object(p) = prop else { continue };
            let is_required = required.contains(&json!(name));
            if !is_required && p.get("nullable") != Some(&Value::Bool(true)) {
                p.insert("nullable".into(), Value::Bool(true));
                *n += 1;
            }
            let closed_enum = p.get("type") == Some(&json!("string")) && p.contains_key("enum");
            if closed_enum && Some(name.as_str()) != keep.discriminator {
                open_enum(p);
                *n += 1;
            }
        }
    }
    if let Some(v @ Value::Object(_)) = m.get_mut("items") {
        if v.get("type") == Some(&json!("string")) && v.get("enum").is_some() {
            open_enum(v.as_object_mut().expect("object"));
            *n += 1;
        }
    }
    // A union's branches, each keeping what tells it apart; every other child keeps nothing.
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(list)) = m.get_mut(key) else {
            continue;
        };
        let mut keeps = telling_fields(list, &cx.components);
        if order_branches(list, &mut keeps, &cx.components) {
            *n += 1;
        }
        for (branch, keep) in list.iter_mut().zip(&keeps) {
            lenient(branch, Some(keep), cx, n);
        }
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for v in props.values_mut() {
            lenient(v, None, cx, n);
        }
    }
    for key in crate::walk::SINGLE {
        if let Some(v @ Value::Object(_)) = m.get_mut(*key) {
            lenient(v, None, cx, n);
        }
    }
    if let Some(Value::Array(all)) = m.get_mut("allOf") {
        for v in all {
            lenient(v, None, cx, n);
        }
    }
}

/// Rewrites, for the documents as written out, every `nullable` that has no `type` beside it
/// (OpenAPI 3.0.3 gives `nullable` meaning only with `type`; strict validators such as Prism's
/// fail to compile such a schema and then skip validation altogether, silently):
/// - `{nullable: true}` alone (any value) becomes `{}`;
/// - `{allOf: [X], nullable: true}` and other typeless nullable schemas become
///   `{anyOf: [X, <null only>]}`, where `<null only>` is an object schema nothing but `null` meets.
///
/// The types are generated before this rewrite, from the hoisted form; it changes how the written
/// documents say "or null", not what they accept.
pub fn typed_nullables(v: &mut Value) -> usize {
    let mut n = 0;
    rewrite_nullables(v, &mut n);
    n
}

fn rewrite_nullables(v: &mut Value, n: &mut usize) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|x| rewrite_nullables(x, n)),
        Value::Object(m) => {
            m.values_mut().for_each(|x| rewrite_nullables(x, n));
            if m.get("nullable") != Some(&Value::Bool(true)) || m.contains_key("type") {
                return;
            }
            *n += 1;
            m.remove("nullable");
            let description = m.remove("description");
            if !m.is_empty() {
                let inner = match m.get("allOf").and_then(Value::as_array) {
                    Some(all) if m.len() == 1 && all.len() == 1 => all[0].clone(),
                    _ => Value::Object(std::mem::take(m)),
                };
                m.clear();
                let null_only = json!({
                    "type": "object", "nullable": true, "minProperties": 1, "maxProperties": 0
                });
                m.insert("anyOf".into(), json!([inner, null_only]));
            }
            if let Some(d) = description {
                m.insert("description".into(), d);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(value: Value) -> Doc {
        Doc {
            stem: "claude-test".into(),
            value,
        }
    }

    fn op_with(body: Value, responses: Value) -> Value {
        json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/v1/chat/completions": {"post": {
            "operationId": "_v1_chat_completions",
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": responses}}}})
    }

    #[test]
    fn phantom_required_drops_names_no_property_defines() {
        let mut d = doc(op_with(
            json!({"type": "object", "required": ["model", "requests"],
                   "properties": {"requests": {"type": "array", "items": {"type": "string"}}}}),
            json!({"200": {"description": "ok"}}),
        ));
        assert_eq!(phantom_required(&mut d), 1);
        let body = d
            .value
            .pointer(
                "/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema",
            )
            .unwrap();
        assert_eq!(body["required"], json!(["requests"]));
    }

    #[test]
    fn timestamps_stay_strings() {
        let mut d = doc(op_with(
            json!({"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"},
                "n": {"type": "integer", "format": "int64"}}}),
            json!({"200": {"description": "ok"}}),
        ));
        assert_eq!(plain_string_formats(&mut d), 1);
        let body = d
            .value
            .pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties")
            .unwrap();
        assert_eq!(body["at"], json!({"type": "string"}));
        assert_eq!(body["n"]["format"], "int64");
    }

    #[test]
    fn operation_ids_say_what_each_batch_route_does() {
        let cases = [
            ("post", "/v1/chat/completions", "create_chat_completion"),
            ("post", "/v1/batches", "create_batch"),
            ("get", "/v1/batches", "get_batches"),
            ("post", "/v1/batches/cancel/{batch_id}", "cancel_batch"),
        ];
        for (method, path, want) in cases {
            assert_eq!(derived_operation_id(method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn describe_responses_adds_the_missing_description() {
        let mut d = doc(op_with(
            json!({"type": "object"}),
            json!({"200": {"content": {}}, "201": {"description": ""}}),
        ));
        assert_eq!(describe_responses(&mut d), 2);
        assert_eq!(
            d.value
                .pointer("/paths/~1v1~1chat~1completions/post/responses/200/description"),
            Some(&json!("Response 200"))
        );
    }

    #[test]
    fn operation_ids_name_the_endpoint_and_its_alias() {
        let mut d = doc(json!({"paths": {
            "/chat/completions": {"post": {"operationId": "_chat_completions"}},
            "/v1/chat/completions": {"post": {"operationId": "ChatCompletionsControllerV1_completeChat_v1"}}}}));
        assert_eq!(operation_ids(&mut d), 2);
        assert_eq!(
            d.value
                .pointer("/paths/~1v1~1chat~1completions/post/operationId"),
            Some(&json!("create_chat_completion"))
        );
        assert_eq!(
            d.value
                .pointer("/paths/~1chat~1completions/post/operationId"),
            Some(&json!("create_chat_completion_unversioned"))
        );
        assert_eq!(operation_ids(&mut d), 0, "a second run changes nothing");
    }

    #[test]
    fn supply_shared_response_replaces_a_bare_201() {
        let mut d = doc(op_with(
            json!({"type": "object"}),
            json!({"201": {"description": ""}}),
        ));
        assert_eq!(supply_shared_response(&mut d), 1);
        let responses = d
            .value
            .pointer("/paths/~1v1~1chat~1completions/post/responses")
            .unwrap();
        assert!(responses.get("201").is_none());
        assert!(responses
            .pointer("/200/content/application~1json/schema/properties/choices")
            .is_some());
        assert!(responses
            .pointer("/200/content/text~1event-stream/schema/properties/choices")
            .is_some());
        assert_eq!(
            supply_shared_response(&mut d),
            0,
            "a document with a response keeps it"
        );
    }

    #[test]
    fn prune_unreferenced_components_keeps_what_is_reachable() {
        let mut d = doc(
            json!({"paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}},
            "components": {"schemas": {"A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}}, "B": {}, "Unused": {}, "AlsoUnused": {}}}}),
        );
        assert_eq!(prune_unreferenced_components(&mut d), 2);
        let keys: Vec<_> = d
            .value
            .pointer("/components/schemas")
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["A", "B"]);
    }

    #[test]
    fn drop_titles_removes_schema_titles_but_not_properties_named_title() {
        let mut d = doc(op_with(
            json!({"type": "object", "title": "claude-3-5-haiku-20241022", "properties": {"title": {"type": "string"}}}),
            json!({}),
        ));
        assert_eq!(drop_titles(&mut d), 1);
        let body = d
            .value
            .pointer(
                "/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema",
            )
            .unwrap();
        assert!(body.get("title").is_none());
        assert!(body.pointer("/properties/title").is_some());
    }

    #[test]
    fn null_branches_become_nullable() {
        let mut d = doc(op_with(
            json!({"type": "object", "properties": {
            "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"nullable": true}]},
            "one": {"anyOf": [{"type": "string"}, {"nullable": true}], "description": "d"}}}),
            json!({}),
        ));
        assert_eq!(null_branches(&mut d), 2);
        let props = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties").unwrap();
        assert_eq!(props["stop"]["anyOf"].as_array().unwrap().len(), 2);
        assert_eq!(props["stop"]["nullable"], json!(true));
        assert_eq!(
            props["one"],
            json!({"type": "string", "nullable": true, "description": "d"})
        );
    }

    #[test]
    fn null_type_branches_become_nullable_anywhere() {
        let none = json!({"type": "null"});
        let mut d = doc(op_with(
            json!({"type": "object", "properties": {
                "temperature": {"anyOf": [{"type": "number"}, none]},
                "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": [{"type": "string"}, none]}}, none]},
                "metadata": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": ["null"], "description": "unset"}]}},
                "kept": {"anyOf": [{"type": "string"}, {"type": "integer", "nullable": true}]}}}),
            json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "usage": {"anyOf": [{"$ref": "#/components/schemas/Usage"}, none]}}}}}}}),
        ));
        d.value["components"] = json!({"schemas": {"Usage": {"type": "object", "properties": {
            "total": {"oneOf": [{"type": "integer"}, none]}}}}});
        assert_eq!(null_branches(&mut d), 6);
        let props = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties").unwrap();
        assert_eq!(
            props["temperature"],
            json!({"type": "number", "nullable": true})
        );
        assert_eq!(props["stop"]["nullable"], json!(true));
        assert_eq!(props["stop"]["oneOf"].as_array().unwrap().len(), 2);
        assert_eq!(
            props["stop"]["oneOf"][1]["items"],
            json!({"type": "string", "nullable": true}),
            "an array's item"
        );
        assert_eq!(
            props["metadata"]["additionalProperties"],
            json!({"type": "string", "nullable": true}),
            "a map's value"
        );
        assert_eq!(
            props["kept"]["anyOf"].as_array().unwrap().len(),
            2,
            "a nullable integer is a branch of its own, not null alone"
        );
        let usage = d.value.pointer("/paths/~1v1~1chat~1completions/post/responses/200/content/application~1json/schema/properties/usage").unwrap();
        assert_eq!(
            usage,
            &json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true}),
            "a reference is wrapped, not given siblings it would lose"
        );
        assert_eq!(
            d.value
                .pointer("/components/schemas/Usage/properties/total"),
            Some(&json!({"type": "integer", "nullable": true}))
        );
        assert_eq!(null_branches(&mut d), 0, "a second run changes nothing");
    }

    #[test]
    fn type_lists_become_one_type_or_a_union_nullable() {
        let mut d = doc(op_with(
            json!({"type": "object", "properties": {
                "name": {"type": ["string", "null"], "maxLength": 64},
                "reason": {"type": ["string", "null"], "enum": ["stop", "length", null]},
                "content": {"type": ["string", "array", "null"], "minLength": 1, "items": {"type": ["string", "null"]}, "description": "d"},
                "id": {"type": ["integer", "string"], "minimum": 0, "format": "int64"},
                "mode": {"type": ["string", "integer"], "enum": ["auto", 1]},
                "nothing": {"type": "null"}}}),
            json!({}),
        ));
        assert_eq!(null_branches(&mut d), 7);
        let props = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties").unwrap();
        assert_eq!(
            props["name"],
            json!({"type": "string", "maxLength": 64, "nullable": true})
        );
        assert_eq!(
            props["reason"],
            json!({"type": "string", "enum": ["stop", "length"], "nullable": true}),
            "null leaves the enum: nullable says it"
        );
        assert_eq!(
            props["content"],
            json!({"description": "d", "nullable": true, "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "nullable": true}}]}),
            "each keyword goes to the type it constrains"
        );
        assert_eq!(
            props["id"],
            json!({"anyOf": [{"type": "integer", "minimum": 0, "format": "int64"}, {"type": "string"}]}),
            "without null, not nullable"
        );
        assert_eq!(
            props["mode"],
            json!({"anyOf": [{"type": "string", "enum": ["auto"]}, {"type": "integer", "enum": [1]}]})
        );
        assert_eq!(props["nothing"], json!({"nullable": true}));
        assert_eq!(null_branches(&mut d), 0, "a second run changes nothing");
    }

    #[test]
    fn typeless_enums_get_type_string() {
        let mut d = doc(op_with(
            json!({"properties": {"model": {"enum": ["a", "b"]}}}),
            json!({}),
        ));
        assert_eq!(typeless_enums(&mut d), 1);
        assert_eq!(d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties/model/type"), Some(&json!("string")));
    }

    #[test]
    fn dedupe_enum_values_keeps_the_first_of_each() {
        let mut d = doc(op_with(
            json!({"type": "string", "enum": ["a", "b", "a"]}),
            json!({}),
        ));
        assert_eq!(dedupe_enum_values(&mut d), 1);
        assert_eq!(d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/enum"), Some(&json!(["a", "b"])));
        let mut alike = vec![
            json!("claude-opus-4-7"),
            json!("x"),
            json!("claude-opus-4.7"),
        ];
        assert!(crate::hoist::unique_variants(&mut alike));
        assert_eq!(alike, vec![json!("claude-opus-4-7"), json!("x")]);
    }

    #[test]
    fn integer_counts_types_counts_as_integers() {
        let mut d = doc(op_with(
            json!({"properties": {"index": {"type": "number"}, "prompt_tokens": {"type": "number"},
            "bytes": {"type": "array", "items": {"type": "number"}}, "temperature": {"type": "number"}}}),
            json!({}),
        ));
        assert_eq!(integer_counts(&mut d), 3);
        let props = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties").unwrap();
        assert_eq!(props["index"]["type"], "integer");
        assert_eq!(props["prompt_tokens"]["type"], "integer");
        assert_eq!(props["bytes"]["items"]["type"], "integer");
        assert_eq!(props["temperature"]["type"], "number");
    }

    #[test]
    fn request_defaults_move_into_the_description() {
        let mut d = doc(op_with(
            json!({"properties": {"stream": {"type": "boolean", "default": false, "description": "Stream."}}}),
            json!({}),
        ));
        assert_eq!(request_defaults(&mut d), 1);
        let stream = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties/stream").unwrap();
        assert_eq!(
            stream,
            &json!({"type": "boolean", "description": "Stream. Default when unset: false."})
        );
    }

    #[test]
    fn open_model_accepts_any_id() {
        let mut d = doc(op_with(
            json!({"properties": {"model": {"type": "string", "enum": ["a"]}}}),
            json!({}),
        ));
        assert_eq!(open_model(&mut d), 1);
        let model = d.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties/model").unwrap();
        assert_eq!(
            model["anyOf"],
            json!([{"type": "string", "enum": ["a"]}, {"type": "string"}])
        );
        // One model type for every document, unless the document names its own.
        assert_eq!(model["x-codegen-name"], "ModelId");
        let mut own = doc(op_with(
            json!({"properties": {"model": {"type": "string", "enum": ["a"]}}}),
            json!({}),
        ));
        own.value["info"] = json!({"x-codegen-model-name": "OtherModelId"});
        open_model(&mut own);
        let model = own.value.pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema/properties/model").unwrap();
        assert_eq!(model["x-codegen-name"], "OtherModelId");
    }

    #[test]
    fn lenient_responses_loosen_what_the_api_omits() {
        let resp = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object",
            "required": ["id", "choices"], "additionalProperties": false, "properties": {
                "id": {"type": "string"},
                "choices": {"type": "array", "items": {"type": "object", "required": ["index", "finish_reason"], "properties": {
                    "index": {"type": "integer"},
                    "finish_reason": {"type": "string", "enum": ["stop"]}}}},
                "calls": {"type": "array", "items": {"oneOf": [{"type": "object", "required": ["type", "id"], "properties": {
                    "type": {"type": "string", "enum": ["function"]}, "id": {"type": "string"}}}]}}}}}}}});
        let mut d = doc(op_with(json!({}), resp));
        assert!(lenient_responses(&mut d) > 0);
        let s = d.value.pointer("/paths/~1v1~1chat~1completions/post/responses/200/content/application~1json/schema").unwrap();
        assert_eq!(s["required"], json!(["choices"]));
        // Closed objects open up, and keep what they do not know (typify: a flattened map).
        assert_eq!(s["additionalProperties"], json!({}));
        assert_eq!(s["properties"]["id"]["nullable"], json!(true));
        let choice = &s["properties"]["choices"]["items"];
        assert_eq!(choice["required"], json!(["index"]));
        assert_eq!(
            choice["properties"]["finish_reason"]["anyOf"][1],
            json!({"type": "string"})
        );
        let call = &s["properties"]["calls"]["items"]["oneOf"][0];
        assert_eq!(
            call["required"],
            json!(["type"]),
            "a union branch keeps its discriminator"
        );
        assert_eq!(
            call["properties"]["type"]["enum"],
            json!(["function"]),
            "and keeps it closed"
        );
    }

    /// The batch status route's element: a result line, a batch object or a status, none with
    /// a constant `type`.
    fn batch_item() -> Value {
        let s = json!({"type": "string"});
        json!({"anyOf": [
            {"type": "object", "x-codegen-name": "ResultLine", "required": ["custom_id", "result"], "properties": {
                "custom_id": s, "result": {"type": "object", "properties": {"type": s}}}},
            {"type": "object", "x-codegen-name": "Batch", "required": ["id", "processing_status", "request_counts"], "properties": {
                "id": s, "type": s, "processing_status": s, "request_counts": {"type": "object"}, "status": s}},
            {"type": "object", "x-codegen-name": "Generating", "required": ["id", "status"], "properties": {
                "id": s, "status": s}}]})
    }

    fn response_doc(schema: Value) -> Doc {
        doc(op_with(
            json!({}),
            json!({"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}),
        ))
    }

    const RESPONSE: &str =
        "/paths/~1v1~1chat~1completions/post/responses/200/content/application~1json/schema";

    #[test]
    fn lenient_responses_keep_what_tells_union_branches_apart() {
        let mut d = response_doc(
            json!({"anyOf": [{"type": "array", "items": batch_item()}, batch_item()]}),
        );
        lenient_responses(&mut d);
        let s = d.value.pointer(RESPONSE).unwrap();
        for union in [&s["anyOf"][0]["items"], &s["anyOf"][1]] {
            let branches = union["anyOf"].as_array().unwrap();
            let names: Vec<&str> = branches
                .iter()
                .map(|b| b["x-codegen-name"].as_str().unwrap())
                .collect();
            assert_eq!(
                names,
                ["ResultLine", "Batch", "Generating"],
                "no branch had to move"
            );
            // Fields no other branch has; a branch whose fields all others have keeps them all.
            assert_eq!(branches[0]["required"], json!(["custom_id", "result"]));
            assert_eq!(
                branches[1]["required"],
                json!(["processing_status", "request_counts"])
            );
            assert_eq!(branches[2]["required"], json!(["id", "status"]));
            // What is kept required is not made nullable; the rest is.
            assert!(branches[1]["properties"]["processing_status"]
                .get("nullable")
                .is_none());
            assert_eq!(branches[1]["properties"]["id"]["nullable"], json!(true));
            assert!(branches[2]["properties"]["id"].get("nullable").is_none());
            // Inside a branch, nothing is kept.
            assert!(branches[0]["properties"]["result"]
                .get("required")
                .is_none());
        }
    }

    #[test]
    fn lenient_responses_move_a_branch_others_would_shadow_after_them() {
        let mut item = batch_item();
        let list = item["anyOf"].as_array_mut().unwrap();
        let generating = list.remove(2);
        list.insert(0, generating);
        let any = json!({"type": "object", "x-codegen-name": "Any", "properties": {"note": {"type": "string"}}});
        list.insert(0, any);
        let mut d = response_doc(item);
        assert!(lenient_responses(&mut d) > 0);
        let s = d.value.pointer(RESPONSE).unwrap();
        let names: Vec<&str> = s["anyOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["x-codegen-name"].as_str().unwrap())
            .collect();
        // A batch object carries `id` and `status` too: tried first, `Generating` would take it;
        // a branch that requires nothing takes any object, so it goes last.
        assert_eq!(names, ["ResultLine", "Batch", "Generating", "Any"]);
        assert_eq!(s["anyOf"][2]["required"], json!(["id", "status"]));
    }

    #[test]
    fn lenient_responses_keep_a_named_branch_alike_everywhere() {
        // The batch object is also the whole answer of another route: one type, so it keeps
        // there what it keeps as a branch (else it would be two types of one name).
        let mut d = response_doc(batch_item());
        let batch = batch_item()["anyOf"][1].clone();
        d.value["paths"]["/v1/batches"] = json!({"post": {"responses": {"200": {"description": "ok",
            "content": {"application/json": {"schema": batch}}}}}});
        lenient_responses(&mut d);
        let alone = d
            .value
            .pointer("/paths/~1v1~1batches/post/responses/200/content/application~1json/schema")
            .unwrap();
        let branch = &d.value.pointer(RESPONSE).unwrap()["anyOf"][1];
        assert_eq!(
            alone["required"],
            json!(["processing_status", "request_counts"])
        );
        assert_eq!(alone, branch);
    }

    #[test]
    fn lenient_responses_keep_a_map_s_value_schema() {
        let figures = json!({"type": "object", "properties": {"p50": {"type": "number"}}});
        let resp = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object",
            "properties": {
                "by_id": {"type": "object", "additionalProperties": figures},
                "closed": {"type": "object", "additionalProperties": false}}}}}}});
        let mut d = doc(op_with(json!({}), resp));
        lenient_responses(&mut d);
        let s = d.value.pointer("/paths/~1v1~1chat~1completions/post/responses/200/content/application~1json/schema/properties").unwrap();
        let value = &s["by_id"]["additionalProperties"];
        assert_eq!(value["properties"]["p50"]["type"], "number", "{s}");
        assert_eq!(
            value["additionalProperties"],
            json!({}),
            "its values open up too"
        );
        assert!(s["closed"].get("additionalProperties").is_none(), "{s}");
    }

    #[test]
    fn shared_response_matches_the_bundled_haiku_document() {
        let haiku: Value =
            serde_json::from_str(include_str!("../../schema/claude-3-5-haiku.json")).unwrap();
        let mut published = haiku
            .pointer("/paths/~1v1~1chat~1completions/post/responses/200")
            .unwrap()
            .clone();
        published
            .as_object_mut()
            .unwrap()
            .entry("description")
            .or_insert(json!("Response 200"));
        assert_eq!(
            published,
            shared_response(),
            "xtask/src/shared_response.json drifted from schema/claude-3-5-haiku.json"
        );
    }

    #[test]
    fn typed_nullables_give_every_nullable_a_type() {
        let mut v = json!({
            "properties": {
                "any": {"nullable": true, "description": "anything"},
                "stop": {"allOf": [{"$ref": "#/components/schemas/Stop"}], "nullable": true, "description": "d"},
                "plain": {"type": "string", "nullable": true},
                "map": {"type": "object", "additionalProperties": {"nullable": true}}
            }
        });
        assert_eq!(typed_nullables(&mut v), 3);
        let null_only =
            json!({"type": "object", "nullable": true, "minProperties": 1, "maxProperties": 0});
        assert_eq!(v["properties"]["any"], json!({"description": "anything"}));
        assert_eq!(
            v["properties"]["stop"],
            json!({"anyOf": [{"$ref": "#/components/schemas/Stop"}, null_only], "description": "d"})
        );
        assert_eq!(
            v["properties"]["plain"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(v["properties"]["map"]["additionalProperties"], json!({}));
    }
}

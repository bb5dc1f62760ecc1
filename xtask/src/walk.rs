//! Helpers shared by the passes: visiting every schema of an OpenAPI document, every `$ref` in
//! it, and naming things.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

/// Where a schema sits in its document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// A request body or a parameter: what we send.
    Request,
    /// A response body (`application/json` or `text/event-stream`): what the API sends back.
    Response,
    /// A component schema reached through `$ref` (or not at all).
    Component,
}

/// The schema-valued keywords whose values are a single schema.
pub const SINGLE: &[&str] = &["items", "additionalProperties", "not"];
/// The schema-valued keywords whose values are lists of schemas.
pub const LISTS: &[&str] = &["oneOf", "anyOf", "allOf"];

/// Calls `f` on `schema` and, depth first and parents before children, on every schema inside it.
pub fn visit_mut(schema: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Value::Object(map) = schema else { return };
    f(map);
    children_mut(map, &mut |child| visit_mut(child, f));
}

/// Calls `f` on each direct child schema of `map`.
pub fn children_mut(map: &mut Map<String, Value>, f: &mut dyn FnMut(&mut Value)) {
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for v in props.values_mut() {
            f(v);
        }
    }
    for key in SINGLE {
        if let Some(v @ Value::Object(_)) = map.get_mut(*key) {
            f(v);
        }
    }
    for key in LISTS {
        if let Some(Value::Array(list)) = map.get_mut(*key) {
            for v in list {
                f(v);
            }
        }
    }
}

/// A visitor of operations: path, method, operation object.
pub type OperationVisitor<'a> = dyn FnMut(&str, &str, &mut Map<String, Value>) + 'a;

/// Calls `f` on every operation of the document, with its path and method.
pub fn operations_mut(doc: &mut Value, f: &mut OperationVisitor<'_>) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Value::Object(item) = item else { continue };
        for (method, op) in item.iter_mut() {
            if let Value::Object(op) = op {
                if is_method(method) {
                    f(path, method, op);
                }
            }
        }
    }
}

fn is_method(m: &str) -> bool {
    matches!(
        m,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

/// Calls `f` on every root schema of the document: request bodies, parameters, responses and
/// components, with the site each one belongs to.
pub fn roots_mut(doc: &mut Value, f: &mut dyn FnMut(Site, &mut Value)) {
    operations_mut(doc, &mut |_, _, op| {
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            for p in params {
                if let Some(s) = p.get_mut("schema") {
                    f(Site::Request, s);
                }
            }
        }
        if let Some(Value::Object(content)) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
        {
            for media in content.values_mut() {
                if let Some(s) = media.get_mut("schema") {
                    f(Site::Request, s);
                }
            }
        }
        if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for resp in responses.values_mut() {
                if let Some(Value::Object(content)) = resp.get_mut("content") {
                    for media in content.values_mut() {
                        if let Some(s) = media.get_mut("schema") {
                            f(Site::Response, s);
                        }
                    }
                }
            }
        }
    });
    if let Some(Value::Object(schemas)) =
        doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
    {
        for s in schemas.values_mut() {
            f(Site::Component, s);
        }
    }
}

/// Calls `f` on every schema of the document, with the site of the root it hangs from.
pub fn all_schemas_mut(doc: &mut Value, f: &mut dyn FnMut(Site, &mut Map<String, Value>)) {
    roots_mut(doc, &mut |site, root| visit_mut(root, &mut |m| f(site, m)));
}

/// Calls `f` on every object in `v` that holds a string `$ref`, with that reference and the
/// object, depth first and parents before children. Every JSON value is searched, not only the
/// schema keywords. When `f` returns `true` (it has replaced the reference), the rest of that
/// object is not searched.
pub fn refs_mut(v: &mut Value, f: &mut dyn FnMut(&str, &mut Map<String, Value>) -> bool) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                let r = r.clone();
                if f(&r, m) {
                    return;
                }
            }
            m.values_mut().for_each(|x| refs_mut(x, f));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| refs_mut(x, f)),
        _ => {}
    }
}

/// Calls `f` on every `$ref` string in `v`, in the order [`refs_mut`] takes them (it searches a
/// copy of `v`).
pub fn refs(v: &Value, f: &mut dyn FnMut(&str)) {
    refs_mut(&mut v.clone(), &mut |r, _| {
        f(r);
        false
    });
}

/// Every component name that `v` references, in the order of [`refs`].
pub fn collect_refs(v: &Value, out: &mut Vec<String>) {
    refs(v, &mut |r| out.extend(referenced_name(r).map(String::from)));
}

/// Every name reachable from `todo`, taken last first: `next` is handed each name the first time
/// it is taken, and pushes onto the list the names that one leads to.
pub fn reach(
    mut todo: Vec<String>,
    next: &mut dyn FnMut(&str, &mut Vec<String>),
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            next(&name, &mut todo);
        }
    }
    seen
}

/// Reference to a component.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The component name a `$ref` points at.
pub fn ref_name(v: &Value) -> Option<&str> {
    referenced_name(v.get("$ref")?.as_str()?)
}

/// The name a `$ref` string ends in.
fn referenced_name(r: &str) -> Option<&str> {
    r.rsplit('/').next()
}

/// `UpperCamelCase` of any identifier-ish text: `image_url` -> `ImageUrl`,
/// `chat.completion.chunk` -> `ChatCompletionChunk`, `claude-3-5-haiku` -> `Claude35Haiku`.
pub fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            upper_next = true;
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            upper_next = true;
        }
        if upper_next {
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// `snake_case` of any identifier-ish text.
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !out.ends_with('_') {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    out.trim_matches('_').to_string()
}

/// The singular of a plural property name, as far as English plurals in these APIs go.
pub fn singular(s: &str) -> String {
    if let Some(stem) = s.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["ches", "shes", "xes", "sses"]
        .iter()
        .any(|e| s.ends_with(e))
    {
        s[..s.len() - 2].to_string()
    } else if s.ends_with("ss") || !s.ends_with('s') {
        s.to_string()
    } else {
        s[..s.len() - 1].to_string()
    }
}

/// The single value of a one-valued string `enum` property, if `map` has one named `key`.
pub fn const_of<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    let prop = map.get("properties")?.get(key)?;
    match prop.get("enum")?.as_array()?.as_slice() {
        [Value::String(s)] => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_and_snake_cover_the_shapes_we_meet() {
        assert_eq!(camel("image_url"), "ImageUrl");
        assert_eq!(camel("chat.completion.chunk"), "ChatCompletionChunk");
        assert_eq!(camel("claude-3-5-haiku"), "Claude35Haiku");
        assert_eq!(
            camel("openrouter-claude-3.5-haiku"),
            "OpenrouterClaude35Haiku"
        );
        assert_eq!(camel("HTTP-Referer"), "HttpReferer");
        assert_eq!(camel("4o"), "N4o");
        assert_eq!(
            snake("ChatCompletionsControllerV1_completeChat_v1"),
            "chat_completions_controller_v1_complete_chat_v1"
        );
        assert_eq!(snake("/v1/chat/completions"), "v1_chat_completions");
        assert_eq!(singular("choices"), "choice");
        assert_eq!(singular("tool_calls"), "tool_call");
        assert_eq!(singular("entries"), "entry");
        assert_eq!(singular("batches"), "batch");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("content"), "content");
    }
}

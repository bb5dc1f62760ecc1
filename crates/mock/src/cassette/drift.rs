//! Drift: what a folder of cassettes holds that the bundled documents do not name. Each
//! recorded answer (a JSON body, each line of JSON lines, each event of a stream) is read
//! against the response schema of its route and status in the documents of the model asked
//! for (or of every document with the route), and every object key, string outside its enum
//! and `type` no branch of a union names is reported with its route.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use super::format::{self, Interaction};

/// What a recorded answer carries that the bundled documents do not name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Drift {
    /// The route, e.g. `POST /v1/messages`, with ` (stream)` for an event stream.
    pub route: String,
    /// What kind of thing is new.
    pub kind: DriftKind,
    /// Where in the answer, e.g. `content[].citations` (`[]` stands for any element).
    pub at: String,
    /// The value, for an enum value or a `type`.
    pub value: Option<String>,
    /// The cassette it was first seen in.
    pub cassette: String,
}

/// What kind of thing a [`Drift`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftKind {
    /// A route no bundled document has.
    Route,
    /// An object key the schema does not name.
    Field,
    /// A string outside the enum the schema gives.
    EnumValue,
    /// A `type` (a content block's, a stream event's) no branch of the union names.
    Type,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.at.is_empty() {
            "the answer"
        } else {
            &self.at
        };
        match (self.kind, &self.value) {
            (DriftKind::Route, _) => write!(f, "{}: a route no bundled document has", self.route)?,
            (DriftKind::Field, _) => write!(f, "{}: new field {at}", self.route)?,
            (DriftKind::EnumValue, Some(v)) => {
                write!(f, "{}: new value {v:?} of {at}", self.route)?
            }
            (DriftKind::Type, Some(v)) => write!(f, "{}: new type {v:?} at {at}", self.route)?,
            (_, None) => write!(f, "{}: new {at}", self.route)?,
        }
        write!(f, " (cassette {})", self.cassette)
    }
}

/// Every [`Drift`] in the cassettes of `dir`, sorted by route, each reported once (with the
/// first cassette, in name order, that shows it). An error names a file that is not a cassette.
pub fn drift(dir: impl AsRef<Path>) -> std::io::Result<Vec<Drift>> {
    let cassettes = format::read_dir(dir.as_ref())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (name, file) in &cassettes {
        for interaction in &file.interactions {
            for (route, kind, at, value) in read(interaction) {
                if seen.insert((route.clone(), kind, at.clone(), value.clone())) {
                    out.push(Drift {
                        route,
                        kind,
                        at,
                        value,
                        cassette: name.clone(),
                    });
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

type Finding = (String, DriftKind, String, Option<String>);

/// One route of one bundled document: its method, path segments and responses.
struct Route {
    document: &'static str,
    method: String,
    segments: Vec<String>,
    responses: Value,
}

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let mut out = Vec::new();
        for (stem, text) in aimlapi_types::DOCUMENTS {
            let Ok(document) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            let Some(paths) = document.get("paths").and_then(Value::as_object) else {
                continue;
            };
            for (path, operations) in paths {
                let Some(operations) = operations.as_object() else {
                    continue;
                };
                for (method, operation) in operations {
                    out.push(Route {
                        document: stem,
                        method: method.to_ascii_uppercase(),
                        segments: path.split('/').map(str::to_string).collect(),
                        responses: operation.get("responses").cloned().unwrap_or_default(),
                    });
                }
            }
        }
        out
    })
}

/// Whether `path` is `route`'s: segment by segment, a `{parameter}` taking any one (and
/// `/model/{id}`'s the rest: ids have slashes).
fn fits(route: &Route, path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let n = route.segments.len();
    // Only the model route's id takes slashes (`/model/anthropic/claude-sonnet-4.5`).
    let takes_rest = route.segments.get(1).is_some_and(|s| s == "model")
        && route.segments[n - 1].starts_with('{');
    if parts.len() < n || (parts.len() > n && !takes_rest) {
        return false;
    }
    route
        .segments
        .iter()
        .zip(&parts)
        .all(|(s, p)| s == p || (s.starts_with('{') && !p.is_empty()))
}

/// The routes `method path` may be: as recorded, without OpenRouter's `/api`, and under `/v1`
/// (the gateways answer both with and without it).
fn candidates(method: &str, path: &str) -> Vec<&'static Route> {
    let bare = path
        .strip_prefix("/api")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    let forms = [path.to_string(), bare.to_string(), format!("/v1{bare}")];
    routes()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case(method))
        .filter(|r| forms.iter().any(|f| fits(r, f)))
        .collect()
}

fn read(interaction: &Interaction) -> Vec<Finding> {
    let request = &interaction.request;
    let response = &interaction.response;
    let streamed = response.chunks.is_some();
    let kind = if streamed { " (stream)" } else { "" };
    let mut routes = candidates(&request.method, &request.path);
    if routes.is_empty() {
        let route = format!("{} {}{kind}", request.method, request.path);
        return vec![(route, DriftKind::Route, String::new(), None)];
    }
    // The model's own documents when the request names a model they list.
    let model = request
        .body
        .as_ref()
        .map(format::Payload::value)
        .and_then(|b| b.get("model").and_then(Value::as_str).map(str::to_string));
    if let Some(model) = model {
        let listing: Vec<&'static Route> = routes
            .iter()
            .copied()
            .filter(|r| {
                aimlapi_types::MODEL_PAGES
                    .iter()
                    .any(|p| p.page == r.document && p.ids.contains(&model.as_str()))
            })
            .collect();
        if !listing.is_empty() {
            routes = listing;
        }
    }
    let content_type = response
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let values = answers(interaction, &content_type);
    let status = response.status.to_string();
    // The document that fits best: the fewest findings.
    let mut best: Option<Vec<Finding>> = None;
    for candidate in routes {
        let Some(answer) = candidate
            .responses
            .get(&status)
            .or_else(|| candidate.responses.get("default"))
        else {
            continue;
        };
        let content = answer.get("content");
        let schema = content
            .and_then(|c| c.get(&content_type))
            .or_else(|| {
                content.and_then(|c| {
                    c.get(if streamed {
                        "text/event-stream"
                    } else {
                        "application/json"
                    })
                })
            })
            .and_then(|m| m.get("schema"));
        let Some(schema) = schema else { continue };
        // Reported by the route as the documents write it (`/v1/batches/cancel/{batch_id}`),
        // so that every id of one route is one report.
        let route = format!(
            "{} {}{kind}",
            candidate.method,
            candidate.segments.join("/")
        );
        let mut found = Vec::new();
        for value in &values {
            let mut at = Vec::new();
            walk(schema, value, "", &mut at);
            found.extend(
                at.into_iter()
                    .map(|(kind, at, value)| (route.clone(), kind, at, value)),
            );
        }
        if best.as_ref().is_none_or(|b| found.len() < b.len()) {
            best = Some(found);
        }
    }
    best.unwrap_or_default()
}

/// The JSON values a recorded answer holds: its body, each line of JSON lines, or each event
/// of a stream (its `data`; `[DONE]`, comments and data that is not JSON left out).
fn answers(interaction: &Interaction, content_type: &str) -> Vec<Value> {
    let response = &interaction.response;
    if let Some(chunks) = &response.chunks {
        let bytes: Vec<u8> = chunks.iter().flat_map(|c| c.wire().to_vec()).collect();
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        return text
            .split("\n\n")
            .filter_map(|event| {
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                serde_json::from_str(&data.join("\n")).ok()
            })
            .collect();
    }
    let Some(body) = &response.body else {
        return Vec::new();
    };
    if content_type == "application/x-ndjson" {
        let text = String::from_utf8_lossy(&body.wire()).into_owned();
        return text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
    }
    match body.value() {
        Value::String(_) => Vec::new(),
        value => vec![value],
    }
}

/// The `type` values a union branch is tagged with (its `type` property's `enum` or `const`).
fn tags(branch: &Value) -> Option<Vec<&str>> {
    let tag = branch.get("properties")?.get("type")?;
    if let Some(c) = tag.get("const").and_then(Value::as_str) {
        return Some(vec![c]);
    }
    Some(
        tag.get("enum")?
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect(),
    )
}

/// Whether `schema` can describe a value of this JSON kind (a schema that says no type can).
fn admits(schema: &Value, value: &Value) -> bool {
    let kind = match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => return true,
    };
    let fits = |t: &str| t == kind || (kind == "number" && t == "integer");
    match schema.get("type") {
        Some(Value::String(t)) => fits(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(fits),
        _ => true,
    }
}

/// The object keys `schema` names, with their schemas: its `properties` and those of its
/// `allOf` parts; `None` when it names none (a free-form object).
fn named(schema: &Value) -> Option<serde_json::Map<String, Value>> {
    let mut out = schema.get("properties").and_then(Value::as_object).cloned();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(more) = named(part) {
            out.get_or_insert_with(Default::default).extend(more);
        }
    }
    out
}

fn walk(
    schema: &Value,
    value: &Value,
    at: &str,
    out: &mut Vec<(DriftKind, String, Option<String>)>,
) {
    if value.is_null() {
        return;
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array);
    if let Some(branches) = branches {
        let tagged: Vec<(&Value, Vec<&str>)> = branches
            .iter()
            .filter_map(|b| tags(b).map(|t| (b, t)))
            .collect();
        // A string against a union with enums (an open enum: the listed values, or any
        // string): a value none of them lists is new, whatever branch takes it.
        if let Value::String(text) = value {
            let listed: Vec<&Value> = branches
                .iter()
                .filter_map(|b| b.get("enum").and_then(Value::as_array))
                .flatten()
                .collect();
            if !listed.is_empty() {
                if !listed.iter().any(|v| v.as_str() == Some(text)) {
                    out.push((DriftKind::EnumValue, at.to_string(), Some(text.clone())));
                }
                return;
            }
        }
        let tag = value.get("type").and_then(Value::as_str);
        let pool: Vec<&Value> = match tag {
            Some(tag) if !tagged.is_empty() => {
                let matching: Vec<&Value> = tagged
                    .iter()
                    .filter(|(_, t)| t.contains(&tag))
                    .map(|(b, _)| *b)
                    .collect();
                if matching.is_empty() {
                    out.push((DriftKind::Type, at.to_string(), Some(tag.to_string())));
                    return;
                }
                matching
            }
            _ => branches.iter().filter(|b| admits(b, value)).collect(),
        };
        // The branch that fits best.
        let mut best: Option<Vec<(DriftKind, String, Option<String>)>> = None;
        for branch in pool {
            let mut found = Vec::new();
            walk(branch, value, at, &mut found);
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        out.extend(best.unwrap_or_default());
        return;
    }
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            let extra = schema.get("additionalProperties");
            let Some(named) = named(schema) else {
                if let Some(extra @ Value::Object(_)) = extra {
                    map.iter().for_each(|(k, v)| walk(extra, v, &join(k), out));
                }
                return;
            };
            // A key beside the named ones is new even where the object is left open (the
            // documents open every response object, `additionalProperties: {}`, so that the
            // types read what they do not name); a map's value schema names its keys' values.
            for (key, v) in map {
                match (named.get(key), extra) {
                    (Some(s), _) => walk(s, v, &join(key), out),
                    (None, Some(extra @ Value::Object(m))) if !m.is_empty() => {
                        walk(extra, v, &join(key), out)
                    }
                    (None, _) => out.push((DriftKind::Field, join(key), None)),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                let at = format!("{at}[]");
                items.iter().for_each(|v| walk(item, v, &at, out));
            }
        }
        Value::String(s) => {
            let listed = schema.get("enum").and_then(Value::as_array);
            if let Some(listed) = listed {
                if !listed.iter().any(|v| v.as_str() == Some(s)) {
                    out.push((DriftKind::EnumValue, at.to_string(), Some(s.clone())));
                }
            }
        }
        _ => {}
    }
}

//! `cargo xtask adopt`: our document for a vendor's model page. The structure, the ids and the
//! constraints of the vendor's document are kept (they are facts about the API); its prose is not:
//! every description comes from our table of descriptions (`descriptions.json`), looked up by the
//! field it describes. Where the vendor's document says something the API does not do, ours
//! follows the API, and the report says what was changed and why.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::walk::{operations_mut, LISTS, SINGLE};

/// Our descriptions, by key: a field name (`temperature`) or the end of a chain of field names
/// (`usage.prompt_tokens`). See [`Descriptions::lookup`].
pub struct Descriptions(BTreeMap<String, String>);

impl Descriptions {
    /// The project's table, `xtask/src/descriptions.json`.
    pub fn bundled() -> Descriptions {
        Descriptions::from_json(include_str!("descriptions.json"))
            .expect("descriptions.json is a JSON object of strings")
    }

    /// A table from JSON text: an object mapping keys to descriptions.
    pub fn from_json(text: &str) -> Result<Descriptions, String> {
        serde_json::from_str(text)
            .map(Descriptions)
            .map_err(|e| format!("descriptions: {e}"))
    }

    /// The description for a schema reached by `chain` (the property names from its root, array
    /// items and union branches adding nothing): the entry for the longest suffix of the chain
    /// that the table has, `a.b.c`, then `b.c`, then `c`.
    pub fn lookup(&self, chain: &[String]) -> Option<&str> {
        (0..chain.len())
            .map(|from| chain[from..].join("."))
            .find_map(|key| self.0.get(&key))
            .map(String::as_str)
    }
}

/// Our document and what was changed on the way.
pub struct Adopted {
    /// The document, ready for `schema/`.
    pub value: Value,
    /// One line per change worth a reader's eye: descriptions without an entry in our table,
    /// corrections of the vendor's document.
    pub report: Vec<String>,
}

/// The dialects a chat request body comes in: the dialect, the name of its request type, the
/// word that qualifies the names of its schemas that differ from another dialect's
/// (`AnthropicTextBlock` beside `TextPart`), and its variant of the generated `WireShape` with
/// what the variant's doc says of it. The order is the order in which the generator names
/// things: the first dialect's schemas get the plain names.
pub const DIALECTS: &[(&str, &str, &str, &str, &str)] = &[
    ("openai", "ChatCompletionRequest", "Chat", "OpenAi",
        "OpenAI's chat completions: `system`/`user`/`assistant`/`tool` messages, `function` tools"),
    ("openrouter", "OpenRouterRequest", "OpenRouter", "OpenRouter",
        "OpenRouter's chat completions: the OpenAI shape with OpenRouter's extras"),
    ("openrouter-style", "OpenRouterStyleRequest", "OpenRouterStyle", "OpenRouterStyle",
        "The AI/ML API's pages written in OpenRouter's shape: OpenAI-style messages"),
    ("anthropic", "AnthropicChatRequest", "Anthropic", "Anthropic",
        "Anthropic's messages on the chat endpoint: a top-level `system`, turns of content blocks, tools with an `input_schema`"),
    ("hybrid", "HybridChatRequest", "Hybrid", "Hybrid",
        "The newest chat pages: Anthropic's content blocks or OpenAI's messages, and images by URL"),
    ("messages", "MessagesRequest", "Messages", "Messages",
        "Anthropic's Messages endpoint (`POST /v1/messages`)"),
];

/// The Messages endpoint's answer: the message, and its events when streamed (written from the
/// facts; the vendor's documents publish empty schemas there).
pub fn messages_response() -> Value {
    serde_json::from_str(include_str!("messages_response.json"))
        .expect("messages_response.json is JSON")
}

/// Whether an operation is Anthropic's Messages endpoint (`POST /v1/messages`, `/messages`).
fn is_messages(path: &str, method: &str) -> bool {
    method == "post" && (path == "/messages" || path.ends_with("/v1/messages"))
}

/// Writes our document for the vendor's `vendor` (its file name `source`). `dialect` overrides
/// the dialect read from the request body's shape.
pub fn adopt(
    vendor: &Value,
    source: &str,
    dialect: Option<&str>,
    words: &Descriptions,
) -> Result<Adopted, String> {
    if vendor
        .get("openapi")
        .and_then(Value::as_str)
        .is_none_or(|v| !v.starts_with("3."))
    {
        return Err(format!("{source}: not an OpenAPI 3 document"));
    }
    let mut report = Vec::new();
    let paths = vendor
        .get("paths")
        .cloned()
        .ok_or_else(|| format!("{source}: no paths"))?;
    let mut found_dialect = None;
    let mut doc = json!({ "paths": paths });
    operations_mut(&mut doc, &mut |path, method, op| {
        let chat = method == "post" && path.ends_with("/chat/completions");
        let messages = is_messages(path, method);
        op.retain(|k, _| {
            matches!(
                k.as_str(),
                "parameters" | "requestBody" | "responses" | "security"
            )
        });
        op.insert(
            "summary".into(),
            Value::String(
                if chat {
                    "Creates a chat completion."
                } else if messages {
                    "Creates a message."
                } else {
                    "Calls the endpoint."
                }
                .into(),
            ),
        );
        if let Some(Value::Array(params)) = op.get_mut("parameters") {
            for p in params {
                if let Value::Object(p) = p {
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    rewrite_description(p, std::slice::from_ref(&name), words, &mut report);
                    if let Some(s) = p.get_mut("schema") {
                        clean(s, &mut vec![name], words, &mut report);
                    }
                }
            }
        }
        if let Some(Value::Object(content)) =
            op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
        {
            for media in content.values_mut() {
                if let Some(body) = media.get_mut("schema") {
                    if let Some(note) = unswap_tools(body) {
                        report.push(format!("{path}: {note}"));
                    }
                    clean(body, &mut Vec::new(), words, &mut report);
                    if chat && found_dialect.is_none() {
                        found_dialect = Some(dialect_of(body));
                    }
                    if messages && found_dialect.is_none() {
                        found_dialect = Some("messages");
                    }
                }
            }
        }
        if let Some(Value::Object(body)) = op.get_mut("requestBody") {
            body.remove("description");
        }
        if chat {
            let responses = responses_of(op);
            let had = responses.keys().filter(|c| c.starts_with('2')).count();
            responses.retain(|code, _| !code.starts_with('2'));
            responses.insert("200".into(), crate::passes::shared_response());
            if had != 1 {
                report.push(format!(
                    "{path}: {had} success responses replaced by the chat completion and its stream chunk"
                ));
            }
        } else if messages {
            let responses = responses_of(op);
            responses.retain(|code, _| !code.starts_with('2'));
            responses.insert("200".into(), messages_response());
            report.push(format!(
                "{path}: the success response is the message and its event stream, from our table"
            ));
        } else if let Some(Value::Object(responses)) = op.get_mut("responses") {
            for r in responses.values_mut() {
                let Value::Object(r) = r else { continue };
                r.insert("description".into(), Value::String("The answer.".into()));
                if let Some(Value::Object(content)) = r.get_mut("content") {
                    for media in content.values_mut() {
                        if let Some(s) = media.get_mut("schema") {
                            clean(s, &mut Vec::new(), words, &mut report);
                        }
                    }
                }
            }
        }
        for r in op
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            if let Value::Object(r) = r {
                if !r.contains_key("description") {
                    r.insert("description".into(), Value::String("The answer.".into()));
                }
            }
        }
    });
    let dialect = match dialect {
        Some(d) => d.to_string(),
        None => found_dialect
            .ok_or_else(|| format!("{source}: no chat-completions or messages request body to read a dialect from; pass --dialect"))?
            .to_string(),
    };
    let (request_name, prefix) = DIALECTS
        .iter()
        .find(|(d, ..)| *d == dialect)
        .map(|(_, n, p, ..)| (*n, *p))
        .ok_or_else(|| {
            let known: Vec<&str> = DIALECTS.iter().map(|(d, ..)| *d).collect();
            format!("unknown dialect `{dialect}` (known: {})", known.join(", "))
        })?;
    let hybrid = dialect == "hybrid";
    operations_mut(&mut doc, &mut |path, method, op| {
        if method == "post" && (path.ends_with("/chat/completions") || is_messages(path, method)) {
            let body = op
                .get_mut("requestBody")
                .and_then(|b| b.pointer_mut("/content/application~1json/schema"));
            if let Some(Value::Object(body)) = body {
                body.insert("x-codegen-name".into(), Value::String(request_name.into()));
                if hybrid {
                    name_dialect_branches(body);
                }
            }
        }
    });
    let stem = source.strip_suffix(".json").unwrap_or(source);
    doc["openapi"] = vendor["openapi"].clone();
    doc["info"] = json!({
        "title": if dialect == "messages" {
            format!("{stem}: Anthropic's Messages endpoint on the AI/ML API")
        } else {
            format!("{stem}: chat completions on the AI/ML API")
        },
        "version": vendor.pointer("/info/version").cloned().unwrap_or(json!("1.0")),
        "x-codegen-dialect": dialect,
        "x-codegen-prefix": prefix,
        "x-source": source,
    });
    if let Some(servers) = vendor.get("servers").and_then(Value::as_array) {
        let urls: Vec<Value> = servers
            .iter()
            .filter_map(|s| s.get("url"))
            .map(|u| json!({ "url": u }))
            .collect();
        doc["servers"] = Value::Array(urls);
    }
    if let Some(Value::Object(schemes)) = vendor.pointer("/components/securitySchemes") {
        let mut ours = Map::new();
        for (name, scheme) in schemes {
            let mut s = scheme.clone();
            if let Value::Object(m) = &mut s {
                m.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "type" | "scheme" | "bearerFormat" | "in" | "name"
                    )
                });
                m.insert("description".into(), json!("A bearer token: the API key."));
            }
            ours.insert(name.clone(), s);
        }
        doc["components"] = json!({ "securitySchemes": ours });
    }
    let dropped = vendor
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    if dropped > 0 {
        report.push(format!(
            "{dropped} component schemas dropped: no operation refers to them"
        ));
    }
    Ok(Adopted { value: doc, report })
}

/// An operation's `responses` map, made one when it is missing or is not a map (a document
/// that gets it wrong is rewritten, never a panic).
fn responses_of(op: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    if !responses.is_object() {
        *responses = json!({});
    }
    match responses {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// Drops the keywords that carry the vendor's prose or examples, and puts our description, if
/// the table has one, where the vendor had a description.
fn clean(
    schema: &mut Value,
    chain: &mut Vec<String>,
    words: &Descriptions,
    report: &mut Vec<String>,
) {
    let Value::Object(m) = schema else { return };
    m.retain(|k, _| {
        !matches!(
            k.as_str(),
            "title" | "example" | "examples" | "externalDocs"
        ) && (!k.starts_with("x-") || k.starts_with("x-codegen"))
    });
    if !chain.is_empty() {
        rewrite_description(m, chain, words, report);
    } else {
        m.remove("description");
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for (name, p) in props.iter_mut() {
            chain.push(name.clone());
            clean(p, chain, words, report);
            chain.pop();
        }
    }
    for key in SINGLE {
        if let Some(v @ Value::Object(_)) = m.get_mut(*key) {
            clean(v, chain, words, report);
        }
    }
    for key in LISTS {
        if let Some(Value::Array(list)) = m.get_mut(*key) {
            for v in list {
                clean(v, chain, words, report);
            }
        }
    }
}

/// Replaces a description with ours; reports, once per key, a described field our table lacks.
fn rewrite_description(
    m: &mut Map<String, Value>,
    chain: &[String],
    words: &Descriptions,
    report: &mut Vec<String>,
) {
    if m.remove("description").is_none() {
        return;
    }
    match words.lookup(chain) {
        Some(ours) => {
            m.insert("description".into(), Value::String(ours.to_string()));
        }
        None => {
            let line = format!("no description of ours for `{}`: left out", chain.join("."));
            if !report.contains(&line) {
                report.push(line);
            }
        }
    }
}

/// The vendor has published request bodies whose `tools` is a list of tool-choice modes and whose
/// `tool_choice` is one tool definition: the two swapped. The API takes them the other way round,
/// so ours does: `tools` a list of those definitions, `tool_choice` one of those modes.
fn unswap_tools(body: &mut Value) -> Option<&'static str> {
    let props = body.get_mut("properties")?.as_object_mut()?;
    let choice = props.get("tool_choice")?;
    let tools = props.get("tools")?;
    let choice_is_a_tool = choice
        .get("properties")
        .is_some_and(|p| p.get("input_schema").is_some() && p.get("name").is_some());
    let modes = tools.get("items")?;
    let branches: Vec<&Value> = match modes.get("anyOf").or_else(|| modes.get("oneOf")) {
        Some(Value::Array(b)) => b.iter().collect(),
        _ => vec![modes],
    };
    let tools_are_modes = tools.get("type") == Some(&json!("array"))
        && branches.iter().all(|b| {
            b.pointer("/properties/input_schema").is_none()
                && b.pointer("/properties/type/enum").is_some()
        })
        && branches.iter().any(|b| {
            b.pointer("/properties/type/enum")
                .and_then(Value::as_array)
                .is_some_and(|e| e.iter().any(|v| v == "auto"))
        });
    if !(choice_is_a_tool && tools_are_modes) {
        return None;
    }
    let definition = props.remove("tool_choice")?;
    let list = props.remove("tools")?;
    let modes = list.get("items").cloned()?;
    props.insert(
        "tools".into(),
        json!({ "type": "array", "items": definition }),
    );
    props.insert("tool_choice".into(), modes);
    Some("`tools` and `tool_choice` were swapped in the vendor's document (tool_choice held one tool definition, tools the choice modes); ours has them as the API takes them")
}

/// A body that takes both dialects has `messages` and `tools` as a choice between two lists, one
/// per dialect: the items of each list are named for their dialect (`AnthropicMessage` beside
/// `Message`, `AnthropicTool` beside `Tool`), the names the same things have in the documents of
/// one dialect.
fn name_dialect_branches(body: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = body.get_mut("properties") else {
        return;
    };
    for (prop, anthropic, openai) in [
        ("messages", "AnthropicMessage", "Message"),
        ("tools", "AnthropicTool", "Tool"),
    ] {
        let Some(Value::Array(branches)) = props.get_mut(prop).and_then(|p| p.get_mut("anyOf"))
        else {
            continue;
        };
        for branch in branches {
            let Some(Value::Object(items)) = branch.get_mut("items") else {
                continue;
            };
            let text = Value::Object(items.clone()).to_string();
            let is_openai = ["\"system\"", "\"developer\"", "\"function\""]
                .iter()
                .any(|marker| text.contains(marker));
            let name = if is_openai { openai } else { anthropic };
            items.insert("x-codegen-name".into(), Value::String(name.into()));
        }
    }
}

/// The dialect a chat request body is written in, read from its shape.
fn dialect_of(body: &Value) -> &'static str {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        return "openai";
    };
    if let Some(provider) = props.get("provider") {
        return if provider.get("properties").is_some() {
            "openrouter"
        } else {
            "openrouter-style"
        };
    }
    if !props.contains_key("stop_sequences") && !props.contains_key("system") {
        return "openai";
    }
    // Anthropic's shape; hybrid when it also takes OpenAI-style messages (a role of `system`,
    // `developer` or `tool`).
    let openai_roles = ["system", "developer", "tool"];
    let mut hybrid = false;
    if let Some(messages) = props.get("messages") {
        let mut m = messages.clone();
        crate::walk::visit_mut(&mut m, &mut |s| {
            let roles = s
                .get("properties")
                .and_then(|p| p.get("role"))
                .and_then(|r| r.get("enum"))
                .and_then(Value::as_array);
            if roles.is_some_and(|r| r.iter().any(|v| openai_roles.iter().any(|o| v == o))) {
                hybrid = true;
            }
        });
    }
    if hybrid {
        "hybrid"
    } else {
        "anthropic"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Descriptions {
        Descriptions::from_json(
            r#"{"temperature": "How random the sampling is.", "content.text": "The words of a text part.", "text": "Some text."}"#,
        )
        .unwrap()
    }

    fn vendor(body: Value) -> Value {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "Vendor title", "description": "Vendor prose.", "version": "1.0"},
            "servers": [{"url": "https://api.example.com", "description": "prod"}],
            "paths": {"/v1/chat/completions": {"post": {
                "operationId": "Vendor_op", "summary": "Vendor summary", "tags": ["Vendor"],
                "x-codeSamples": [{"lang": "py", "source": "print()"}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
                "responses": {"201": {"description": ""}}
            }}},
            "components": {"schemas": {"Unused": {"type": "object", "description": "Vendor prose."}}}
        })
    }

    #[test]
    fn prose_goes_structure_and_constraints_stay() {
        let body = json!({
            "type": "object", "title": "Vendor body", "description": "Vendor prose.",
            "properties": {
                "model": {"type": "string", "enum": ["m-1"], "description": "Vendor prose."},
                "temperature": {"type": "number", "minimum": 0, "maximum": 1, "description": "Vendor prose.", "example": 0.5},
                "messages": {"type": "array", "items": {"type": "object", "properties": {
                    "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "properties": {
                        "type": {"type": "string", "enum": ["text"]},
                        "text": {"type": "string", "description": "Vendor prose."}}}}]}}}}
            },
            "required": ["model", "messages"]
        });
        let out = adopt(&vendor(body), "claude-x.json", None, &words()).unwrap();
        let text = out.value.to_string();
        assert!(!text.contains("Vendor"), "{text}");
        let schema = &out.value["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(
            schema["properties"]["temperature"],
            json!({"type": "number", "minimum": 0, "maximum": 1, "description": "How random the sampling is."})
        );
        assert_eq!(schema["properties"]["model"]["enum"], json!(["m-1"]));
        assert_eq!(schema["required"], json!(["model", "messages"]));
        assert_eq!(schema["x-codegen-name"], "ChatCompletionRequest");
        // The longest known suffix wins: `content.text`, not `text`.
        let text_prop = &schema["properties"]["messages"]["items"]["properties"]["content"]
            ["anyOf"][1]["items"]["properties"]["text"];
        assert_eq!(text_prop["description"], "The words of a text part.");
        // Unknown described fields are reported and left without a description.
        assert!(
            out.report.iter().any(|l| l.contains("`model`")),
            "{:?}",
            out.report
        );
        assert_eq!(out.value["info"]["x-codegen-dialect"], "openai");
        assert_eq!(out.value["info"]["x-source"], "claude-x.json");
        // The bare 201 became the chat completion with its stream chunk.
        let ok = &out.value["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"];
        assert!(ok.get("application/json").is_some() && ok.get("text/event-stream").is_some());
        assert!(out.value.pointer("/components/schemas").is_none());
        assert!(out
            .report
            .iter()
            .any(|l| l.contains("1 component schemas dropped")));
    }

    #[test]
    fn swapped_tools_and_tool_choice_are_put_right() {
        let definition = json!({"type": "object", "properties": {
            "name": {"type": "string"}, "description": {"type": "string"},
            "input_schema": {"type": "object"}}, "required": ["name", "input_schema"]});
        let modes = json!({"anyOf": [
            {"type": "object", "properties": {"type": {"type": "string", "enum": ["auto"]}}, "required": ["type"]},
            {"type": "object", "properties": {"type": {"type": "string", "enum": ["tool"]}, "name": {"type": "string"}}, "required": ["type", "name"]}
        ]});
        let body = json!({"type": "object", "properties": {
            "model": {"type": "string"}, "system": {"type": "string"}, "stop_sequences": {"type": "array", "items": {"type": "string"}},
            "messages": {"type": "array", "items": {"type": "object", "properties": {"role": {"type": "string", "enum": ["user", "assistant"]}}}},
            "tool_choice": definition, "tools": {"type": "array", "items": modes}}});
        let out = adopt(&vendor(body), "claude-y.json", None, &words()).unwrap();
        let props = &out.value["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"]["properties"];
        assert_eq!(props["tools"]["type"], "array");
        assert!(props["tools"]["items"]["properties"]["input_schema"].is_object());
        assert_eq!(props["tool_choice"]["anyOf"].as_array().unwrap().len(), 2);
        assert!(out.report.iter().any(|l| l.contains("swapped")));
        assert_eq!(out.value["info"]["x-codegen-dialect"], "anthropic");
        // A body that has them the right way round is left alone.
        let right = adopt(&out.value, "claude-y.json", None, &words()).unwrap();
        assert!(!right.report.iter().any(|l| l.contains("swapped")));
    }

    #[test]
    fn dialects_are_read_from_the_body() {
        let body = |props: Value| json!({"type": "object", "properties": props});
        let d = |props: Value| {
            adopt(&vendor(body(props)), "x.json", None, &words())
                .unwrap()
                .value["info"]["x-codegen-dialect"]
                .clone()
        };
        assert_eq!(
            d(json!({"model": {"type": "string"}, "n": {"type": "integer"}})),
            "openai"
        );
        assert_eq!(
            d(json!({"provider": {"type": "object", "properties": {"order": {"type": "array"}}}})),
            "openrouter"
        );
        assert_eq!(
            d(json!({"provider": {"type": "string"}})),
            "openrouter-style"
        );
        assert_eq!(
            d(json!({"system": {"type": "string"}, "messages": {"anyOf": [
                {"type": "array", "items": {"type": "object", "properties": {"role": {"enum": ["user", "assistant"]}}}},
                {"type": "array", "items": {"type": "object", "properties": {"role": {"enum": ["developer"]}}}}]}})),
            "hybrid"
        );
        assert!(adopt(
            &vendor(body(json!({}))),
            "x.json",
            Some("klingon"),
            &words()
        )
        .is_err());
    }

    #[test]
    fn the_messages_endpoint_gets_its_message_and_event_stream() {
        let vendor = json!({"openapi": "3.0.0", "info": {"version": "1"},
            "paths": {"/v1/messages": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                    "properties": {"model": {"type": "string", "enum": ["m"]}}}}}},
                "responses": {"200": {"description": "x", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {}}},
                    "text/event-stream": {"schema": {"type": "object", "properties": {}}}}}}}}}});
        let out = adopt(&vendor, "m-MESSAGES.json", None, &words()).unwrap();
        assert_eq!(out.value["info"]["x-codegen-dialect"], "messages");
        let ok = &out.value["paths"]["/v1/messages"]["post"]["responses"]["200"]["content"];
        assert_eq!(
            ok["application/json"]["schema"]["x-codegen-name"],
            "MessageResponse"
        );
        assert_eq!(
            ok["text/event-stream"]["schema"]["x-codegen-name"],
            "MessageStreamEvent"
        );
        let body = &out.value["paths"]["/v1/messages"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(body["x-codegen-name"], "MessagesRequest");
    }
}

use serde_json::{json, Value};

use super::Registry;
use crate::doc::Doc;

fn doc_with_body(stem: &str, body: Value) -> Doc {
    Doc {
        stem: stem.into(),
        value: json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/v1/chat/completions": {"post": {
            "operationId": "create_chat_completion",
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": {"200": {"description": "ok"}}}}}}),
    }
}

fn text_part() -> Value {
    json!({"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}})
}

#[test]
fn messages_and_parts_are_named_by_their_constants() {
    let body = json!({"type": "object", "properties": {"messages": {"type": "array", "items": {"oneOf": [
        {"type": "object", "properties": {"role": {"type": "string", "enum": ["system"]}, "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": text_part()}]}}},
        {"type": "object", "properties": {"role": {"type": "string", "enum": ["user"]}, "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": [
            text_part(),
            {"type": "object", "properties": {"type": {"type": "string", "enum": ["image_url"]}, "image_url": {"type": "object", "properties": {"url": {"type": "string"}}}}}]}}]}}}]}}}});
    let mut reg = Registry::default();
    let mut d = doc_with_body("claude-x", body);
    reg.hoist_doc(&mut d).unwrap();
    let names: Vec<&str> = reg.schemas.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "ClaudeXRequest",
            "ImageUrl",
            "ImageUrlPart",
            "ImageUrlPartType",
            "Message",
            "SystemContent",
            "SystemMessage",
            "SystemMessageRole",
            "TextPart",
            "TextPartType",
            "UserContent",
            "UserContentPart",
            "UserMessage",
            "UserMessageRole"
        ]
    );
    // The two `content` unions differ (the user's has image parts): two types, nothing lost.
    assert_ne!(reg.schemas["SystemContent"], reg.schemas["UserContent"]);
    assert_eq!(
        reg.schemas["UserContentPart"]["anyOf"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn identical_schemas_across_documents_become_one_component() {
    let mut reg = Registry::default();
    let part =
        json!({"type": "object", "properties": {"parts": {"type": "array", "items": text_part()}}});
    let mut a = doc_with_body("doc-a", part.clone());
    let mut b = doc_with_body("doc-b", part);
    reg.hoist_doc(&mut a).unwrap();
    reg.hoist_doc(&mut b).unwrap();
    assert_eq!(reg.used_by["TextPart"], ["doc-a", "doc-b"]);
    assert_eq!(
        reg.used_by["DocARequest"],
        ["doc-a", "doc-b"],
        "identical request bodies are one type too"
    );
    assert_eq!(
        reg.schemas.len(),
        3,
        "{:?}",
        reg.schemas.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_different_schema_under_a_taken_name_gets_a_qualified_name() {
    // Two documents (each its own dialect) whose `TextP` differ in kind: neither covers the
    // other, so the second is qualified by its document.
    let mut reg = Registry::default();
    let mut a = doc_with_body(
        "doc-a",
        json!({"type": "object", "properties": {"p": {"type": "array", "items": text_part()}}}),
    );
    let mut other = text_part();
    other["properties"]["text"] = json!({"type": "integer"});
    let mut b = doc_with_body(
        "doc-b",
        json!({"type": "object", "properties": {"p": {"type": "array", "items": other}}}),
    );
    reg.hoist_doc(&mut a).unwrap();
    reg.hoist_doc(&mut b).unwrap();
    let names: Vec<&String> = reg.schemas.keys().collect();
    assert!(reg.schemas.contains_key("TextP"), "{names:?}");
    assert!(
        reg.schemas.contains_key("DocBTextP"),
        "a difference between documents is qualified by the document: {names:?}"
    );
}

fn in_dialect(stem: &str, dialect: &str, body: Value) -> Doc {
    let mut d = doc_with_body(stem, body);
    d.value["info"]["x-codegen-dialect"] = json!(dialect);
    d
}

#[test]
fn pages_of_one_dialect_share_the_wider_type() {
    // Page b omits `temperature` and adds `thinking`; page c's message takes one more kind
    // of part. One request type, one message type: every property and part of all three.
    let part = |kind: &str| json!({"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": [kind]}, "text": {"type": "string"}}});
    let body = |props: Value| json!({"type": "object", "required": ["model"], "x-codegen-name": "ShapeRequest", "properties": props});
    let messages = |parts: Vec<Value>| json!({"type": "array", "items": {"type": "object", "properties": {"content": {"type": "array", "items": {"oneOf": parts}}}}});
    let mut reg = Registry::default();
    let mut a = in_dialect(
        "page-a",
        "d",
        body(
            json!({"model": {"type": "string"}, "temperature": {"type": "number", "maximum": 1}, "messages": messages(vec![part("text")])}),
        ),
    );
    let mut b = in_dialect(
        "page-b",
        "d",
        body(
            json!({"model": {"type": "string"}, "thinking": {"type": "boolean"}, "messages": messages(vec![part("text")])}),
        ),
    );
    let mut c = in_dialect(
        "page-c",
        "d",
        body(
            json!({"model": {"type": "string"}, "temperature": {"type": "number", "maximum": 2}, "messages": messages(vec![part("text"), part("image")])}),
        ),
    );
    for d in [&mut a, &mut b, &mut c] {
        reg.hoist_doc(d).unwrap();
    }
    let request = &reg.schemas["ShapeRequest"];
    let props: Vec<&String> = request["properties"].as_object().unwrap().keys().collect();
    assert_eq!(props, ["messages", "model", "temperature", "thinking"]);
    assert_eq!(request["properties"]["temperature"]["maximum"], json!(2.0));
    assert_eq!(request["required"], json!(["model"]));
    assert_eq!(reg.used_by["ShapeRequest"], ["page-a", "page-b", "page-c"]);
    let names: Vec<&String> = reg.schemas.keys().collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("Page") || n.ends_with('2')),
        "no name per page: {names:?}"
    );
}

#[test]
fn across_dialects_only_a_covering_schema_is_shared() {
    let part = json!({"type": "object", "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}});
    let mut wider = part.clone();
    wider["properties"]["cache_control"] =
        json!({"type": "object", "properties": {"ttl": {"type": "string"}}});
    let body = |p: &Value| json!({"type": "object", "properties": {"parts": {"type": "array", "items": p}}});
    let mut reg = Registry::default();
    let mut a = in_dialect("page-a", "one", body(&part));
    let mut b = in_dialect("page-b", "two", body(&wider));
    reg.hoist_doc(&mut a).unwrap();
    reg.hoist_doc(&mut b).unwrap();
    // b's part covers a's: one type, the wider.
    assert!(reg.schemas["TextPart"]["properties"]
        .get("cache_control")
        .is_some());
    assert_eq!(reg.used_by["TextPart"], ["page-a", "page-b"]);
}

#[test]
fn nullable_objects_are_referenced_through_a_nullable_all_of() {
    let mut reg = Registry::default();
    let mut d = doc_with_body(
        "doc",
        json!({"type": "object", "properties": {"usage": {"type": "object", "nullable": true, "properties": {"n": {"type": "integer"}}}}}),
    );
    reg.hoist_doc(&mut d).unwrap();
    assert_eq!(
        reg.schemas["DocRequest"]["properties"]["usage"],
        json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true})
    );
    assert!(reg.schemas["Usage"].get("nullable").is_none());
}

//! Every example on the vendor's current model pages, transcribed in `tests/fixtures/pages/`
//! (sources in its README): each request example deserializes into the request type the model
//! table gives its page and serializes back to the same JSON; each response and stream chunk
//! parses into the one response or chunk type and serializes back to what was sent (nulls aside),
//! fields the types do not name included.

use std::path::PathBuf;

use aimlapi_types::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn pages_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages")
}

/// The fixture files whose names contain `kind` (`request`, `response`, `stream`), sorted.
fn fixtures(kind: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(pages_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&format!(".{kind}-")))
        .map(|n| {
            let text = std::fs::read_to_string(pages_dir().join(&n)).unwrap();
            (n, text)
        })
        .collect();
    out.sort();
    out
}

/// The page a fixture belongs to, by its file name's first part, and the chat document that
/// page embeds (`pages.json`); `None` for a page that documents no chat document (the Messages
/// endpoint's README).
fn chat_document_of(fixture: &str) -> Option<String> {
    let pages: Value =
        serde_json::from_str(&std::fs::read_to_string(pages_dir().join("pages.json")).unwrap())
            .unwrap();
    let page = fixture.split('.').next().unwrap();
    let page = pages
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| fixture.starts_with(k.as_str()) && fixture[k.len()..].starts_with('.'))
        .max_by_key(|k| k.len())
        .unwrap_or_else(|| panic!("{fixture}: no page {page} in pages.json"));
    let specs = match &pages[page]["spec"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    specs
        .into_iter()
        .find(|s| !s.contains("MESSAGES"))
        .map(|s| s.trim_end_matches(".json").to_string())
}

/// `v` without the object keys whose value is null, all the way down: the types leave out an
/// absent optional field, where the API may have sent `null`.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(what: &str, json: &Value) -> Value {
    try_round_trip::<T>(json).unwrap_or_else(|e| panic!("{what} does not parse: {e}"))
}

fn try_round_trip<T: DeserializeOwned + Serialize>(json: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(json.clone()).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(&typed).unwrap())
}

fn request_round_trip(request_type: &str, json: &Value) -> Result<Value, String> {
    match request_type {
        "ChatCompletionRequest" => try_round_trip::<ChatCompletionRequest>(json),
        "AnthropicChatRequest" => try_round_trip::<AnthropicChatRequest>(json),
        "HybridChatRequest" => try_round_trip::<HybridChatRequest>(json),
        "OpenRouterStyleRequest" => try_round_trip::<OpenRouterStyleRequest>(json),
        "OpenRouterRequest" => try_round_trip::<OpenRouterRequest>(json),
        other => Err(format!(
            "the model table names an unknown request type {other}"
        )),
    }
}

#[test]
fn every_request_example_serializes_to_its_json_through_its_page_s_type() {
    let mut checked = Vec::new();
    let mut not_chat = Vec::new();
    for (name, text) in fixtures("request") {
        let json: Value = serde_json::from_str(&text).unwrap();
        let Some(document) = chat_document_of(&name) else {
            not_chat.push(name);
            continue;
        };
        let page = MODEL_PAGES
            .iter()
            .find(|p| p.page == document)
            .unwrap_or_else(|| panic!("{name}: page {document} is not bundled"));
        // The example's model id is one of its page's typed ids.
        let model = json["model"].as_str().unwrap();
        assert!(
            page.ids.contains(&model),
            "{name}: {model} not on {document}"
        );
        let request = page.request.unwrap();
        if json["messages"].is_string() {
            // The page shows a placeholder (`"messages": "<messages>"`) where the list goes: not
            // a request, and the type says so.
            assert!(
                request_round_trip(request, &json).is_err(),
                "{name}: a placeholder taken as messages"
            );
            checked.push(format!("{name}: {request} (placeholder messages, refused)"));
            continue;
        }
        let back = request_round_trip(request, &json)
            .unwrap_or_else(|e| panic!("{name} does not parse as {request}: {e}"));
        assert_eq!(back, json, "{name} through {request}");
        checked.push(format!("{name}: {request}"));
    }
    // Only the Messages endpoint's README has examples of another endpoint.
    assert!(
        not_chat.iter().all(|n| n.starts_with("new-README.")),
        "{not_chat:?}"
    );
    assert!(checked.len() >= 30, "{checked:?}");
    insta::assert_snapshot!(checked.join("\n"));
}

#[test]
fn every_response_example_parses_and_round_trips() {
    let mut checked = 0;
    for (name, text) in fixtures("response") {
        let json: Value = serde_json::from_str(&text).unwrap();
        if json.get("type").and_then(Value::as_str) == Some("message") {
            // A Messages-endpoint answer (the README's), not a chat completion.
            assert!(name.starts_with("new-README."), "{name}");
            continue;
        }
        let back = round_trip::<ChatCompletion>(&name, &json);
        assert_eq!(back, without_nulls(&json), "{name}: what went in came out");
        let parsed: ChatCompletion = serde_json::from_value(json).unwrap();
        assert!(!parsed.choices.is_empty(), "{name}");
        insta::assert_json_snapshot!(name.clone(), parsed);
        checked += 1;
    }
    assert!(checked >= 19, "{checked}");
}

#[test]
fn every_stream_example_parses_and_round_trips_chunk_by_chunk() {
    let mut chunks = 0;
    for (name, text) in fixtures("stream") {
        for (i, line) in text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .enumerate()
        {
            if line == "[DONE]" {
                continue;
            }
            let json: Value = serde_json::from_str(line).unwrap();
            let what = format!("{name} chunk {}", i + 1);
            let back = round_trip::<ChatCompletionChunk>(&what, &json);
            assert_eq!(back, without_nulls(&json), "{what}");
            chunks += 1;
        }
    }
    assert!(chunks > 100, "{chunks}");
}

/// A field the API adds tomorrow, anywhere in a response or chunk, survives a parse and a
/// serialize.
#[test]
fn fields_the_types_do_not_name_are_kept() {
    let mut json: Value = serde_json::from_str(
        &std::fs::read_to_string(pages_dir().join("new-claude-opus-5.response-1.json")).unwrap(),
    )
    .unwrap();
    json["brand_new"] = serde_json::json!({"nested": [1, 2]});
    json["choices"][0]["brand_new"] = Value::from("choice");
    json["choices"][0]["message"]["brand_new"] = Value::from(true);
    json["usage"]["brand_new_tokens"] = Value::from(7);
    json["meta"]["usage"]["brand_new"] = Value::from(0.5);
    assert_eq!(
        round_trip::<ChatCompletion>("extended response", &json),
        without_nulls(&json)
    );
    let chunk = serde_json::json!({"id": "x", "object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"content": "a", "brand_new": 1}, "brand_new": "b"}], "brand_new": {}});
    assert_eq!(
        round_trip::<ChatCompletionChunk>("extended chunk", &chunk),
        chunk
    );
}

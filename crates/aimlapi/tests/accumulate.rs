//! The accumulator on documented streams, pinned by snapshots.

use aimlapi::sse::{unwrap_legacy, Accumulator};
use aimlapi::types::{ChatCompletion, ChatCompletionChunk};
use serde_json::{json, Value};

const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");

fn fold(payloads: impl IntoIterator<Item = Value>) -> Value {
    let mut acc = Accumulator::new();
    for p in payloads {
        let chunk: ChatCompletionChunk = serde_json::from_value(p).unwrap();
        acc.push(&chunk);
    }
    serde_json::to_value(acc.finish::<ChatCompletion>().unwrap()).unwrap()
}

fn seed_payloads() -> Vec<Value> {
    TRANSCRIPT
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn seed_003_folds_to_the_documented_text_and_usage() {
    let done = fold(seed_payloads());
    assert_eq!(
        done["usage"],
        json!({"prompt_tokens": 16, "completion_tokens": 77, "total_tokens": 93})
    );
    insta::assert_json_snapshot!(done);
}

#[test]
fn the_legacy_wrapper_folds_to_the_same_completion() {
    let legacy = seed_payloads().into_iter().map(|mut chunk| {
        let usage = chunk.as_object_mut().unwrap().remove("usage").filter(|u| !u.is_null());
        let mut state = json!({"generationId": "gen-legacy", "tools": []});
        if let Some(u) = usage {
            state["usage"] = json!({"input_tokens": u["prompt_tokens"], "output_tokens": u["completion_tokens"]});
        }
        let line = json!({"event": chunk, "state": state}).to_string();
        unwrap_legacy(line.as_bytes()).expect("detected as the old format").unwrap()
    });
    assert_eq!(fold(legacy), fold(seed_payloads()));
}

/// Written from the documented chunk schema: `delta.tool_calls[{index, id, type, function{name,
/// arguments}}]`, id and name in the first chunk of each call, arguments split over many.
#[test]
fn a_tool_call_stream_folds_to_complete_tool_calls() {
    let head = |calls: Value| json!({"id": "", "object": "chat.completion.chunk", "created": 1770995942, "model": "claude-3-5-haiku-20241022", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": calls}}]});
    let mut payloads = vec![
        json!({"id": "msg_tools", "object": "chat.completion.chunk", "created": 1770995942, "model": "claude-3-5-haiku-20241022", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Let me check."}}]}),
    ];
    payloads.push(head(json!([{"index": 0, "id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": ""}}])));
    for piece in [
        "{\"ci",
        "ty\": \"Pa",
        "ris\", \"un",
        "it\": \"cel",
        "sius\"}",
    ] {
        payloads.push(head(
            json!([{"index": 0, "function": {"arguments": piece}}]),
        ));
    }
    payloads.push(head(json!([{"index": 1, "id": "toolu_02", "type": "function", "function": {"name": "get_time", "arguments": "{\"tz\":"}}])));
    payloads.push(head(
        json!([{"index": 1, "function": {"arguments": " \"Europe/Paris\"}"}}]),
    ));
    payloads.push(json!({"id": "", "object": "chat.completion.chunk", "created": 1770995943, "model": "claude-3-5-haiku-20241022", "choices": [{"index": 0, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 40, "completion_tokens": 30, "total_tokens": 70}}));
    let done = fold(payloads);
    let calls = &done["choices"][0]["message"]["tool_calls"];
    assert_eq!(
        calls[0]["function"]["arguments"],
        "{\"city\": \"Paris\", \"unit\": \"celsius\"}"
    );
    let args: Value =
        serde_json::from_str(calls[1]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"tz": "Europe/Paris"}));
    insta::assert_json_snapshot!(done);
}

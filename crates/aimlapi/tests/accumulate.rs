//! The accumulator on documented streams, pinned by snapshots.

use aimlapi::sse::{unwrap_legacy, Accumulator, Fold};
use aimlapi::types::ChatCompletionChunk;
use serde_json::{json, Value};

const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");

fn fold(payloads: impl IntoIterator<Item = Value>) -> Value {
    let mut acc = Accumulator::new();
    for p in payloads {
        let chunk: ChatCompletionChunk = serde_json::from_value(p).unwrap();
        acc.push(&chunk).unwrap();
    }
    serde_json::to_value(acc.finish().unwrap()).unwrap()
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

/// Written from OpenRouter's documented deltas (`delta.reasoning_details` pieces of
/// `{type, text?, summary?, data?, signature?, format?, index}`): a text piece split over
/// chunks, its signature in a later piece of the same index, an encrypted piece after it. Only
/// `reasoning_details` carries the reasoning here; it becomes the completion's reasoning.
#[test]
fn reasoning_details_deltas_fold_into_the_reasoning_and_merged_pieces() {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "gen-1", "object": "chat.completion.chunk", "created": 1, "model": "anthropic/claude-sonnet-5",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let piece =
        |fields: Value| json!({"role": "assistant", "content": "", "reasoning_details": [fields]});
    let payloads = vec![
        chunk(
            piece(
                json!({"type": "reasoning.text", "text": "The user asks ", "format": "anthropic-claude-v1", "index": 0}),
            ),
            Value::Null,
        ),
        chunk(
            piece(json!({"type": "reasoning.text", "text": "about tea.", "index": 0})),
            Value::Null,
        ),
        chunk(
            piece(json!({"type": "reasoning.text", "signature": "sig-abc", "index": 0})),
            Value::Null,
        ),
        chunk(
            piece(json!({"type": "reasoning.encrypted", "data": "ENC", "index": 1})),
            Value::Null,
        ),
        chunk(json!({"content": "Tea is good."}), json!("stop")),
    ];
    let done = fold(payloads);
    let message = &done["choices"][0]["message"];
    assert_eq!(message["reasoning_content"], "The user asks about tea.");
    assert_eq!(message["content"], "Tea is good.");
    assert_eq!(
        message["reasoning_details"],
        json!([
            {"type": "reasoning.text", "text": "The user asks about tea.", "signature": "sig-abc",
             "format": "anthropic-claude-v1", "index": 0},
            {"type": "reasoning.encrypted", "data": "ENC", "index": 1}])
    );
}

/// A delta with both `reasoning` and `reasoning_details` (OpenRouter sends the text in both)
/// counts it once.
#[test]
fn reasoning_in_both_fields_is_counted_once() {
    let done = fold([
        json!({"id": "gen-2", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "delta": {"content": "ok", "reasoning": "Short.",
            "reasoning_details": [{"type": "reasoning.text", "text": "Short.", "index": 0}]}}]}),
    ]);
    assert_eq!(done["choices"][0]["message"]["reasoning"], "Short.");
}

/// An empty `reasoning` beside `reasoning_details` leaves the reasoning to the details, in the
/// folded stream as in a whole answer.
#[test]
fn an_empty_reasoning_field_leaves_the_reasoning_to_the_details() {
    let done = fold([
        json!({"id": "gen-3", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "delta": {"content": "ok", "reasoning": "",
            "reasoning_details": [{"type": "reasoning.text", "text": "From the details.", "index": 0}]}}]}),
    ]);
    assert_eq!(
        done["choices"][0]["message"]["reasoning"],
        "From the details."
    );
}

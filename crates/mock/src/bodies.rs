//! The answers the mock sends, as JSON: chat completions and their stream chunks, documented or
//! scripted, in either stream format; Messages-endpoint messages and their events.

use serde_json::{json, Value};

use crate::reply::Script;

/// Seed 003's streaming transcript: every `data:` line, each closed by a blank line.
const TRANSCRIPT: &str = include_str!("../fixtures/seed-003-stream.txt");
/// The documented non-streaming responses: Claude 3.5 Haiku (seed 003), Sonnet (seed 001).
const HAIKU_RESPONSE: &str = include_str!("../fixtures/seed-003-response.json");
const SONNET_RESPONSE: &str = include_str!("../fixtures/seed-001-response.json");

/// The documented non-streaming response for a document.
pub(crate) fn documented_response(stem: &str) -> String {
    if stem.contains("sonnet") {
        SONNET_RESPONSE.to_string()
    } else {
        HAIKU_RESPONSE.to_string()
    }
}

/// The documented transcript's chunks, parsed once.
pub(crate) fn documented_chunks() -> Vec<Value> {
    static CHUNKS: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    CHUNKS
        .get_or_init(|| {
            TRANSCRIPT
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|l| serde_json::from_str(l).expect("the transcript is JSON"))
                .collect()
        })
        .clone()
}

fn usage(script: &Script) -> Value {
    let (p, c) = script.usage;
    json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p.saturating_add(c)})
}

fn finish_reason(script: &Script) -> &str {
    script
        .finish_reason
        .as_deref()
        .unwrap_or(if script.tool_calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        })
}

/// A scripted non-streaming completion with this `id`.
pub(crate) fn scripted_completion(script: &Script, model: &str, id: &str) -> Value {
    let mut message = json!({"role": "assistant", "content": script.text});
    if !script.tool_calls.is_empty() {
        message["tool_calls"] = script
            .tool_calls
            .iter()
            .map(|t| json!({"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments}}))
            .collect();
    }
    json!({
        "id": id,
        "object": "chat.completion",
        "created": 1_770_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(script), "logprobs": null}],
        "usage": usage(script),
    })
}

/// Splits `s` into pieces of at most `n` characters.
fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// A scripted stream, each chunk carrying `id` (as OpenRouter's do): a role chunk, the text a
/// few characters at a time, each tool call's arguments over many chunks, a finish chunk with
/// usage.
pub(crate) fn scripted_chunks(script: &Script, model: &str, id: &str) -> Vec<Value> {
    let chunk = |delta: Value, finish: Option<&str>, usage: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": 1_770_000_000,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            "usage": usage,
        })
    };
    let mut out = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        None,
        Value::Null,
    )];
    if let Some(text) = &script.text {
        for p in pieces(text, 8) {
            out.push(chunk(json!({"content": p}), None, Value::Null));
        }
    }
    for (i, t) in script.tool_calls.iter().enumerate() {
        out.push(chunk(
            json!({"tool_calls": [{"index": i, "id": t.id, "type": "function", "function": {"name": t.name, "arguments": ""}}]}),
            None,
            Value::Null,
        ));
        for p in pieces(&t.arguments, 4) {
            out.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}),
                None,
                Value::Null,
            ));
        }
    }
    out.push(chunk(json!({}), Some(finish_reason(script)), usage(script)));
    out
}

/// The chunks in the format used before 2026-02-13, as real transcripts of it look: each chunk
/// wrapped as `{"event": <chunk>, "state": {...}}`, the chunk's own usage all zeros, the true
/// counts only in `state.usage`: `input_tokens` (and one output token) on the first chunk, zeros
/// on the chunks between, and the final `output_tokens` with `finishReason` on the chunk that
/// carries the usage in the current format.
pub(crate) fn legacy(chunks: Vec<Value>) -> Vec<Value> {
    let count = |u: &Value, k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let totals = chunks
        .iter()
        .rev()
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()))
        .map_or((0, 0), |u| {
            (count(u, "prompt_tokens"), count(u, "completion_tokens"))
        });
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, mut chunk)| {
            let had_usage = chunk.get("usage").is_some_and(|u| !u.is_null());
            chunk["usage"] = json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0});
            let mut state = json!({"generationId": "mock-generation", "tools": []});
            let input = if i == 0 { totals.0 } else { 0 };
            let output = match (i, had_usage) {
                (_, true) => totals.1,
                (0, false) => totals.1.min(1),
                _ => 0,
            };
            state["usage"] = json!({
                "input_tokens": input,
                "output_tokens": output,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            });
            if had_usage {
                let finish = chunk
                    .pointer("/choices/0/finish_reason")
                    .cloned()
                    .unwrap_or(Value::Null);
                state["finishReason"] = finish;
            }
            json!({"event": chunk, "state": state})
        })
        .collect()
}

/// A scripted Messages-endpoint message with this `id`: thinking (with its signature), text,
/// tool calls.
pub(crate) fn scripted_message(script: &Script, model: &str, id: &str) -> Value {
    let mut content = Vec::new();
    if let Some((thinking, signature)) = &script.thinking {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": signature}));
    }
    if let Some(text) = &script.text {
        content.push(json!({"type": "text", "text": text}));
    }
    for t in &script.tool_calls {
        let input: Value = serde_json::from_str(&t.arguments).unwrap_or_else(|_| json!({}));
        content.push(json!({"type": "tool_use", "id": t.id, "name": t.name, "input": input}));
    }
    let (p, c) = script.usage;
    let (read, written) = script.cache;
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": script.finish_reason.as_deref().unwrap_or(if script.tool_calls.is_empty() { "end_turn" } else { "tool_use" }),
        "stop_sequence": null,
        "usage": {"input_tokens": p, "output_tokens": c, "cache_creation_input_tokens": written, "cache_read_input_tokens": read},
    })
}

/// The message as Anthropic's event stream: `message_start` (no content, the input count),
/// each block started, its deltas (text and thinking a few characters at a time, the
/// signature, a tool call's input in pieces, the first empty), stopped; `message_delta` with the
/// stop reason and the output count; `message_stop`. Each as `(event name, payload)`.
pub(crate) fn message_events(script: &Script, model: &str, id: &str) -> Vec<(&'static str, Value)> {
    let message = scripted_message(script, model, id);
    let mut start = message.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"]["output_tokens"] = json!(1);
    let mut out = vec![(
        "message_start",
        json!({"type": "message_start", "message": start}),
    )];
    let blocks = message["content"].as_array().cloned().unwrap_or_default();
    for (i, block) in blocks.iter().enumerate() {
        let delta = |d: Value| {
            (
                "content_block_delta",
                json!({"type": "content_block_delta", "index": i, "delta": d}),
            )
        };
        match block["type"].as_str() {
            Some("thinking") => {
                out.push(("content_block_start", json!({"type": "content_block_start", "index": i, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})));
                for p in pieces(block["thinking"].as_str().unwrap_or(""), 8) {
                    out.push(delta(json!({"type": "thinking_delta", "thinking": p})));
                }
                out.push(delta(
                    json!({"type": "signature_delta", "signature": block["signature"]}),
                ));
            }
            Some("text") => {
                out.push(("content_block_start", json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})));
                for p in pieces(block["text"].as_str().unwrap_or(""), 8) {
                    out.push(delta(json!({"type": "text_delta", "text": p})));
                }
            }
            _ => {
                let mut started = block.clone();
                started["input"] = json!({});
                out.push((
                    "content_block_start",
                    json!({"type": "content_block_start", "index": i, "content_block": started}),
                ));
                out.push(delta(
                    json!({"type": "input_json_delta", "partial_json": ""}),
                ));
                for p in pieces(&block["input"].to_string(), 4) {
                    out.push(delta(
                        json!({"type": "input_json_delta", "partial_json": p}),
                    ));
                }
            }
        }
        out.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    out.push(("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": null}, "usage": {"output_tokens": message["usage"]["output_tokens"]}})));
    out.push(("message_stop", json!({"type": "message_stop"})));
    out
}

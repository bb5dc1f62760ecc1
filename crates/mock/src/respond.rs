//! The bodies the mock sends: documented, scripted, in either stream format, and error bodies.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::{Fault, Format, Script};

/// Seed 003's streaming transcript: every `data:` line, each closed by a blank line.
const TRANSCRIPT: &str = include_str!("../fixtures/seed-003-stream.txt");
/// The documented non-streaming responses: Claude 3.5 Haiku (seed 003), Sonnet (seed 001).
const HAIKU_RESPONSE: &str = include_str!("../fixtures/seed-003-response.json");
const SONNET_RESPONSE: &str = include_str!("../fixtures/seed-001-response.json");

/// The vendor's messages per status (from its error pages).
fn vendor_message(status: u16) -> &'static str {
    match status {
        400 => "Body validation error!",
        401 => "This request requires a valid API key. You can create a new API key on the Billing page: https://aimlapi.com/app/keys",
        403 => "You've run out of credits. Please top up your balance or update your payment method to continue: https://aimlapi.com/app/billing/",
        404 => "Not Found",
        429 => "Too Many Requests",
        500..=599 => "Internal server error",
        _ => "Error",
    }
}

/// An error body in the vendor's shape: `{message, path, requestId, statusCode, timestamp}`.
pub(crate) fn error_body(status: u16, path: &str, request_id: u64) -> String {
    json!({
        "message": vendor_message(status),
        "path": path,
        "requestId": format!("mock-{request_id:08x}"),
        "statusCode": status,
        "timestamp": "2026-01-01T00:00:00.000Z",
    })
    .to_string()
}

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

/// What ends a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The body ends normally.
    End,
    /// The connection is dropped.
    Drop,
    /// Nothing more is sent; the connection stays open.
    Stall,
}

/// The stream's events as SSE text, faults applied, and how it ends.
pub(crate) fn events(chunks: Vec<Value>, format: Format, faults: &[Fault]) -> (Vec<Bytes>, Ending) {
    let data = |v: &Value| Bytes::from(format!("data: {v}\n\n"));
    let chunks = match format {
        Format::Current => chunks,
        Format::Legacy => legacy(chunks),
    };
    let models: Vec<Value> = chunks
        .iter()
        .map(|c| {
            c.get("model")
                .or(c.pointer("/event/model"))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    let frames = chunks.iter().map(data).collect();
    faulted(
        frames,
        faults,
        Bytes::from_static(b": OPENROUTER PROCESSING\n\n"),
        b"data: {\"id\": \"broken\", \"choices\": [\n\n",
        |i, code, message| {
            vec![
                data(&json!({
                    "id": "mock-error",
                    "object": "chat.completion.chunk",
                    "created": 1_770_000_000,
                    "model": models[i],
                    "error": {"code": code, "message": message},
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                })),
                Bytes::from_static(b"data: [DONE]\n\n"),
            ]
        },
    )
}

/// `frames` with `faults` applied: `keep_alive` frames first, then each frame, cut short by a
/// drop or a stall, preceded by `malformed`, or replaced by the frames `error` gives (the frame's
/// index, the code, the message) which end the stream. A drop or stall after more frames than
/// there are happens after the last one.
fn faulted(
    frames: Vec<Bytes>,
    faults: &[Fault],
    keep_alive: Bytes,
    malformed: &'static [u8],
    error: impl Fn(usize, i64, &str) -> Vec<Bytes>,
) -> (Vec<Bytes>, Ending) {
    let mut out = Vec::new();
    for f in faults {
        if let Fault::KeepAlive(n) = f {
            let n = (*n).min(crate::MAX_KEEP_ALIVES);
            out.extend((0..n).map(|_| keep_alive.clone()));
        }
    }
    for (i, frame) in frames.into_iter().enumerate() {
        for f in faults {
            match f {
                Fault::DropAfter(n) if *n == i => return (out, Ending::Drop),
                Fault::StallAfter(n) if *n == i => return (out, Ending::Stall),
                Fault::MalformedAfter(n) if *n == i => out.push(Bytes::from_static(malformed)),
                Fault::ErrorChunkAfter {
                    after,
                    code,
                    message,
                } if *after == i => {
                    out.extend(error(i, *code, message));
                    return (out, Ending::End);
                }
                _ => {}
            }
        }
        out.push(frame);
    }
    for f in faults {
        match f {
            Fault::DropAfter(_) => return (out, Ending::Drop),
            Fault::StallAfter(_) => return (out, Ending::Stall),
            _ => {}
        }
    }
    (out, Ending::End)
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
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": script.finish_reason.as_deref().unwrap_or(if script.tool_calls.is_empty() { "end_turn" } else { "tool_use" }),
        "stop_sequence": null,
        "usage": {"input_tokens": p, "output_tokens": c, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
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

/// The events as SSE text (`event:` and `data:` lines), faults applied: keep-alives are `ping`
/// events, an error chunk is an `error` event (`overloaded_error` for code 529, else
/// `api_error`) that ends the stream.
pub(crate) fn message_frames(
    events: Vec<(&'static str, Value)>,
    faults: &[Fault],
) -> (Vec<Bytes>, Ending) {
    let frame = |name: &str, v: &Value| Bytes::from(format!("event: {name}\ndata: {v}\n\n"));
    let frames = events.iter().map(|(name, v)| frame(name, v)).collect();
    faulted(
        frames,
        faults,
        frame("ping", &json!({"type": "ping"})),
        b"event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": [\n\n",
        |_, code, message| {
            let kind = if code == 529 {
                "overloaded_error"
            } else {
                "api_error"
            };
            vec![frame(
                "error",
                &json!({"type": "error", "error": {"type": kind, "message": message}}),
            )]
        },
    )
}

//! The two stream folds lose no field the server sent: a field a chunk or event carries beyond
//! the fields its type names reaches the folded answer at the level it came (a scalar sent twice
//! keeps its last value, an object sent twice is merged).
//!
//! The bodies are written here, from `shared/api-facts/batches-and-account.md` section 3 (what
//! Anthropic's Messages streams and OpenRouter's chunks carry) and from the chunk and event
//! schemas; every field whose name starts with `x_` is one no type names, each with its own name
//! and value so that one landing at the wrong level shows. Ids, text and amounts are made up.

mod common;

use std::collections::BTreeMap;

use aimlapi::sse::{
    Accumulator, ChunkDecoder, Fold, MessageAccumulator, MessageEventDecoder, StreamItem,
};
use aimlapi::types::{
    ChatCompletion, ChatCompletionChunk, MessageResponse, MessageStreamEvent, OpenRouterRequest,
};
use aimlapi::{Provider, RequestOptions};
use bytes::Bytes;
use common::{Reply, Server};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Every field named `x_...` in `v`, by its JSON pointer, with its value (not looked into).
fn unknowns(v: &Value) -> BTreeMap<String, Value> {
    fn walk(v: &Value, at: &str, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let here = format!("{at}/{k}");
                    if k.starts_with("x_") {
                        out.insert(here, v.clone());
                    } else {
                        walk(v, &here, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(v, "", &mut out);
    out
}

/// `pairs` as the map [`unknowns`] gives.
fn expected(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A chat stream's body: each payload as a `data:` event, then `[DONE]`.
fn chat_body(payloads: &[Value]) -> String {
    let mut out = String::new();
    for p in payloads {
        out.push_str(&format!("data: {p}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out
}

/// The chunks of `body`, fed to a [`ChunkDecoder`] in pieces of `size` bytes; the body must end
/// with `[DONE]`.
fn decode_chunks(body: &str, size: usize) -> Vec<ChatCompletionChunk> {
    let mut decoder = ChunkDecoder::<ChatCompletionChunk>::default();
    let mut chunks = Vec::new();
    let mut take = |decoder: &mut ChunkDecoder<ChatCompletionChunk>| {
        while let Some(item) = decoder.next_item() {
            match item.expect("every payload is a chunk") {
                StreamItem::Chunk(c) => chunks.push(c),
                StreamItem::Comment(c) => panic!("no comments were asked for: {c}"),
            }
        }
    };
    for piece in body.as_bytes().chunks(size) {
        decoder.feed(Bytes::copy_from_slice(piece));
        take(&mut decoder);
    }
    decoder.finish();
    take(&mut decoder);
    assert!(decoder.is_done(), "the body ends with [DONE]");
    chunks
}

/// `chunks` folded by the [`Accumulator`].
fn fold_chunks(chunks: &[ChatCompletionChunk]) -> ChatCompletion {
    let mut fold = Accumulator::new();
    for c in chunks {
        fold.push(c).expect("no error chunk");
    }
    fold.finish().expect("the stream finished")
}

/// `body` decoded whole and in small pieces, folded; both must give the same completion.
fn decode_and_fold(body: &str) -> ChatCompletion {
    let whole = fold_chunks(&decode_chunks(body, body.len()));
    let split = fold_chunks(&decode_chunks(body, 7));
    assert_eq!(
        serde_json::to_value(&whole).unwrap(),
        serde_json::to_value(&split).unwrap(),
        "the split of the body changes nothing"
    );
    whole
}

/// A Messages stream's body: each event as `event: <type>` and its `data:` line.
fn messages_body(events: &[Value]) -> String {
    let mut out = String::new();
    for e in events {
        let kind = e["type"].as_str().expect("every event names its type");
        out.push_str(&format!("event: {kind}\ndata: {e}\n\n"));
    }
    out
}

/// The events of `body`, fed to a [`MessageEventDecoder`] in pieces of `size` bytes, folded.
fn fold_messages(body: &str, size: usize) -> MessageResponse {
    let mut decoder = MessageEventDecoder::default();
    let mut fold = MessageAccumulator::new();
    let mut events = 0;
    let mut take = |decoder: &mut MessageEventDecoder, fold: &mut MessageAccumulator| {
        while let Some(event) = decoder.next_event() {
            let event: MessageStreamEvent = event.expect("every payload is an event");
            assert!(
                !matches!(event, MessageStreamEvent::OtherKind(_)),
                "an event of a known kind decoded as an unknown one: {event:?}"
            );
            fold.push(&event).expect("no error event");
            events += 1;
        }
    };
    for piece in body.as_bytes().chunks(size) {
        decoder.feed(piece);
        take(&mut decoder, &mut fold);
    }
    decoder.finish();
    take(&mut decoder, &mut fold);
    assert_eq!(
        events,
        body.matches("\ndata: ").count(),
        "every event decoded"
    );
    fold.finish().expect("the stream ends with message_stop")
}

// ---------------------------------------------------------------------------------------------
// 1, 2. Chat chunks: every object level carries a field no type names.

/// Four chunks of a chat stream with two choices: text, reasoning details (one piece continued
/// in the next chunk), two tool calls with arguments over two chunks, the finish, then usage
/// (with both details objects) and the AI/ML `meta`. Every object level carries its own `x_`
/// fields; `x_top` (a scalar) and `x_top_obj` (an object) come in two chunks, as do the delta's
/// `x_delta_obj` and the choice's `x_choice_n`.
fn chat_chunks() -> Vec<Value> {
    vec![
        json!({
            "id": "chatcmpl-folds-1", "object": "chat.completion.chunk", "created": 1770000000,
            "model": "claude-sonnet-4-5",
            "x_top": "top-first", "x_top_obj": {"first": 1}, "x_top_once": {"nested": ["kept", 1]},
            "choices": [
                {"index": 0, "x_choice": "choice-0", "x_choice_n": 1,
                 "delta": {"role": "assistant", "content": "Hel", "x_delta": "delta-0",
                           "x_delta_obj": {"a": 1},
                           "reasoning_details": [{"type": "reasoning.text", "text": "Plan", "index": 0,
                                                  "format": "anthropic-claude-v1",
                                                  "x_detail": "detail-0"}]}},
                {"index": 1, "x_choice": "choice-1",
                 "delta": {"role": "assistant", "content": "Hi", "x_delta": "delta-1"}}
            ]
        }),
        json!({
            "id": "", "object": "chat.completion.chunk", "created": 1770000000,
            "model": "claude-sonnet-4-5",
            "choices": [
                {"index": 0,
                 "delta": {"content": "lo",
                           "reasoning_details": [{"type": "reasoning.text", "text": " ahead.", "index": 0,
                                                  "x_detail_more": {"piece": 2}}],
                           "tool_calls": [
                               {"index": 0, "id": "call_folds_0", "type": "function", "x_call": "call-0",
                                "function": {"name": "lookup", "arguments": "{\"q\":",
                                             "x_function": "function-0"}},
                               {"index": 1, "id": "call_folds_1", "type": "function", "x_call": "call-1",
                                "function": {"name": "clock", "arguments": "{}",
                                             "x_function": "function-1"}}
                           ]}}
            ]
        }),
        json!({
            "id": "", "object": "chat.completion.chunk", "created": 1770000000,
            "model": "claude-sonnet-4-5",
            "x_top": "top-last", "x_top_obj": {"second": 2},
            "choices": [
                {"index": 0, "x_choice_n": 2,
                 "delta": {"x_delta_obj": {"b": 2},
                           "tool_calls": [{"index": 0, "x_call_late": true,
                                           "function": {"arguments": "1}", "x_function_late": [3]}}]}}
            ]
        }),
        json!({
            "id": "", "object": "chat.completion.chunk", "created": 1770000000,
            "model": "claude-sonnet-4-5",
            "choices": [
                {"index": 0, "finish_reason": "tool_calls", "delta": {}},
                {"index": 1, "finish_reason": "stop", "delta": {}}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20,
                      "x_usage": "usage-0",
                      "prompt_tokens_details": {"cached_tokens": 4, "x_prompt_details": "prompt-details-0"},
                      "completion_tokens_details": {"reasoning_tokens": 3,
                                                    "x_completion_details": "completion-details-0"}},
            "meta": {"usage": {"tokens_used": 1234}, "x_meta": "meta-0"}
        }),
    ]
}

/// Where each `x_` field of [`chat_chunks`] must be in the folded completion, with its value.
fn chat_unknowns() -> BTreeMap<String, Value> {
    expected(&[
        // The chunk's top level: the completion's.
        ("/x_top", json!("top-last")),
        ("/x_top_obj", json!({"first": 1, "second": 2})),
        ("/x_top_once", json!({"nested": ["kept", 1]})),
        // Each choice: that choice.
        ("/choices/0/x_choice", json!("choice-0")),
        ("/choices/0/x_choice_n", json!(2)),
        ("/choices/1/x_choice", json!("choice-1")),
        // Each delta: that choice's message.
        ("/choices/0/message/x_delta", json!("delta-0")),
        ("/choices/0/message/x_delta_obj", json!({"a": 1, "b": 2})),
        ("/choices/1/message/x_delta", json!("delta-1")),
        // A reasoning detail: that detail (its pieces merged).
        (
            "/choices/0/message/reasoning_details/0/x_detail",
            json!("detail-0"),
        ),
        (
            "/choices/0/message/reasoning_details/0/x_detail_more",
            json!({"piece": 2}),
        ),
        // A tool-call delta: that tool call; its `function`: the call's function.
        ("/choices/0/message/tool_calls/0/x_call", json!("call-0")),
        ("/choices/0/message/tool_calls/0/x_call_late", json!(true)),
        (
            "/choices/0/message/tool_calls/0/function/x_function",
            json!("function-0"),
        ),
        (
            "/choices/0/message/tool_calls/0/function/x_function_late",
            json!([3]),
        ),
        ("/choices/0/message/tool_calls/1/x_call", json!("call-1")),
        (
            "/choices/0/message/tool_calls/1/function/x_function",
            json!("function-1"),
        ),
        // Usage and its two details objects: the same.
        ("/usage/x_usage", json!("usage-0")),
        (
            "/usage/prompt_tokens_details/x_prompt_details",
            json!("prompt-details-0"),
        ),
        (
            "/usage/completion_tokens_details/x_completion_details",
            json!("completion-details-0"),
        ),
        // `meta`: the completion's meta.
        ("/meta/x_meta", json!("meta-0")),
    ])
}

/// What the fold of [`chat_chunks`] names, beside the unknown fields.
fn assert_named_fields(done: &Value) {
    assert_eq!(done["id"], "chatcmpl-folds-1");
    assert_eq!(done["model"], "claude-sonnet-4-5");
    let first = &done["choices"][0];
    assert_eq!(first["finish_reason"], "tool_calls");
    assert_eq!(first["message"]["content"], "Hello");
    assert_eq!(first["message"]["reasoning_content"], "Plan ahead.");
    assert_eq!(
        first["message"]["reasoning_details"][0]["text"],
        "Plan ahead."
    );
    let call = &first["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call_folds_0");
    assert_eq!(call["function"]["name"], "lookup");
    assert_eq!(call["function"]["arguments"], "{\"q\":1}");
    assert_eq!(
        first["message"]["tool_calls"][1]["function"]["name"],
        "clock"
    );
    assert_eq!(done["choices"][1]["message"]["content"], "Hi");
    assert_eq!(done["choices"][1]["finish_reason"], "stop");
    assert_eq!(done["usage"]["prompt_tokens"], 12);
    assert_eq!(done["usage"]["completion_tokens"], 8);
    assert_eq!(done["usage"]["total_tokens"], 20);
    assert_eq!(done["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(
        done["usage"]["completion_tokens_details"]["reasoning_tokens"],
        3
    );
    assert_eq!(done["meta"]["usage"]["tokens_used"], 1234);
}

#[test]
fn every_unknown_field_of_a_chat_stream_reaches_the_completion_at_its_level() {
    let done = decode_and_fold(&chat_body(&chat_chunks()));
    let value = serde_json::to_value(&done).unwrap();
    assert_eq!(unknowns(&value), chat_unknowns(), "{value:#}");
    assert_named_fields(&value);
    // The same through the typed fields: each level's `extra`.
    assert_eq!(done.extra["x_top"], "top-last");
    let choice = &done.choices[0];
    assert_eq!(choice.extra["x_choice"], "choice-0");
    let message = choice.message.as_ref().unwrap();
    assert_eq!(message.extra["x_delta"], "delta-0");
    assert_eq!(
        message.reasoning_details.as_ref().unwrap()[0].extra["x_detail"],
        "detail-0"
    );
    let aimlapi::types::ToolCall::ChoiceMessageFunctionToolCall(call) =
        &message.tool_calls.as_ref().unwrap()[0]
    else {
        panic!("a function call")
    };
    assert_eq!(call.extra["x_call"], "call-0");
    assert_eq!(
        call.function.as_ref().unwrap().extra["x_function"],
        "function-0"
    );
    let usage = done.usage.as_ref().unwrap();
    assert_eq!(usage.extra["x_usage"], "usage-0");
    assert_eq!(
        usage.prompt_tokens_details.as_ref().unwrap().extra["x_prompt_details"],
        "prompt-details-0"
    );
    assert_eq!(
        usage.completion_tokens_details.as_ref().unwrap().extra["x_completion_details"],
        "completion-details-0"
    );
    assert_eq!(done.meta.as_ref().unwrap().extra["x_meta"], "meta-0");
}

#[test]
fn an_unknown_scalar_keeps_its_last_value_and_an_unknown_object_is_merged() {
    let done = serde_json::to_value(decode_and_fold(&chat_body(&chat_chunks()))).unwrap();
    // Sent as "top-first", then "top-last".
    assert_eq!(done.pointer("/x_top"), Some(&json!("top-last")));
    // Sent as {"first": 1}, then {"second": 2}.
    assert_eq!(
        done.pointer("/x_top_obj"),
        Some(&json!({"first": 1, "second": 2}))
    );
    // The same one level down: a choice's scalar (1, then 2), a delta's object.
    assert_eq!(done.pointer("/choices/0/x_choice_n"), Some(&json!(2)));
    assert_eq!(
        done.pointer("/choices/0/message/x_delta_obj"),
        Some(&json!({"a": 1, "b": 2}))
    );
    // A later scalar replaces an earlier one inside a merged object, too.
    let mut chunks = chat_chunks();
    chunks[2]["x_top_obj"] = json!({"first": "replaced", "second": 2});
    let done = serde_json::to_value(decode_and_fold(&chat_body(&chunks))).unwrap();
    assert_eq!(
        done.pointer("/x_top_obj"),
        Some(&json!({"first": "replaced", "second": 2}))
    );
}

/// [`chat_chunks`] in the format the AI/ML API used before 2026-02-13: each chunk wrapped as
/// `{"event": <chunk>, "state": {...}}`, the state carrying the old-named counts
/// (`input_tokens` on the first chunk, the final `output_tokens` on the finish chunk).
fn legacy_chat_body() -> String {
    let chunks = chat_chunks();
    let last = chunks.len() - 1;
    let wrapped: Vec<Value> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let (input, output) = match i {
                0 => (12, 1),
                i if i == last => (0, 8),
                _ => (0, 0),
            };
            let mut state = json!({
                "generationId": "gen-folds-legacy", "tools": [],
                "usage": {"input_tokens": input, "output_tokens": output}
            });
            if i == last {
                state["finishReason"] = json!("tool_calls");
            }
            json!({"event": chunk, "state": state})
        })
        .collect();
    chat_body(&wrapped)
}

#[test]
fn the_old_stream_format_carries_the_same_unknown_fields() {
    let body = legacy_chat_body();
    assert!(body.starts_with("data: {\"event\":{"), "{body}");
    let old = serde_json::to_value(decode_and_fold(&body)).unwrap();
    assert_eq!(unknowns(&old), chat_unknowns(), "{old:#}");
    assert_named_fields(&old);
    let current = serde_json::to_value(decode_and_fold(&chat_body(&chat_chunks()))).unwrap();
    assert_eq!(old, current);
}

// ---------------------------------------------------------------------------------------------
// 3. OpenRouter chunks, with keep-alive comments anywhere.

const KEEP_ALIVE: &str = ": OPENROUTER PROCESSING\n\n";

/// An OpenRouter stream as section 3 of the facts describes it: `provider` and
/// `system_fingerprint` beside `choices` in every chunk, a choice without a `finish_reason` key,
/// `: OPENROUTER PROCESSING` comments before the first event, between events and between the
/// finish chunk and the usage chunk, and usage with `cost`, `is_byok`, `cost_details` and the
/// four prompt details.
fn openrouter_body() -> String {
    let chunk = |choice: Value, usage: Option<Value>| {
        let mut c = json!({
            "id": "gen-1770000000-FoLdS", "provider": "Anthropic",
            "model": "anthropic/claude-3.5-haiku", "object": "chat.completion.chunk",
            "created": 1770000000, "choices": [choice], "system_fingerprint": "fp_folds"
        });
        if let Some(u) = usage {
            c["usage"] = u;
        }
        c
    };
    let events = [
        chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": "Hi"},
                   "finish_reason": null, "native_finish_reason": null, "logprobs": null}),
            None,
        ),
        // No `finish_reason` key at all.
        chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": " there"}}),
            None,
        ),
        chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": ""},
                   "finish_reason": "stop", "native_finish_reason": "end_turn", "logprobs": null}),
            None,
        ),
        chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": ""},
                   "finish_reason": null, "native_finish_reason": null, "logprobs": null}),
            Some(json!({
                "prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
                "cost": 0.0000346, "is_byok": false,
                "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0,
                                          "audio_tokens": 0, "video_tokens": 0},
                "cost_details": {"upstream_inference_cost": null,
                                 "upstream_inference_prompt_cost": 0.0000096,
                                 "upstream_inference_completions_cost": 0.000025},
                "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": 0}
            })),
        ),
    ];
    let mut body = String::from(KEEP_ALIVE);
    for e in &events {
        body.push_str(&format!("data: {e}\n\n"));
        body.push_str(KEEP_ALIVE);
    }
    body.push_str("data: [DONE]\n\n");
    body
}

fn assert_openrouter_fold(done: &ChatCompletion) {
    assert_eq!(done.provider.as_deref(), Some("Anthropic"));
    assert_eq!(done.system_fingerprint.as_deref(), Some("fp_folds"));
    assert_eq!(done.id.as_deref(), Some("gen-1770000000-FoLdS"));
    let choice = &done.choices[0];
    assert_eq!(
        choice.message.as_ref().unwrap().content.as_deref(),
        Some("Hi there")
    );
    assert_eq!(choice.native_finish_reason.as_deref(), Some("end_turn"));
    let value = serde_json::to_value(done).unwrap();
    assert_eq!(value["choices"][0]["finish_reason"], "stop");
    let usage = done
        .usage
        .as_ref()
        .expect("the usage chunk after the finish");
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (Some(12), Some(5), Some(17))
    );
    assert_eq!(usage.cost, Some(0.0000346));
    assert_eq!(usage.is_byok, Some(false));
    let details = usage.cost_details.as_ref().expect("cost_details");
    assert_eq!(details.upstream_inference_cost, None);
    assert_eq!(
        details.extra.get("upstream_inference_prompt_cost"),
        Some(&json!(0.0000096))
    );
    assert_eq!(
        details.extra.get("upstream_inference_completions_cost"),
        Some(&json!(0.000025))
    );
    let prompt = usage
        .prompt_tokens_details
        .as_ref()
        .expect("prompt details");
    assert_eq!(
        (
            prompt.cached_tokens,
            prompt.cache_write_tokens,
            prompt.audio_tokens,
            prompt.video_tokens
        ),
        (Some(0), Some(0), Some(0), Some(0))
    );
    assert_eq!(
        value["usage"]["completion_tokens_details"],
        json!({"reasoning_tokens": 0, "image_tokens": 0})
    );
}

#[test]
fn openrouter_chunks_between_keep_alive_comments_fold_with_provider_and_cost() {
    let body = openrouter_body();
    assert_eq!(body.matches(KEEP_ALIVE).count(), 5);
    // A comment between the finish chunk and the usage chunk.
    let finish = body.find("\"finish_reason\":\"stop\"").unwrap();
    let after = &body[finish + body[finish..].find("\n\n").unwrap() + 2..];
    assert!(after.starts_with(KEEP_ALIVE), "{after}");
    assert!(after[KEEP_ALIVE.len()..].starts_with("data: {"));
    assert!(
        after.lines().nth(2).unwrap().contains("\"usage\""),
        "{after}"
    );
    assert_eq!(decode_chunks(&body, body.len()).len(), 4);
    assert_openrouter_fold(&decode_and_fold(&body));
}

fn openrouter_request() -> OpenRouterRequest {
    OpenRouterRequest::builder()
        .model(aimlapi::types::KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("hi")])
        .try_into()
        .unwrap()
}

/// A loopback server that streams `body` in pieces of `size` bytes to every request.
async fn serving(body: &str, size: usize) -> Server {
    let chunks = body
        .as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8(c.to_vec()).expect("the bodies are ASCII"))
        .collect();
    Server::start(vec![Reply::Stream {
        chunks,
        stall: false,
    }])
    .await
}

#[tokio::test]
async fn an_openrouter_stream_through_the_client_keeps_provider_and_cost(
) -> Result<(), aimlapi::Error> {
    let body = openrouter_body();
    assert!(body.is_ascii());
    let server = serving(&body, 11).await;
    let client = common::test_client(Provider::open_router(), &server.base_url);

    let done = client
        .chat("anthropic/claude-3.5-haiku")
        .user("hi")
        .stream()
        .await?
        .completion()
        .await?;
    assert_eq!(done.value.provider.as_deref(), Some("Anthropic"));
    assert_openrouter_fold(&done.value);

    // The typed path: a typed request's chunk stream, folded.
    let done = client
        .stream(&openrouter_request(), &RequestOptions::default())
        .await?
        .completion()
        .await?;
    assert_eq!(done.value.provider.as_deref(), Some("Anthropic"));
    assert_openrouter_fold(&done.value);

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert!(
            request
                .request_line
                .starts_with("POST /v1/chat/completions "),
            "{}",
            request.request_line
        );
        assert_eq!(request.body["stream"], true);
        assert_eq!(request.body["model"], "anthropic/claude-3.5-haiku");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. Messages events: every event and every object level carries a field no type names.

const CONTAINER: &str = r#"{"id": "container_011", "expires_at": "2026-12-03T10:00:00Z"}"#;

fn container() -> Value {
    serde_json::from_str(CONTAINER).unwrap()
}

/// A Messages stream: `message_start`, a thinking block (thinking and signature deltas), a
/// `ping`, a text block, a `tool_use` block with `caller` and its input in two
/// `input_json_delta` pieces (the first empty), `message_delta` with `container`,
/// `stop_details` and `server_tool_use`, a top-level `context_management`, `message_stop`.
/// Every event and every object in it carries its own `x_` field; `x_block_repeat` comes twice
/// for the tool block (a scalar: the last stays). The shape of `stop_details` is made up: the
/// facts name the field only.
fn message_events() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "x_message_start": "message-start",
               "message": {"id": "msg_folds_01", "type": "message", "role": "assistant",
                           "model": "claude-sonnet-4-5", "content": [], "stop_reason": null,
                           "stop_sequence": null, "x_message": "message-0",
                           "usage": {"input_tokens": 25, "output_tokens": 1,
                                     "cache_read_input_tokens": 0, "service_tier": "standard",
                                     "x_usage_start": "usage-start"}}}),
        json!({"type": "content_block_start", "index": 0, "x_start": "start-0",
               "content_block": {"type": "thinking", "thinking": "", "signature": "",
                                 "x_block": "block-0"}}),
        json!({"type": "ping", "x_ping": "ping-0"}),
        json!({"type": "content_block_delta", "index": 0, "x_delta_event": "delta-event-0",
               "delta": {"type": "thinking_delta", "thinking": "Look it up.",
                         "x_thinking_delta": "thinking-delta-0"}}),
        json!({"type": "content_block_delta", "index": 0, "x_delta_event_sig": "delta-event-0-sig",
               "delta": {"type": "signature_delta", "signature": "EqFoldsSig",
                         "x_signature_delta": "signature-delta-0"}}),
        json!({"type": "content_block_stop", "index": 0, "x_stop": "stop-0"}),
        json!({"type": "content_block_start", "index": 1, "x_start": "start-1",
               "content_block": {"type": "text", "text": "", "x_block": "block-1"}}),
        json!({"type": "content_block_delta", "index": 1, "x_delta_event": "delta-event-1",
               "delta": {"type": "text_delta", "text": "Checking.",
                         "x_text_delta": "text-delta-1"}}),
        json!({"type": "content_block_stop", "index": 1, "x_stop": "stop-1"}),
        json!({"type": "content_block_start", "index": 2, "x_start": "start-2",
               "content_block": {"type": "tool_use", "id": "toolu_folds", "name": "lookup",
                                 "input": {}, "caller": {"type": "direct"},
                                 "x_block": "block-2"}}),
        json!({"type": "content_block_delta", "index": 2, "x_block_repeat": "first",
               "delta": {"type": "input_json_delta", "partial_json": "",
                         "x_json_delta": "json-delta-2a"}}),
        json!({"type": "content_block_delta", "index": 2, "x_block_repeat": "last",
               "delta": {"type": "input_json_delta", "partial_json": "{\"q\": 1}",
                         "x_json_delta_more": {"piece": 2}}}),
        json!({"type": "content_block_stop", "index": 2, "x_stop": "stop-2"}),
        json!({"type": "message_delta", "x_message_delta": "message-delta",
               "context_management": {"applied_edits": []},
               "delta": {"stop_reason": "tool_use", "stop_sequence": null,
                         "container": container(),
                         "stop_details": {"type": "tool_use", "x_stop_details": "stop-details"},
                         "x_delta": "message-delta-delta"},
               "usage": {"output_tokens": 42, "server_tool_use": {"web_search_requests": 1},
                         "x_usage_delta": "usage-delta"}}),
        json!({"type": "message_stop", "x_message_stop": "message-stop"}),
    ]
}

/// The whole message [`message_events`] fold into.
fn expected_message() -> Value {
    json!({
        "id": "msg_folds_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Look it up.", "signature": "EqFoldsSig",
             "x_block": "block-0", "x_start": "start-0", "x_delta_event": "delta-event-0",
             "x_thinking_delta": "thinking-delta-0", "x_delta_event_sig": "delta-event-0-sig",
             "x_signature_delta": "signature-delta-0", "x_stop": "stop-0"},
            {"type": "text", "text": "Checking.",
             "x_block": "block-1", "x_start": "start-1", "x_delta_event": "delta-event-1",
             "x_text_delta": "text-delta-1", "x_stop": "stop-1"},
            {"type": "tool_use", "id": "toolu_folds", "name": "lookup", "input": {"q": 1},
             "caller": {"type": "direct"},
             "x_block": "block-2", "x_start": "start-2", "x_block_repeat": "last",
             "x_json_delta": "json-delta-2a", "x_json_delta_more": {"piece": 2}, "x_stop": "stop-2"}
        ],
        "stop_reason": "tool_use",
        "stop_details": {"type": "tool_use", "x_stop_details": "stop-details"},
        "container": container(),
        "context_management": {"applied_edits": []},
        "x_message": "message-0",
        "x_message_start": "message-start",
        "x_ping": "ping-0",
        "x_message_delta": "message-delta",
        "x_delta": "message-delta-delta",
        "x_message_stop": "message-stop",
        "usage": {"input_tokens": 25, "output_tokens": 42, "cache_read_input_tokens": 0,
                  "service_tier": "standard", "x_usage_start": "usage-start",
                  "server_tool_use": {"web_search_requests": 1}, "x_usage_delta": "usage-delta"}
    })
}

#[test]
fn every_unknown_field_of_a_messages_stream_reaches_the_message_at_its_level() {
    let body = messages_body(&message_events());
    let message = fold_messages(&body, body.len());
    let split = fold_messages(&body, 5);
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(value, serde_json::to_value(&split).unwrap());
    assert_eq!(unknowns(&value), unknowns(&expected_message()), "{value:#}");
    assert_eq!(value, expected_message(), "{value:#}");

    // `delta.container` at the message's top level; `delta.stop_details` in its own field.
    assert_eq!(value.pointer("/container"), Some(&container()));
    assert_eq!(message.extra.get("container"), Some(&container()));
    assert_eq!(
        message
            .stop_details
            .as_ref()
            .map(|d| Value::Object(d.clone())),
        Some(json!({"type": "tool_use", "x_stop_details": "stop-details"}))
    );
    assert!(!message.extra.contains_key("stop_details"));
    // Usage from `message_start` and `message_delta`, unknown fields of both.
    let usage = message.usage.as_ref().unwrap();
    assert_eq!(
        usage.extra.get("server_tool_use"),
        Some(&json!({"web_search_requests": 1}))
    );
    assert_eq!(usage.extra["x_usage_start"], "usage-start");
    assert_eq!(usage.extra["x_usage_delta"], "usage-delta");
    assert_eq!(usage.output_tokens, Some(42));
    // Block events' fields in that block's `extra`.
    let blocks = message.content.as_ref().unwrap();
    let aimlapi::types::ContentBlock::ToolUseBlock(tool) = &blocks[2] else {
        panic!("a tool_use block: {:?}", blocks[2])
    };
    assert_eq!(tool.extra["caller"], json!({"type": "direct"}));
    assert_eq!(tool.extra["x_stop"], "stop-2");
    assert_eq!(tool.extra["x_block_repeat"], "last");
}

#[tokio::test]
async fn a_messages_stream_through_the_client_keeps_the_container() -> Result<(), aimlapi::Error> {
    let server = serving(&messages_body(&message_events()), 13).await;
    let client = common::test_client(Provider::AimlApi, &server.base_url);
    let done = client
        .chat("claude-sonnet-4-5")
        .user("hi")
        .stream_message()
        .await?
        .completion()
        .await?;
    let value = serde_json::to_value(&done.value).unwrap();
    assert_eq!(value.pointer("/container"), Some(&container()));
    assert_eq!(value, expected_message(), "{value:#}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].request_line.starts_with("POST /v1/messages "),
        "{}",
        seen[0].request_line
    );
    assert_eq!(seen[0].body["stream"], true);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 5. The two fields the folds are most often asked about, each on its own.

#[test]
fn a_container_in_message_delta_folds_into_the_message() {
    let body = messages_body(&[
        json!({"type": "message_start", "message": {"id": "msg_c", "type": "message",
               "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
               "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "container": container()},
               "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]);
    let message = fold_messages(&body, body.len());
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(
        value.get("container"),
        Some(&json!({"id": "container_011", "expires_at": "2026-12-03T10:00:00Z"}))
    );
    assert_eq!(message.stop_reason.as_deref(), Some("end_turn"));
}

#[test]
fn an_openrouter_provider_folds_into_the_completion() {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "gen-p", "provider": "Anthropic", "model": "anthropic/claude-3.5-haiku",
               "object": "chat.completion.chunk", "created": 1,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let body = chat_body(&[
        chunk(json!({"role": "assistant", "content": "ok"}), Value::Null),
        chunk(json!({"content": ""}), json!("stop")),
    ]);
    let done = decode_and_fold(&body);
    assert_eq!(done.provider.as_deref(), Some("Anthropic"));
}

//! The Messages endpoint's event stream folded into the whole message.

use aimlapi::sse::Fold;
use aimlapi::sse::MessageAccumulator;
use aimlapi::types::{MessageResponse, MessageStreamEvent};
use serde_json::json;

const TRANSCRIPT: &str = include_str!("../../../tests/fixtures/messages-stream.txt");

/// The `data:` payloads of the transcript, in order.
fn events(body: &str) -> Vec<MessageStreamEvent> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn fold(events: &[MessageStreamEvent]) -> Result<MessageResponse, aimlapi::Error> {
    let mut acc = MessageAccumulator::new();
    for e in events {
        acc.push(e)?;
    }
    acc.finish()
}

#[test]
fn the_transcript_folds_into_the_whole_message() {
    let message = fold(&events(TRANSCRIPT)).unwrap();
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(
        value,
        json!({
            "id": "msg_01TestThinkingTool",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [
                {"type": "thinking", "thinking": "The user wants the weather in Oslo. I should call get_weather.",
                 "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDfBpCqZ0Xk7Yq8bMiMPq1"},
                {"type": "text", "text": "Let me check the weather in Oslo."},
                {"type": "tool_use", "id": "toolu_01Oslo", "name": "get_weather",
                 "input": {"city": "Oslo", "unit": "celsius"}}
            ],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 412, "output_tokens": 87, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 2048,
                      "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                      "service_tier": "standard"}
        })
    );
    insta::assert_json_snapshot!("messages_stream_folded", value);
}

#[test]
fn a_stream_without_message_stop_is_an_unexpected_end() {
    let all = events(TRANSCRIPT);
    for cut in 0..all.len() {
        let err = fold(&all[..cut]).unwrap_err();
        assert_eq!(
            err.kind(),
            aimlapi::ErrorKind::UnexpectedEnd,
            "cut at {cut}"
        );
    }
}

#[test]
fn an_error_event_ends_the_stream_with_its_kind() {
    let mut all = events(TRANSCRIPT);
    all.insert(
        5,
        serde_json::from_value(json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            .unwrap(),
    );
    let err = fold(&all).unwrap_err();
    assert!(matches!(err, aimlapi::Error::Stream { .. }), "{err:?}");
    assert_eq!(err.kind(), aimlapi::ErrorKind::Overloaded);
    assert!(
        err.to_string().contains("overloaded_error") && err.to_string().contains("Overloaded"),
        "{err}"
    );
}

#[test]
fn unknown_events_deltas_and_blocks_are_kept_or_skipped_never_fatal() {
    let mut all = events(TRANSCRIPT);
    let extra = [
        json!({"type": "content_block_start", "index": 3, "content_block": {"type": "brand_new_block", "payload": [1, 2]}}),
        json!({"type": "content_block_delta", "index": 3, "delta": {"type": "brand_new_delta", "x": 1}}),
        json!({"type": "content_block_stop", "index": 3}),
        json!({"type": "brand_new_event", "data": {}}),
    ];
    let at = all.len() - 2;
    for (i, e) in extra.into_iter().enumerate() {
        all.insert(at + i, serde_json::from_value(e).unwrap());
    }
    let message = fold(&all).unwrap();
    let value = serde_json::to_value(&message).unwrap();
    assert_eq!(
        value["content"][3],
        json!({"type": "brand_new_block", "payload": [1, 2]})
    );
}

#[test]
fn a_tool_input_that_is_not_json_is_a_decode_error() {
    let all: Vec<MessageStreamEvent> = [
        json!({"type": "message_start", "message": {"id": "m", "type": "message", "content": []}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}}),
        json!({"type": "content_block_stop", "index": 0}),
    ]
    .into_iter()
    .map(|v| serde_json::from_value(v).unwrap())
    .collect();
    let err = fold(&all).unwrap_err();
    assert_eq!(err.kind(), aimlapi::ErrorKind::Decode);
}

/// The body decoded piece by piece and folded; an error or an unexpected end as the result.
fn decode_and_fold(pieces: &[&[u8]]) -> Result<MessageResponse, aimlapi::Error> {
    use aimlapi::sse::MessageEventDecoder;
    let mut decoder = MessageEventDecoder::default();
    let mut acc = MessageAccumulator::new();
    for piece in pieces {
        decoder.feed(piece);
        while let Some(event) = decoder.next_event() {
            acc.push(&event?)?;
        }
    }
    decoder.finish();
    while let Some(event) = decoder.next_event() {
        acc.push(&event?)?;
    }
    acc.finish()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
    /// Any split of the transcript's bytes (CRLF line ends too) folds to the same message.
    #[test]
    fn any_split_of_the_body_folds_to_the_same_message(
        cuts in proptest::collection::vec(0usize..4000, 0..40),
        crlf in proptest::bool::ANY,
    ) {
        let body = if crlf { TRANSCRIPT.replace('\n', "\r\n") } else { TRANSCRIPT.to_string() };
        let bytes = body.as_bytes();
        let mut at: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in at {
            pieces.push(&bytes[from..cut]);
            from = cut;
        }
        pieces.push(&bytes[from..]);
        let whole = serde_json::to_value(decode_and_fold(&[bytes]).unwrap()).unwrap();
        let split = serde_json::to_value(decode_and_fold(&pieces).unwrap()).unwrap();
        proptest::prop_assert_eq!(whole, split);
    }
}

/// The body cut after every byte: the whole message once `message_stop` is closed by its blank
/// line, `UnexpectedEnd` before; never a decode error of half an event.
#[test]
fn a_body_cut_anywhere_is_the_message_or_an_unexpected_end() {
    let bytes = TRANSCRIPT.as_bytes();
    let whole = serde_json::to_value(decode_and_fold(&[bytes]).unwrap()).unwrap();
    let mut whole_at = Vec::new();
    for cut in 0..=bytes.len() {
        match decode_and_fold(&[&bytes[..cut]]) {
            Ok(m) => {
                assert_eq!(serde_json::to_value(m).unwrap(), whole, "cut at {cut}");
                whole_at.push(cut);
            }
            Err(e) => assert_eq!(
                e.kind(),
                aimlapi::ErrorKind::UnexpectedEnd,
                "cut at {cut}: {e}"
            ),
        }
    }
    // `message_stop` is the last event: only the whole body, its blank line included, has it.
    assert_eq!(whole_at, [bytes.len()]);
}

#[test]
fn an_error_event_in_the_body_is_the_typed_error() {
    let body = TRANSCRIPT.replace(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
    );
    let err = decode_and_fold(&[body.as_bytes()]).unwrap_err();
    assert!(matches!(err, aimlapi::Error::Stream { .. }), "{err:?}");
    assert_eq!(err.kind(), aimlapi::ErrorKind::Overloaded, "{err}");
    assert!(err.to_string().contains("overloaded_error"), "{err}");
    // Another error type inside a stream keeps the stream's kind.
    let body = body.replace("overloaded_error", "api_error");
    let err = decode_and_fold(&[body.as_bytes()]).unwrap_err();
    assert_eq!(err.kind(), aimlapi::ErrorKind::Stream, "{err}");
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    /// The city's name.
    city: String,
}

/// A two-turn tool loop with thinking on, over the Messages endpoint of the mock (streamed, then
/// not): the second request carries the thinking block with its signature, unchanged, the tool
/// call and its result.
#[tokio::test]
async fn a_tool_loop_with_thinking_sends_the_signed_thinking_back() {
    use aimlapi::tools::{ToolLoop, ToolSpec, Toolbox};
    use aimlapi_mock::{MockServer, Reply};

    for streaming in [true, false] {
        let mock = MockServer::start().await;
        mock.push(
            Reply::tool_call("toolu_1", "get_weather", r#"{"city":"Oslo"}"#)
                .thinking(
                    "The user is in Oslo; I should check the weather.",
                    "sig-Ea1b2c3",
                )
                .usage(30, 12),
        );
        mock.push(Reply::text("7 degrees: take a coat.").usage(60, 5));
        let client = aimlapi::Client::builder()
            .base_url(mock.base_url())
            .api_key("test-key")
            .build()
            .unwrap();
        let tools = Toolbox::new().add(
            ToolSpec::new::<City>("get_weather").unwrap(),
            |c: City| async move { Ok::<_, String>(json!({"city": c.city, "celsius": 7})) },
        );
        let run = client
            .chat("anthropic/claude-sonnet-5")
            .system("Be brief.")
            .user("Do I need a coat in Oslo?")
            .max_tokens(4000)
            .thinking(2048)
            .run_message_tools(
                &tools,
                &ToolLoop {
                    streaming,
                    ..ToolLoop::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(run.steps, 2);
        assert_eq!(
            run.completion.text().as_deref(),
            Some("7 degrees: take a coat.")
        );
        let requests = mock.requests();
        assert_eq!(requests.len(), 2);
        assert!(requests.iter().all(|r| r.path == "/v1/messages"));
        let mut second = requests[1].body.clone();
        let tools_sent = second.as_object_mut().unwrap().remove("tools").unwrap();
        assert_eq!(tools_sent[0]["name"], "get_weather");
        assert!(tools_sent[0]["input_schema"].is_object());
        let mut expected = json!({
            "model": "anthropic/claude-sonnet-5",
            "system": "Be brief.",
            "messages": [
                {"role": "user", "content": "Do I need a coat in Oslo?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "The user is in Oslo; I should check the weather.", "signature": "sig-Ea1b2c3"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"celsius\":7,\"city\":\"Oslo\"}"}]}
            ],
            "max_tokens": 4000,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
        });
        if streaming {
            expected["stream"] = json!(true);
        }
        assert_eq!(second, expected, "streaming: {streaming}");
    }
}

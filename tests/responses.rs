//! Every documented response and stream chunk parses into the generated types (lenient responses).

use aimlapi_tests::{data_lines, fixture_json};
use aimlapi_types::{
    ChatCompletion, ChatCompletionChunk, ChunkChoiceFinishReason, FinishReason, KnownFinishReason,
};

fn parse(name: &str) -> ChatCompletion {
    serde_json::from_value(fixture_json(name))
        .unwrap_or_else(|e| panic!("{name} does not parse: {e}"))
}

#[test]
fn documented_responses_parse_and_keep_what_the_api_sent() {
    for (name, text, tokens) in [
        ("seed-000-response.json", "Hi there! How are you doing today? Is there anything I can help you with?", (17, 221, 238)),
        ("seed-001-response.json", "Hi! How can I help you today?", (50, 378, 428)),
        (
            "seed-003-response.json",
            "Hello! I'm just a program, so I don't have feelings, but I'm here and ready to help you. How can I assist you today?",
            (137, 914, 1051),
        ),
    ] {
        let c = parse(name);
        let choice = &c.choices[0];
        let index: i64 = choice.index;
        assert_eq!(index, 0);
        let message = choice.message.as_ref().expect("a message");
        assert_eq!(message.content.as_deref(), Some(text), "{name}");
        let usage = c.usage.as_ref().expect("usage");
        let counts: (i64, i64, i64) = (usage.prompt_tokens.unwrap(), usage.completion_tokens.unwrap(), usage.total_tokens.unwrap());
        assert_eq!(counts, tokens, "{name}");
        let created: i64 = c.created.expect("created");
        assert!(created > 1_700_000_000);
        insta::assert_json_snapshot!(name, c);
    }
}

#[test]
fn an_unknown_finish_reason_is_kept_not_rejected() {
    let c = parse("seed-000-response.json");
    match &c.choices[0].finish_reason {
        Some(FinishReason::String(s)) => assert_eq!(s, "end_turn"),
        other => panic!("end_turn should be kept as an unknown value, got {other:?}"),
    }
    assert_eq!(
        c.choices[0]
            .message
            .as_ref()
            .unwrap()
            .reasoning_content
            .as_deref(),
        Some("")
    );
    // Known values are typed.
    let c = parse("seed-003-response.json");
    assert!(matches!(
        c.choices[0].finish_reason,
        Some(FinishReason::KnownFinishReason(KnownFinishReason::Stop))
    ));
    // And an unknown value goes back out as it came in.
    let back = serde_json::to_value(parse("seed-000-response.json")).unwrap();
    assert_eq!(back["choices"][0]["finish_reason"], "end_turn");
}

#[test]
fn every_chunk_of_the_documented_stream_parses() {
    let lines = data_lines("seed-003-stream.txt");
    assert_eq!(lines.len(), 38, "the transcript has 38 data lines");
    let chunks: Vec<ChatCompletionChunk> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("data line {} does not parse: {e}\n{l}", i + 1))
        })
        .collect();
    // Chunks after the first have an empty id.
    assert_eq!(
        chunks[0].id.as_deref(),
        Some("msg_01MuATe8QKEhnksWHddPGVMD")
    );
    assert!(chunks[1..].iter().all(|c| c.id.as_deref() == Some("")));
    // Most chunks carry no finish_reason; the last one carries no delta.
    assert_eq!(
        chunks
            .iter()
            .filter(|c| c.choices[0].finish_reason.is_none())
            .count(),
        36
    );
    let last = chunks.last().unwrap();
    assert!(last.choices[0].delta.is_none());
    assert!(matches!(
        last.choices[0].finish_reason,
        Some(ChunkChoiceFinishReason::ChunkChoiceKnownFinishReason(_))
    ));
    // One chunk carries the usage, as integers.
    let usage: Vec<_> = chunks.iter().filter_map(|c| c.usage.as_ref()).collect();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (
            usage[0].prompt_tokens,
            usage[0].completion_tokens,
            usage[0].total_tokens
        ),
        (Some(16), Some(77), Some(93))
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices[0].delta.as_ref()?.content.clone())
        .collect();
    assert!(
        text.starts_with("I want to be direct and balanced in my response."),
        "{text}"
    );
    insta::assert_json_snapshot!(chunks);
}

#[test]
fn an_openrouter_error_chunk_parses_with_its_code_and_message() {
    // The shape api-facts describes: a top-level `error` and `finish_reason: "error"`, status 200.
    let line = r#"{"id":"gen-1","object":"chat.completion.chunk","created":1770995942,"model":"anthropic/claude-3.5-haiku","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#;
    let chunk: ChatCompletionChunk = serde_json::from_str(line).unwrap();
    let error = chunk.error.expect("the error");
    assert_eq!(error.message.as_deref(), Some("Provider returned error"));
    assert_eq!(
        serde_json::to_value(&error.code).unwrap(),
        serde_json::json!(502)
    );
    assert_eq!(
        serde_json::to_value(&chunk.choices[0].finish_reason).unwrap(),
        "error"
    );
}

#[test]
fn a_messages_content_block_reads_as_what_it_is() {
    use aimlapi_types::{ContentBlock, MessageResponse};
    // Kinds beyond the documented ones, as the facts about what real servers send list them
    // (api-facts, "What real servers send"): server tool results of several kinds, MCP tool use
    // and results, compaction, container uploads. The ids and text are made up.
    let body = serde_json::json!({"id": "msg_01", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", "content": [
        {"type": "text", "text": "Here is what I found."},
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "tides"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": []},
        {"type": "mcp_tool_use", "id": "mcptoolu_01", "name": "lookup", "server_name": "docs", "input": {}},
        {"type": "mcp_tool_result", "tool_use_id": "mcptoolu_01", "is_error": false, "content": []},
        {"type": "container_upload", "file_id": "file_01"},
        {"type": "compaction", "content": "Earlier turns, summarised."}]});
    let message: MessageResponse = serde_json::from_value(body).unwrap();
    let kinds: Vec<String> = message
        .content
        .unwrap()
        .iter()
        .map(|b| match b {
            ContentBlock::TextBlock(_) => "text".into(),
            ContentBlock::ServerToolUseBlock(_) => "server tool use".into(),
            ContentBlock::ServerToolResultBlock(b) => {
                format!("server tool result {}", b.tool_use_id)
            }
            ContentBlock::OtherKind(b) => format!("other {}", b.type_),
            other => format!("{other:?}"),
        })
        .collect();
    // A result answers a call (`tool_use_id`); any other kind is kept as `OtherKind`, its
    // fields in `extra`.
    assert_eq!(
        kinds,
        [
            "text",
            "server tool use",
            "server tool result srvtoolu_01",
            "other mcp_tool_use",
            "server tool result mcptoolu_01",
            "other container_upload",
            "other compaction"
        ]
    );
}

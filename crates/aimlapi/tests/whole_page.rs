//! The whole page from the conversation API: requests to the Messages endpoint checked against
//! the Messages shape (not the model's chat page), tool choice in each dialect, tools from JSON
//! schemas and server tools, structured outputs on every page, turns sent back as they came.

use aimlapi::chat::{
    Cache, Outcome, ServerTool, ThinkingDisplay, ThinkingMode, ToolChoice, WebSearch,
};
use aimlapi::schemars::JsonSchema;
use aimlapi::tools::{ToolLoop, ToolSpec, Toolbox};
use aimlapi::{Client, ErrorKind, Provider, RequestOptions};
use aimlapi_mock::{MockServer, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

mod common;

fn client(mock: &MockServer) -> Client {
    common::test_client(Provider::AimlApi, mock.base_url())
}

/// `claude-haiku-4-5` has a chat page and no Messages page: what the Messages shape documents
/// goes to `/v1/messages` for it, whatever the chat page says.
#[tokio::test]
async fn the_messages_shape_decides_on_the_messages_endpoint() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let model = "claude-haiku-4-5";
    assert!(aimlapi::Model::from_id(model).messages_page().is_none());
    let base = || {
        aiml.chat(model)
            .system("You answer from the handbook.")
            .cache(Cache::OneHour)
            .user("What does chapter 2 say?")
            .cache(Cache::FiveMinutes)
            .max_tokens(4000)
            .stop(["END"])
    };
    base()
        .send_message()
        .await
        .expect("cache_control and stop_sequences are sent");
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["system"][0]["cache_control"]["ttl"], "1h");
    assert_eq!(
        body["messages"][0]["content"][0]["cache_control"]["ttl"],
        "5m"
    );
    assert_eq!(body["stop_sequences"], json!(["END"]));
    for mode in [
        ThinkingMode::Enabled {
            budget_tokens: 2048,
        },
        ThinkingMode::Adaptive,
        ThinkingMode::Disabled,
    ] {
        base()
            .thinking(mode)
            .send_message()
            .await
            .unwrap_or_else(|e| panic!("thinking {} refused: {e}", mode.kind()));
        let body = mock.requests().pop().unwrap().body;
        assert_eq!(body["thinking"]["type"], mode.kind());
    }
    base()
        .thinking(ThinkingMode::Adaptive)
        .thinking_display(ThinkingDisplay::Omitted)
        .send_message()
        .await
        .expect("display is in the Messages shape");
    assert_eq!(
        mock.requests().pop().unwrap().body["thinking"]["display"],
        "omitted"
    );

    // What no page of the endpoint lists is refused before sending, naming it, and goes with
    // the opt-in.
    let sent = mock.requests().len();
    let refused = base()
        .fallback_models(["claude-sonnet-4-5"])
        .send_message()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    let text = refused.to_string();
    assert!(
        text.contains("`models`") && text.contains("send_unsupported"),
        "{text}"
    );
    assert_eq!(mock.requests().len(), sent, "nothing was sent");
    base()
        .fallback_models(["claude-sonnet-4-5"])
        .options(RequestOptions {
            send_unsupported: true,
            ..RequestOptions::default()
        })
        .send_message()
        .await
        .ok();
    assert_eq!(
        mock.requests().pop().unwrap().body["models"],
        json!(["claude-sonnet-4-5"])
    );
}

fn lookup_schema() -> Value {
    // A schema as an MCP server hands it out: a title, its own description, definitions.
    json!({
        "title": "LookupArguments",
        "description": "What to look up.",
        "type": "object",
        "properties": {"word": {"$ref": "#/$defs/word"}, "lang": {"type": "string", "title": "Language"}},
        "required": ["word"],
        "$defs": {"word": {"type": "string", "description": "One word.", "minLength": 1}}
    })
}

fn lookup() -> ToolSpec {
    ToolSpec::from_schema("lookup", Some("Looks a word up."), lookup_schema()).unwrap()
}

/// One page of each dialect on the chat endpoint: (model, page), and whether it writes blocks.
const DIALECTS: &[(&str, &str, bool)] = &[
    ("claude-3-5-haiku-latest", "claude-3-5-haiku", false),
    ("claude-sonnet-4-5", "claude-sonnet-4-5", true),
    ("anthropic/claude-opus-5", "claude-opus-5", true),
];

/// Each form of tool choice, with the body each dialect writes: (`tool_choice` in the OpenAI
/// style and `parallel_tool_calls`, `tool_choice` in the Anthropic style).
fn forms() -> Vec<(ToolChoice, Value, Option<bool>, Value)> {
    vec![
        (
            ToolChoice::auto(),
            json!("auto"),
            None,
            json!({"type": "auto"}),
        ),
        (
            ToolChoice::none(),
            json!("none"),
            None,
            json!({"type": "none"}),
        ),
        (
            ToolChoice::any(),
            json!("required"),
            None,
            json!({"type": "any"}),
        ),
        (
            ToolChoice::tool("lookup"),
            json!({"type": "function", "function": {"name": "lookup"}}),
            None,
            json!({"type": "tool", "name": "lookup"}),
        ),
        (
            ToolChoice::auto().parallel(false),
            json!("auto"),
            Some(false),
            json!({"type": "auto", "disable_parallel_tool_use": true}),
        ),
        (
            ToolChoice::tool("lookup").parallel(false),
            json!({"type": "function", "function": {"name": "lookup"}}),
            Some(false),
            json!({"type": "tool", "name": "lookup", "disable_parallel_tool_use": true}),
        ),
        (
            ToolChoice::none().parallel(false),
            json!("none"),
            Some(false),
            json!({"type": "none"}),
        ),
    ]
}

#[tokio::test]
async fn every_tool_choice_is_written_in_each_dialect_and_validates() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let openrouter = common::openrouter_client(mock.base_url());
    for (choice, openai, parallel, anthropic) in forms() {
        for (model, page, blocks) in DIALECTS {
            let body = aiml
                .chat(*model)
                .user("Look up 'tea'.")
                .max_tokens(1000)
                .tool(lookup())
                .tool_choice(choice.clone())
                .body()
                .unwrap();
            let want = if *blocks { &anthropic } else { &openai };
            assert_eq!(&body["tool_choice"], want, "{model} {choice:?}");
            let parallel_written = body.get("parallel_tool_calls").and_then(Value::as_bool);
            assert_eq!(parallel_written, parallel.filter(|_| !blocks), "{model}");
            common::assert_valid_against(page, &body);
        }
        // OpenRouter writes the OpenAI form.
        let body = openrouter
            .chat("anthropic/claude-3.5-haiku")
            .user("Look up 'tea'.")
            .tool(lookup())
            .tool_choice(choice.clone())
            .body()
            .unwrap();
        assert_eq!(body["tool_choice"], openai);
        assert_eq!(
            body.get("parallel_tool_calls").and_then(Value::as_bool),
            parallel
        );
        common::assert_valid_against("openrouter-claude-3-5-haiku", &body);
        // The Messages endpoint writes the Anthropic form; the mock validates it too.
        mock.push(Reply::text("ok"));
        aiml.chat("anthropic/claude-opus-5")
            .user("Look up 'tea'.")
            .max_tokens(1000)
            .tool(lookup())
            .tool_choice(choice.clone())
            .send_message()
            .await
            .unwrap_or_else(|e| panic!("{choice:?}: {e}"));
        let body = mock.requests().pop().unwrap().body;
        assert_eq!(body["tool_choice"], anthropic);
        common::assert_valid_against("claude-opus-5-MESSAGES", &body);
    }
}

#[tokio::test]
async fn a_tool_choice_the_api_would_refuse_is_refused_before_sending() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let absent = aiml
        .chat("claude-sonnet-4-5")
        .user("hi")
        .tool(lookup())
        .tool_choice(ToolChoice::tool("search"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(absent.kind(), ErrorKind::InvalidRequest);
    assert!(
        absent.to_string().contains("`search`") && absent.to_string().contains("`lookup`"),
        "{absent}"
    );
    let none_offered = aiml
        .chat("claude-sonnet-4-5")
        .user("hi")
        .tool_choice(ToolChoice::any())
        .send_message()
        .await
        .unwrap_err();
    assert_eq!(none_offered.kind(), ErrorKind::InvalidRequest);
    for thinking in [
        ThinkingMode::Adaptive,
        ThinkingMode::Enabled {
            budget_tokens: 2048,
        },
    ] {
        let forced = aiml
            .chat("anthropic/claude-opus-5")
            .user("hi")
            .max_tokens(4000)
            .thinking(thinking)
            .tool(lookup())
            .tool_choice(ToolChoice::tool("lookup"))
            .send_message()
            .await
            .unwrap_err();
        assert_eq!(forced.kind(), ErrorKind::InvalidRequest);
        assert!(forced.to_string().contains("thinking"), "{forced}");
    }
    // `auto` and `none` go with thinking.
    aiml.chat("anthropic/claude-opus-5")
        .user("hi")
        .max_tokens(4000)
        .thinking(ThinkingMode::Adaptive)
        .tool(lookup())
        .tool_choice(ToolChoice::none())
        .send_message()
        .await
        .unwrap();
    assert_eq!(mock.requests().len(), 1, "only the last request was sent");
}

#[tokio::test]
async fn a_tool_loop_forced_on_its_first_step_ends() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let tools = Toolbox::new().add(lookup(), |args: Value| async move {
        Ok::<_, String>(format!("found {}", args["word"]))
    });
    mock.push(Reply::tool_call("call_1", "lookup", r#"{"word": "tea"}"#));
    mock.push(Reply::text("Tea is a drink."));
    let run = aiml
        .chat("claude-sonnet-4-5")
        .user("What is tea?")
        .max_tokens(1000)
        .tool_choice(ToolChoice::tool("lookup"))
        .run_tools(&tools, &ToolLoop::default())
        .await
        .unwrap();
    assert_eq!(run.steps, 2);
    let sent = mock.requests();
    assert_eq!(
        sent[0].body["tool_choice"],
        json!({"type": "tool", "name": "lookup"})
    );
    assert_eq!(
        sent[1].body["tool_choice"],
        json!({"type": "auto"}),
        "back to auto after the forced step"
    );
}

#[tokio::test]
async fn a_schema_tool_goes_out_as_given_in_both_dialects() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let given = lookup_schema();
    for strict in [false, true] {
        let tool = lookup().strict(strict);
        let openai = aiml
            .chat("claude-3-5-haiku-latest")
            .user("hi")
            .tool(tool.clone())
            .body()
            .unwrap();
        assert_eq!(openai["tools"][0]["function"]["parameters"], given);
        assert_eq!(
            openai["tools"][0]["function"]["description"],
            "Looks a word up."
        );
        assert_eq!(
            openai["tools"][0]["function"].get("strict").is_some(),
            strict
        );
        let blocks = aiml
            .chat("anthropic/claude-opus-5")
            .user("hi")
            .tool(tool.clone())
            .body()
            .unwrap();
        assert_eq!(blocks["tools"][0]["input_schema"], given);
        assert_eq!(
            blocks["tools"][0].get("strict").is_some(),
            strict,
            "the hybrid page takes strict"
        );
        mock.push(Reply::text("ok"));
        aiml.chat("anthropic/claude-opus-5")
            .user("hi")
            .max_tokens(100)
            .tool(tool)
            .send_message()
            .await
            .unwrap();
        assert_eq!(
            mock.requests().pop().unwrap().body["tools"][0]["input_schema"],
            given
        );
    }
}

#[tokio::test]
async fn server_tools_go_where_the_pages_take_them() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let chat = |model: &str| {
        aiml.chat(model)
            .user("What is new in Rust?")
            .max_tokens(1000)
            .server_tool(
                WebSearch::new()
                    .max_uses(2)
                    .allowed_domains(["blog.rust-lang.org"]),
            )
            .server_tool(ServerTool::tool_search_regex())
            .tool(lookup().defer_loading(true).cache(Cache::FiveMinutes))
    };
    mock.push(Reply::text("ok"));
    chat("anthropic/claude-opus-5")
        .send_message()
        .await
        .unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["tools"][0]["defer_loading"], true);
    assert_eq!(body["tools"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(
        body["tools"][1],
        json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 2,
               "allowed_domains": ["blog.rust-lang.org"]})
    );
    assert_eq!(body["tools"][2]["type"], "tool_search_tool_regex_20251119");
    common::assert_valid_against("claude-opus-5-MESSAGES", &body);
    let hybrid = chat("anthropic/claude-opus-5").body().unwrap();
    common::assert_valid_against("claude-opus-5", &hybrid);
    // An OpenAI-style page takes no server tool: refused, naming it.
    let refused = aiml
        .chat("claude-3-5-haiku-latest")
        .user("What is new in Rust?")
        .server_tool(WebSearch::new())
        .body()
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    assert!(
        refused.to_string().contains("web_search_20250305"),
        "{refused}"
    );
}

/// The answer of structured outputs in these tests.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[schemars(crate = "aimlapi::schemars")]
struct City {
    /// The city's name.
    name: String,
    /// How many live there.
    population: u64,
}

const OSLO: &str = r#"{"name": "Oslo", "population": 709000}"#;

fn oslo() -> City {
    City {
        name: "Oslo".into(),
        population: 709000,
    }
}

#[tokio::test]
async fn structured_outputs_work_the_same_on_every_page() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let ask = |c: &Client, model: &str| {
        c.chat(model)
            .user("The largest city of Norway?")
            .max_tokens(1000)
    };

    // A page with `response_format`: json_schema, strict; the text is the value.
    mock.push(Reply::text(OSLO));
    let out = ask(&aiml, "claude-3-5-haiku-latest")
        .output::<City>()
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(out.value().unwrap(), oslo());
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "City");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert!(body.get("tool_choice").is_none());
    common::assert_valid(&body);

    // An Anthropic-style chat page: one forced tool; its input is the value.
    mock.push(Reply::tool_call("toolu_1", "City", OSLO));
    let out = ask(&aiml, "claude-sonnet-4-5")
        .output::<City>()
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(out.value().unwrap(), oslo());
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "City"}));
    assert_eq!(body["tools"][0]["name"], "City");
    assert_eq!(
        body["tools"][0]["input_schema"]["required"],
        json!(["name", "population"])
    );
    common::assert_valid(&body);

    // The Messages endpoint: the same tool.
    mock.push(Reply::tool_call("toolu_2", "City", OSLO));
    let out = ask(&aiml, "anthropic/claude-opus-5")
        .output::<City>()
        .unwrap()
        .send_message()
        .await
        .unwrap();
    assert_eq!(out.value().unwrap(), oslo());
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["tool_choice"], json!({"type": "tool", "name": "City"}));

    // OpenRouter: its page takes response_format.
    let openrouter = common::openrouter_client(mock.base_url());
    mock.push(Reply::text(OSLO));
    let out = ask(&openrouter, "anthropic/claude-3.5-haiku")
        .output::<City>()
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(out.value().unwrap(), oslo());
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["response_format"]["type"], "json_schema");
    common::assert_valid_against("openrouter-claude-3-5-haiku", &body);

    // With thinking on: no forced tool; the schema asked for in the system prompt, the text
    // (here in a fence) parsed.
    mock.push(Reply::text(format!("```json\n{OSLO}\n```")).thinking("Oslo, surely.", "sig"));
    let out = ask(&aiml, "anthropic/claude-opus-5")
        .system("Be exact.")
        .thinking(ThinkingMode::Adaptive)
        .output::<City>()
        .unwrap()
        .send_message()
        .await
        .unwrap();
    assert_eq!(out.value().unwrap(), oslo());
    let body = mock.requests().pop().unwrap().body;
    assert!(
        body.get("tool_choice").is_none() && body.get("tools").is_none(),
        "{body}"
    );
    let system = body["system"].as_str().unwrap();
    assert!(
        system.starts_with("Be exact.") && system.contains("\"population\""),
        "{system}"
    );
}

#[tokio::test]
async fn an_answer_that_is_not_the_type_and_a_refusal_are_typed() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    mock.push(Reply::text("Oslo, I think."));
    let err = aiml
        .chat("claude-3-5-haiku-latest")
        .user("The largest city of Norway?")
        .output::<City>()
        .unwrap()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    match &err {
        aimlapi::Error::Output { text, expected, .. } => {
            assert_eq!(text, "Oslo, I think.");
            assert_eq!(expected, "City");
        }
        other => panic!("{other:?}"),
    }
    mock.push(Reply::text("I can't help with that.").finish_reason("refusal"));
    let out = aiml
        .chat("anthropic/claude-opus-5")
        .user("Something I should not ask")
        .max_tokens(100)
        .output::<City>()
        .unwrap()
        .send_message()
        .await
        .unwrap();
    assert_eq!(
        out.outcome,
        Outcome::Refused("I can't help with that.".into())
    );
}

#[tokio::test]
async fn every_block_the_model_sent_goes_back_as_it_came() {
    // The mock validates against the bundled pages, which name no block type they have not seen;
    // the body is validated below without that block.
    let mock = MockServer::builder().validate(false).start().await.unwrap();
    let aiml = client(&mock);
    let blocks = json!([
        {"type": "thinking", "thinking": "Search first.", "signature": "sig-1"},
        {"type": "text", "text": "Let me look."},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "rust 2026 edition"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "url": "https://blog.rust-lang.org/", "title": "Rust Blog",
             "encrypted_content": "EqgfCioIARgBIiQ3YTAw", "page_age": "April 30, 2026"}]},
        {"type": "text", "text": "The 2026 edition is planned.", "citations": [
            {"type": "web_search_result_location", "url": "https://blog.rust-lang.org/", "title": "Rust Blog",
             "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0", "cited_text": "The 2026 edition"}]},
        {"type": "compaction_summary_20261101", "summary": "a block no one has named", "nested": {"n": 3, "x": [1.5, null, true]}}
    ]);
    let answer = json!({
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-opus-5",
        "content": blocks, "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 20}
    });
    mock.push(Reply::status(200).body(answer.to_string()));
    let chat = aiml
        .chat("anthropic/claude-opus-5")
        .user("What is new in Rust?")
        .max_tokens(2000)
        .server_tool(WebSearch::new());
    let first = chat.send_message().await.unwrap();
    mock.push(Reply::text("You are welcome."));
    chat.clone()
        .turn(first.turn())
        .user("Thanks.")
        .send_message()
        .await
        .unwrap();
    let next = mock.requests().pop().unwrap().body;
    assert_eq!(next["messages"][1]["role"], "assistant");
    assert_eq!(
        next["messages"][1]["content"], blocks,
        "the turn goes back as it came"
    );
    let mut named = next.clone();
    named["messages"][1]["content"]
        .as_array_mut()
        .unwrap()
        .pop();
    common::assert_valid_against("claude-opus-5-MESSAGES", &named);

    // OpenRouter's reasoning_details, with their signatures, the same way.
    let details = json!([
        {"type": "reasoning.text", "text": "Think.", "signature": "sig-or", "format": "anthropic-claude-v1", "index": 0},
        {"type": "reasoning.encrypted", "data": "ZW5jcnlwdGVk", "format": "anthropic-claude-v1", "index": 1}
    ]);
    let completion = json!({
        "id": "gen-1", "object": "chat.completion", "model": "anthropic/claude-3.5-haiku",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hi.", "reasoning_details": details}}]
    });
    let openrouter = common::openrouter_client(mock.base_url());
    mock.push(Reply::status(200).body(completion.to_string()));
    let chat = openrouter.chat("anthropic/claude-3.5-haiku").user("Hello");
    let first = chat.send().await.unwrap();
    let next = chat.turn(first.turn()).user("Again.").body().unwrap();
    assert_eq!(next["messages"][1]["reasoning_details"], details);
    assert_eq!(next["messages"][1]["content"], "Hi.");
    common::assert_valid_against("openrouter-claude-3-5-haiku", &next);
    // An OpenAI-style page of the AI/ML API closes its assistant message: left out there.
    let elsewhere = aiml
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .turn(first.turn())
        .user("Again.")
        .body()
        .unwrap();
    assert!(elsewhere["messages"][1].get("reasoning_details").is_none());
    common::assert_valid(&elsewhere);
}

#[tokio::test]
async fn tool_input_and_structured_output_read_as_json_while_they_stream() {
    use futures::StreamExt;
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    // A forced tool on an Anthropic-style page: its arguments arrive in pieces.
    mock.push(Reply::tool_call("toolu_1", "City", OSLO));
    let mut stream = aiml
        .chat("claude-sonnet-4-5")
        .user("The largest city of Norway?")
        .max_tokens(1000)
        .output::<City>()
        .unwrap()
        .stream()
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(value) = stream.next().await {
        seen.push(value.unwrap());
    }
    assert!(seen.len() > 2, "the value grew piece by piece: {seen:?}");
    assert!(seen.iter().all(Value::is_object), "{seen:?}");
    assert_eq!(
        seen.last().unwrap(),
        &serde_json::from_str::<Value>(OSLO).unwrap()
    );
    assert_eq!(stream.output().await.unwrap().value().unwrap(), oslo());

    // On a response_format page the text is the value.
    mock.push(Reply::text(OSLO));
    let mut stream = aiml
        .chat("claude-3-5-haiku-latest")
        .user("The largest city of Norway?")
        .output::<City>()
        .unwrap()
        .stream()
        .await
        .unwrap();
    let mut last = Value::Null;
    while let Some(value) = stream.next().await {
        last = value.unwrap();
    }
    assert_eq!(last["name"], "Oslo");

    // The Messages endpoint: the fold offers a tool_use block's input so far.
    mock.push(Reply::tool_call(
        "toolu_2",
        "lookup",
        r#"{"word": "tea", "lang": "en"}"#,
    ));
    let mut events = aiml
        .chat("anthropic/claude-opus-5")
        .user("Look up tea")
        .max_tokens(100)
        .tool(lookup())
        .stream_message()
        .await
        .unwrap();
    let mut fold = aimlapi::sse::MessageAccumulator::new();
    let mut partial = Vec::new();
    while let Some(event) = events.next().await {
        let event = event.unwrap();
        aimlapi::sse::Fold::push(&mut fold, &event).unwrap();
        if let Some(input) = fold.tool_input(0) {
            partial.push(input);
        }
    }
    assert!(partial.iter().all(Value::is_object), "{partial:?}");
    assert_eq!(
        partial.last().unwrap(),
        &json!({"word": "tea", "lang": "en"})
    );
}

#[tokio::test]
async fn a_system_message_stands_where_the_dialect_can_carry_it() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let chat = |model: &str| {
        aiml.chat(model)
            .system("Be brief.")
            .user("Hello.")
            .assistant("Hi.")
            .system_message("From now on, answer in French.")
            .user("How are you?")
            .max_tokens(100)
    };
    let openai = chat("claude-3-5-haiku-latest").body().unwrap();
    assert_eq!(
        openai["messages"][3],
        json!({"role": "system", "content": "From now on, answer in French."})
    );
    assert_eq!(openai["messages"].as_array().unwrap().len(), 5);
    common::assert_valid(&openai);
    let blocks = chat("anthropic/claude-opus-5").body().unwrap();
    assert_eq!(
        blocks["system"],
        json!([{"type": "text", "text": "Be brief."},
               {"type": "text", "text": "From now on, answer in French."}])
    );
    assert_eq!(blocks["messages"].as_array().unwrap().len(), 3);
    common::assert_valid(&blocks);
}

//! One conversation, written once, sent to every kind of model page and to OpenRouter: each body
//! as it reached a recording server (the mock), asserted whole and validated against the request
//! schema of the model's page.

use aimlapi::chat::Unsupported;
use aimlapi::{Client, Content, Conversation, ErrorKind, Provider};
use aimlapi_mock::MockServer;
use serde_json::{json, Value};

mod common;
use common::assert_valid;

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

/// System prompt, a user turn with an image, an assistant turn with a tool call, its result,
/// and a follow-up.
fn conversation() -> Conversation {
    Conversation::new()
        .system("Be brief.")
        .user(Content::text("Where was this taken?").image_base64("image/png", PNG))
        .assistant("Let me look up the weather there.")
        .tool_call("call_1", "get_weather", &json!({"city": "Oslo"}))
        .tool_result("call_1", r#"{"temperature": 7}"#)
        .user("So, do I need a coat?")
}

fn client(mock: &MockServer, provider: Provider) -> Client {
    common::test_client(provider, mock.base_url())
}

fn openai_messages() -> Value {
    json!([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "Where was this taken?"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{PNG}")}}]},
        {"role": "assistant", "content": "Let me look up the weather there.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 7}"},
        {"role": "user", "content": "So, do I need a coat?"}
    ])
}

fn anthropic_messages() -> Value {
    json!([
        {"role": "user", "content": [
            {"type": "text", "text": "Where was this taken?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me look up the weather there."},
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "{\"temperature\": 7}"},
            {"type": "text", "text": "So, do I need a coat?"}]}
    ])
}

#[tokio::test]
async fn one_conversation_goes_out_in_each_page_s_shape() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let openrouter = client(&mock, Provider::open_router());
    let cases: Vec<(&Client, &str, Value)> = vec![
        // Claude 3.5 Haiku: OpenAI-style messages.
        (
            &aiml,
            "claude-3-5-haiku-latest",
            json!({"model": "claude-3-5-haiku-latest", "messages": openai_messages(), "temperature": 0.2, "max_tokens": 300}),
        ),
        // Claude 3.5 Sonnet: Anthropic-style on the chat endpoint.
        (
            &aiml,
            "claude-3-5-sonnet-latest",
            json!({"model": "claude-3-5-sonnet-latest", "system": "Be brief.", "messages": anthropic_messages(), "temperature": 0.2, "max_tokens": 300}),
        ),
        // Sonnet 4.5: the same shape.
        (
            &aiml,
            "claude-sonnet-4-5",
            json!({"model": "claude-sonnet-4-5", "system": "Be brief.", "messages": anthropic_messages(), "temperature": 0.2, "max_tokens": 300}),
        ),
        // OpenRouter: its own body and its spelling of the id.
        (
            &openrouter,
            "claude-3-5-haiku-latest",
            json!({"model": "anthropic/claude-3.5-haiku", "messages": openai_messages(), "temperature": 0.2, "max_tokens": 300}),
        ),
    ];
    for (client, model, expected) in cases {
        let done = client
            .chat(model)
            .conversation(conversation())
            .temperature(0.2)
            .max_tokens(300)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert!(done.text().is_some(), "{model}");
        let sent = mock.requests().pop().unwrap().body;
        assert_eq!(sent, expected, "{model}");
        assert_valid(&sent);
    }
}

#[tokio::test]
async fn pages_without_sampling_refuse_it_or_drop_it_when_asked() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    for model in [
        "claude-opus-4-7",
        "anthropic/claude-opus-5",
        "anthropic/claude-sonnet-latest",
    ] {
        let err = aiml
            .chat(model)
            .conversation(conversation())
            .temperature(0.2)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{model}: {err}");
        let text = err.to_string();
        assert!(
            text.contains(model) && text.contains("`temperature`"),
            "{text}"
        );
    }
    assert!(mock.requests().is_empty(), "nothing was sent");

    for model in [
        "claude-opus-4-7",
        "anthropic/claude-opus-5",
        "anthropic/claude-sonnet-latest",
    ] {
        aiml.chat(model)
            .conversation(conversation())
            .temperature(0.2)
            .max_tokens(300)
            .unsupported(Unsupported::Drop)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        let sent = mock.requests().pop().unwrap().body;
        assert_eq!(
            sent,
            json!({"model": model, "system": "Be brief.", "messages": anthropic_messages(), "max_tokens": 300}),
            "{model}"
        );
        assert_valid(&sent);
    }
}

#[tokio::test]
async fn an_image_url_where_the_page_takes_base64_only_is_refused_before_sending() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let err = aiml
        .chat("claude-sonnet-4-5")
        .user(Content::text("What is this?").image_url("https://example.com/a.png"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("base64"), "{err}");
    assert!(mock.requests().is_empty());
    // The hybrid pages and the OpenAI-style ones take URLs.
    for model in ["anthropic/claude-opus-5", "claude-3-5-haiku-latest"] {
        aiml.chat(model)
            .user(Content::text("What is this?").image_url("https://example.com/a.png"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_valid(&mock.requests().pop().unwrap().body);
    }
}

#[tokio::test]
async fn an_unknown_model_gets_the_openai_style_shape() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let chat = aiml
        .chat("claude-sonnet-9")
        .system("Be brief.")
        .user("Hello");
    assert_eq!(
        chat.body().unwrap(),
        json!({"model": "claude-sonnet-9", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}]})
    );
}

#[tokio::test]
async fn a_conversation_streams_as_deltas_text_and_the_whole_answer() {
    use aimlapi::chat::StreamDelta;
    use futures::StreamExt;

    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let chat = aiml.chat("claude-3-5-haiku-latest").user("Hello");

    // Deltas, with `while let` and no pinning.
    let mut stream = chat.stream().await.unwrap();
    let (mut text, mut usage) = (String::new(), None);
    while let Some(delta) = stream.next().await {
        match delta.unwrap() {
            StreamDelta::Text(t) => text.push_str(&t),
            StreamDelta::Usage(u) => usage = Some(u),
            _ => {}
        }
    }
    assert!(text.starts_with("I want to be direct"), "{text}");
    assert_eq!(usage.map(|u| u.completion_tokens), Some(77));
    assert_eq!(mock.requests().pop().unwrap().body["stream"], json!(true));

    // The text alone; the whole answer after reading part of it.
    let mut texts = chat.stream().await.unwrap().text();
    let first = texts.next().await.unwrap().unwrap();
    assert!(text.starts_with(&first));
    let done = texts.completion().await.unwrap();
    assert_eq!(done.text().as_deref(), Some(text.as_str()));
    assert_eq!(done.usage().map(|u| u.prompt_tokens), Some(16));
    assert_eq!((done.meta.status.as_u16(), done.meta.attempts), (200, 1));

    // Tool-call pieces, folded into the answer's tool calls.
    mock.push(aimlapi_mock::Reply::tool_call(
        "call_9",
        "get_weather",
        r#"{"city":"Oslo"}"#,
    ));
    let mut stream = chat.stream().await.unwrap();
    let mut arguments = String::new();
    while let Some(delta) = stream.next().await {
        if let StreamDelta::ToolCall { arguments: a, .. } = delta.unwrap() {
            arguments.push_str(&a);
        }
    }
    assert_eq!(arguments, r#"{"city":"Oslo"}"#);
    mock.push(aimlapi_mock::Reply::tool_call(
        "call_9",
        "get_weather",
        r#"{"city":"Oslo"}"#,
    ));
    let done = chat.stream().await.unwrap().completion().await.unwrap();
    assert_eq!(
        done.tool_calls(),
        vec![aimlapi::chat::ToolUse {
            id: "call_9".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Oslo"}"#.into()
        }]
    );
    assert_eq!(
        done.finish_reason(),
        Some(aimlapi::chat::StopReason::ToolCalls)
    );
}

#[test]
fn a_builder_without_a_required_field_is_an_error_for_question_mark() {
    fn build() -> Result<aimlapi::types::ChatCompletionRequest, aimlapi::Error> {
        Ok(aimlapi::types::ChatCompletionRequest::builder()
            .messages(vec![aimlapi::request::user("Hello")])
            .try_into()?)
    }
    let err = build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("model"), "{err}");
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    /// The city's name.
    city: String,
}

#[tokio::test]
async fn the_tool_loop_runs_on_a_conversation_in_each_dialect() {
    use aimlapi::tools::{ToolLoop, ToolSpec, Toolbox};

    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let tools = Toolbox::new().add(
        ToolSpec::new::<City>("get_weather").unwrap(),
        |c: City| async move { Ok::<_, String>(json!({"city": c.city, "celsius": 7})) },
    );
    for (model, streaming) in [
        ("claude-3-5-haiku-latest", false),
        ("claude-sonnet-4-5", true),
        ("anthropic/claude-opus-5", false),
    ] {
        mock.push(aimlapi_mock::Reply::tool_call(
            "call_1",
            "get_weather",
            r#"{"city":"Oslo"}"#,
        ));
        mock.push(aimlapi_mock::Reply::text("7 degrees: take a coat."));
        let run = aiml
            .chat(model)
            .system("Be brief.")
            .user("Do I need a coat in Oslo?")
            .run_tools(
                &tools,
                &ToolLoop {
                    streaming,
                    ..ToolLoop::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(run.steps, 2, "{model}");
        assert_eq!(
            run.completion.text().as_deref(),
            Some("7 degrees: take a coat.")
        );
        assert_eq!(run.calls.len(), 1);
        assert!(!run.calls[0].is_error, "{:?}", run.calls[0]);
        // user, assistant with the call, its result, the answer.
        assert_eq!(run.conversation.turns().len(), 4, "{model}");
        let requests = mock.requests();
        let follow_up = &requests[requests.len() - 1].body;
        assert_valid(follow_up);
        let messages = follow_up["messages"].as_array().unwrap();
        let result = &messages[messages.len() - 1];
        if model == "claude-3-5-haiku-latest" {
            assert_eq!(follow_up["tools"][0]["type"], "function", "{model}");
            assert_eq!(result["role"], "tool");
            assert_eq!(result["tool_call_id"], "call_1");
            assert_eq!(result["content"], r#"{"celsius":7,"city":"Oslo"}"#);
        } else {
            assert_eq!(follow_up["tools"][0]["name"], "get_weather", "{model}");
            assert!(follow_up["tools"][0]["input_schema"].is_object(), "{model}");
            assert_eq!(result["role"], "user");
            assert_eq!(result["content"][0]["type"], "tool_result");
            assert_eq!(result["content"][0]["tool_use_id"], "call_1");
            let asked = &messages[messages.len() - 2];
            assert_eq!(asked["content"][0]["type"], "tool_use", "{model}");
            assert_eq!(asked["content"][0]["input"], json!({"city": "Oslo"}));
        }
    }
}

#[tokio::test]
async fn thinking_goes_where_the_page_takes_it() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let chat = aiml
        .chat("claude-sonnet-4-5")
        .user("Why is the sky blue?")
        .max_tokens(4000)
        .thinking(2048);
    assert_eq!(
        chat.body().unwrap()["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    chat.send().await.unwrap();
    assert_valid(&mock.requests().pop().unwrap().body);
    // Claude 3.5 Haiku's page has no `thinking`.
    let err = aiml
        .chat("claude-3-5-haiku-latest")
        .user("Why is the sky blue?")
        .thinking(2048)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("`thinking`"), "{err}");
}

#[tokio::test]
async fn documents_go_as_each_dialect_writes_them() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let pdf = "JVBERi0xLjQK";
    let content = || Content::text("Summarize this.").document_base64("application/pdf", pdf);
    for (model, part) in [
        (
            "claude-sonnet-4-5",
            json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}}),
        ),
        (
            "anthropic/claude-opus-5",
            json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}}),
        ),
        (
            "claude-3-5-haiku-latest",
            json!({"type": "file", "file": {"file_data": format!("data:application/pdf;base64,{pdf}")}}),
        ),
    ] {
        aiml.chat(model)
            .user(content())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        let sent = mock.requests().pop().unwrap().body;
        assert_eq!(sent["messages"][0]["content"][1], part, "{model}");
        assert_valid(&sent);
    }
}

#[test]
fn a_thinking_budget_out_of_bounds_is_refused_before_sending() {
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .build()
        .unwrap();
    let chat = |budget: u64, max: u64| {
        client
            .chat("claude-sonnet-4-5")
            .user("Hi")
            .max_tokens(max)
            .thinking(budget)
            .body()
    };
    for (budget, max, needle) in [(512, 4000, "1024"), (4000, 4000, "below max_tokens")] {
        let err = chat(budget, max).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert!(chat(1024, 4000).is_ok());
}

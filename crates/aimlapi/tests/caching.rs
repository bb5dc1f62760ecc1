//! Prompt caching and thinking modes through the conversation API: `cache_control` on the system
//! prompt, a turn and a tool, written in each page's shape where the page takes it (each body
//! validated against the page's request schema, and by the mock), refused naming the model
//! where it does not; cache usage counted and priced; `thinking` modes and `display` checked
//! against the page; `reasoning_details` read as the reasoning on the chat endpoint.

use aimlapi::chat::{Cache, ThinkingDisplay, ThinkingMode, Unsupported};
use aimlapi::schemars::JsonSchema;
use aimlapi::tools::{ToolSpec, Toolbox};
use aimlapi::{Client, Content, ErrorKind, Provider};
use aimlapi_mock::MockServer;
use serde::Deserialize;
use serde_json::{json, Value};

mod common;
use common::{assert_valid, assert_valid_against};

/// Looks up a word in the handbook.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Lookup {
    /// The word.
    word: String,
}

fn toolbox(ttl: Option<Cache>) -> Toolbox {
    let spec = ToolSpec::new::<Lookup>("lookup").unwrap();
    let spec = match ttl {
        Some(ttl) => spec.cache(ttl),
        None => spec,
    };
    Toolbox::new().add(spec, |_: Lookup| async { Ok::<_, String>("found") })
}

fn client(mock: &MockServer) -> Client {
    common::test_client(Provider::AimlApi, mock.base_url())
}

const HANDBOOK: &str = "The handbook: chapter 1 is about tea, chapter 2 about coffee.";

fn one_hour() -> Value {
    json!({"type": "ephemeral", "ttl": "1h"})
}

fn five_minutes() -> Value {
    json!({"type": "ephemeral", "ttl": "5m"})
}

#[tokio::test]
async fn a_cached_system_prompt_and_tool_go_out_in_each_page_s_shape() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let tools = toolbox(Some(Cache::FiveMinutes));
    let cached = |model: &str| {
        aiml.chat(model)
            .system(HANDBOOK)
            .cache(Cache::OneHour)
            .user("What is chapter 2 about?")
            .tools(&tools)
            .max_tokens(1000)
    };
    let marked_system = json!([{"type": "text", "text": HANDBOOK, "cache_control": one_hour()}]);
    // The hybrid page (Anthropic form on chat): a top-level `system` of one marked text block,
    // the tool with `cache_control` beside its `input_schema`.
    cached("anthropic/claude-opus-5").send().await.unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["system"], marked_system);
    assert_eq!(body["tools"][0]["cache_control"], five_minutes());
    assert_eq!(body["tools"][0]["name"], "lookup");
    assert_eq!(body["messages"][0]["content"], "What is chapter 2 about?");
    assert_valid(&body);

    // An OpenRouter-style page (OpenAI form): the system message's content is one marked text
    // part; the tool carries `cache_control` beside `type` and `function`.
    cached("anthropic/claude-3-haiku").send().await.unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": marked_system})
    );
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["cache_control"], five_minutes());
    assert_valid_against("claude-3-haiku", &body);

    // The Messages endpoint, checked against the Messages page that lists the model.
    cached("anthropic/claude-sonnet-5")
        .send_message()
        .await
        .unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["system"], marked_system);
    assert_eq!(body["tools"][0]["cache_control"], five_minutes());
    assert_valid_against("claude-sonnet-5-MESSAGES", &body);
}

#[tokio::test]
async fn a_cached_turn_marks_its_last_block() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let png = "iVBORw0KGgo=";
    let chat = || {
        aiml.chat("anthropic/claude-opus-5")
            .user(Content::text("Here is a picture.").image_base64("image/png", png))
            .cache(Cache::FiveMinutes)
            .assistant("A cat.")
            .user("Thanks")
    };
    chat().send().await.unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "Here is a picture."},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png},
             "cache_control": five_minutes()}])
    );
    assert_eq!(body["messages"][1]["content"], "A cat.");
    assert_valid(&body);

    // A text-only turn becomes one marked text block; a tool result carries it itself.
    let conversation = aimlapi::Conversation::new()
        .user("Look up tea.")
        .cache(Cache::OneHour)
        .tool_call("call_1", "lookup", &json!({"word": "tea"}))
        .tool_result("call_1", "chapter 1")
        .cache(Cache::FiveMinutes);
    let marked_question =
        json!([{"type": "text", "text": "Look up tea.", "cache_control": one_hour()}]);
    aiml.chat("anthropic/claude-opus-5")
        .conversation(conversation.clone())
        .send()
        .await
        .unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["messages"][0]["content"], marked_question);
    assert_eq!(
        body["messages"][2]["content"],
        json!([{"type": "tool_result", "tool_use_id": "call_1", "content": "chapter 1",
                "cache_control": five_minutes()}])
    );
    assert_valid(&body);

    // The same in the OpenAI form: a user message of marked parts, a tool message of one.
    aiml.chat("anthropic/claude-3-haiku")
        .conversation(conversation)
        .send()
        .await
        .unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["messages"][0]["content"], marked_question);
    assert_eq!(
        body["messages"][2],
        json!({"role": "tool", "tool_call_id": "call_1",
               "content": [{"type": "text", "text": "chapter 1", "cache_control": five_minutes()}]})
    );
    assert_valid_against("claude-3-haiku", &body);
}

#[tokio::test]
async fn a_page_without_cache_control_refuses_it_naming_the_model() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    // Claude Sonnet 4.5's and 3.5 Haiku's pages take no `cache_control`; Opus 4.8's takes none
    // on tools.
    for (model, mark, tools, property) in [
        (
            "claude-sonnet-4-5",
            "system",
            toolbox(None),
            "system.cache_control",
        ),
        (
            "claude-3-5-haiku-latest",
            "turn",
            toolbox(None),
            "messages.cache_control",
        ),
        (
            "claude-sonnet-4-5",
            "none",
            toolbox(Some(Cache::OneHour)),
            "tools.cache_control",
        ),
        (
            "claude-opus-4-8",
            "none",
            toolbox(Some(Cache::OneHour)),
            "tools.cache_control",
        ),
    ] {
        let mut chat = aiml.chat(model).system(HANDBOOK);
        if mark == "system" {
            chat = chat.cache(Cache::OneHour);
        }
        chat = chat.user("What is chapter 2 about?");
        if mark == "turn" {
            chat = chat.cache(Cache::OneHour);
        }
        let chat = chat.tools(&tools);
        let sent = mock.requests().len();
        let err = chat.send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported, "{model}: {err}");
        let text = err.to_string();
        assert!(text.contains(&format!("`{model}`")), "{text}");
        assert!(text.contains(property), "{model}: {text}");
        assert_eq!(mock.requests().len(), sent, "{model}: nothing is sent");

        // Asked to drop it, the request goes without it, and the page's schema takes it.
        chat.unsupported(Unsupported::Drop).send().await.unwrap();
        let body = mock.requests().pop().unwrap().body;
        assert!(!body.to_string().contains("cache_control"), "{body}");
        assert_valid(&body);
    }
}

#[test]
fn misplaced_breakpoints_are_refused_before_sending() {
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .build()
        .unwrap();
    // Nothing before it.
    let err = client
        .chat("anthropic/claude-opus-5")
        .cache(Cache::OneHour)
        .user("Hi")
        .body()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(err.to_string().contains("before any"), "{err}");
    // Five in one request: Anthropic takes four.
    let mut chat = client
        .chat("anthropic/claude-opus-5")
        .system("S")
        .cache(Cache::OneHour);
    for turn in ["a", "b", "c", "d"] {
        chat = chat.user(turn).cache(Cache::FiveMinutes).assistant("ok");
    }
    let err = chat.body().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(err.to_string().contains("at most 4"), "{err}");
    // An OpenAI-style assistant turn with tool calls and no text has no part to mark.
    let err = client
        .chat("anthropic/claude-3-haiku")
        .conversation(
            aimlapi::Conversation::new()
                .user("Look up tea.")
                .tool_call("call_1", "lookup", &json!({"word": "tea"}))
                .cache(Cache::OneHour),
        )
        .body()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("after turn 1"), "{err}");
    // A user turn of thinking alone writes no part to mark (user content leaves thinking out).
    let thinking = aimlapi::chat::Part::Thinking {
        text: "hm".into(),
        signature: None,
    };
    let err = client
        .chat("anthropic/claude-opus-5")
        .user(vec![thinking])
        .cache(Cache::OneHour)
        .body()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("after turn 0"), "{err}");
}

#[tokio::test]
async fn thinking_modes_and_display_go_where_the_page_takes_them() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    for (thinking, display, expected) in [
        (
            ThinkingMode::Adaptive,
            Some(ThinkingDisplay::Omitted),
            json!({"type": "adaptive", "display": "omitted"}),
        ),
        (ThinkingMode::Disabled, None, json!({"type": "disabled"})),
        (
            ThinkingMode::Enabled {
                budget_tokens: 2048,
            },
            Some(ThinkingDisplay::Summarized),
            json!({"type": "enabled", "budget_tokens": 2048, "display": "summarized"}),
        ),
    ] {
        let mut chat = aiml
            .chat("anthropic/claude-opus-5")
            .user("Why is the sky blue?")
            .max_tokens(4000)
            .thinking(thinking);
        if let Some(display) = display {
            chat = chat.thinking_display(display);
        }
        chat.send().await.unwrap();
        let body = mock.requests().pop().unwrap().body;
        assert_eq!(body["thinking"], expected);
        assert_valid(&body);
    }
    // Sonnet 4.5's page takes only `enabled`, and no `display`.
    let sent = mock.requests().len();
    let err = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .thinking(ThinkingMode::Adaptive)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("thinking.type: adaptive"), "{err}");
    let err = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .max_tokens(4000)
        .thinking(2048)
        .thinking_display(ThinkingDisplay::Omitted)
        .send()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("thinking.display"), "{err}");
    assert_eq!(mock.requests().len(), sent);
    // `display` needs thinking on.
    let err = aiml
        .chat("anthropic/claude-opus-5")
        .user("Hi")
        .thinking(ThinkingMode::Disabled)
        .thinking_display(ThinkingDisplay::Omitted)
        .body()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
}

/// A Messages answer in the documented shape (`tests/fixtures/pages/new-README.response-1.json`,
/// from the vendor's Anthropic README page), its cache counts set.
const MESSAGE: &str = include_str!("../../../tests/fixtures/pages/new-README.response-1.json");

/// A chat answer of the newer pages (`new-claude-3-haiku.response-1.json`): 256 prompt tokens,
/// 192 of them read from the cache, 343 out.
const CHAT: &str = include_str!("../../../tests/fixtures/pages/new-claude-3-haiku.response-1.json");

#[tokio::test]
async fn cache_usage_is_counted_and_priced() {
    use aimlapi_mock::Reply;
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    // Claude 3.5 Haiku: $0.80 in, $4 out per million; reads $0.08, writes $1 (5 min), $1.60 (1 h).
    let model = "claude-3-5-haiku-latest";
    let mut message: Value = serde_json::from_str(MESSAGE).unwrap();
    message["usage"]["cache_read_input_tokens"] = json!(2000);
    message["usage"]["cache_creation_input_tokens"] = json!(1000);
    message["usage"]["cache_creation"] =
        json!({"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600});
    mock.push(Reply::status(200).body(message.to_string()));
    let done = aiml
        .chat(model)
        .user("Hi")
        .max_tokens(100)
        .send_message()
        .await
        .unwrap();
    let usage = done.usage().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.uncached_prompt_tokens(),
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.cache_write_1h_tokens,
            usage.completion_tokens
        ),
        (3027, 27, 2000, 1000, 600, 35)
    );
    let expected = (27.0 * 0.8 + 2000.0 * 0.08 + 400.0 * 1.0 + 600.0 * 1.6 + 35.0 * 4.0) / 1e6;
    let cost = done.estimated_cost().unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");

    // The chat endpoint: `prompt_tokens_details.cached_tokens` is part of `prompt_tokens`.
    mock.push(Reply::status(200).body(CHAT));
    let done = aiml.chat(model).user("Hi").send().await.unwrap();
    let usage = done.usage().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.cache_read_tokens,
            usage.uncached_prompt_tokens()
        ),
        (256, 192, 64)
    );
    let expected = (64.0 * 0.8 + 192.0 * 0.08 + 343.0 * 4.0) / 1e6;
    let cost = done.estimated_cost().unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");
}

/// The newer pages' answers carry `reasoning` and `reasoning_details` (the fixture
/// `new-claude-3-haiku.response-1.json`); with only `reasoning_details`, the completion's
/// reasoning is its text.
#[tokio::test]
async fn reasoning_details_alone_are_the_completion_s_reasoning() {
    use aimlapi_mock::Reply;
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let full: Value = serde_json::from_str(CHAT).unwrap();
    let details_text = full["choices"][0]["message"]["reasoning_details"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    let mut only_details = full.clone();
    let message = only_details["choices"][0]["message"]
        .as_object_mut()
        .unwrap();
    message.remove("reasoning");
    message.remove("reasoning_content");
    for body in [full, only_details] {
        mock.push(Reply::status(200).body(body.to_string()));
        let done = aiml
            .chat("anthropic/claude-3-haiku")
            .user("Hi")
            .send()
            .await
            .unwrap();
        assert_eq!(done.reasoning().as_deref(), Some(details_text.as_str()));
    }
}

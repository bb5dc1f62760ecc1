//! Tools and structured outputs from Rust types: the definitions pinned by snapshots in both
//! dialects, typed parsing, and the tool loop over loopback against the mock, which validates
//! every request (the follow-up ones included) against the bundled documents.

use std::sync::{Arc, Mutex};

use aimlapi::schemars::JsonSchema;
use aimlapi::tools::{
    parse_arguments, parse_content, parse_tool_use, response_format, ToolLoop, ToolSpec, Toolbox,
};
use aimlapi::types::{
    AnthropicChatRequest, ChatCompletionRequest, KnownModelId, OpenRouterRequest,
};
use aimlapi::{Client, ErrorKind, Provider};
use aimlapi_mock::{MockServer, Reply};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Look up the weather forecast for a place.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[allow(dead_code)]
struct Forecast {
    /// Where.
    place: Place,
    /// Days ahead, 1 to 7.
    days: Vec<u8>,
    /// Celsius unless asked otherwise.
    unit: Option<Unit>,
    /// What to include.
    #[serde(default)]
    extras: Vec<Extra>,
}

/// A point on the map.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Place {
    /// The city's name.
    city: String,
    /// ISO 3166 country code.
    country: Option<String>,
}

/// A temperature scale.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// Something besides the temperature.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Extra {
    /// Wind at a height.
    Wind { height_m: u32 },
    /// Rain chance.
    Rain,
}

/// Folders to make.
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct MakeFolders {
    /// The top folder.
    root: Folder,
}

/// A folder tree (recursive: its definition stays under `$defs`).
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Folder {
    name: String,
    children: Vec<Folder>,
}

/// A city, as the answer.
#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct City {
    /// The name.
    name: String,
    /// People living there.
    population: u64,
}

#[test]
fn tool_definitions_in_both_dialects_and_strict() {
    let spec = ToolSpec::new::<Forecast>("get_forecast").unwrap();
    insta::assert_json_snapshot!("openai_tool", spec.openai());
    insta::assert_json_snapshot!("openai_tool_strict", spec.clone().strict(true).openai());
    insta::assert_json_snapshot!("anthropic_tool", spec.anthropic());
    let tree = ToolSpec::new::<MakeFolders>("make_folders")
        .unwrap()
        .description("Create folders.");
    insta::assert_json_snapshot!("recursive_tool", tree.openai());
    insta::assert_json_snapshot!("response_format", response_format::<City>("city").unwrap());
}

#[test]
fn strict_schemas_close_every_object_and_require_every_property() {
    let params = ToolSpec::new::<Forecast>("f")
        .unwrap()
        .strict(true)
        .parameters();
    fn check(v: &Value) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            assert_eq!(v["additionalProperties"], false, "{v}");
            let required: Vec<&str> = v["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            assert_eq!(required.len(), props.len(), "{v}");
        }
        match v {
            Value::Object(m) => {
                assert!(!m.contains_key("oneOf"), "{v}");
                m.values().for_each(check)
            }
            Value::Array(a) => a.iter().for_each(check),
            _ => {}
        }
    }
    check(&Value::Object(params));
}

#[test]
fn a_non_struct_type_is_refused_with_a_clear_error() {
    let err = ToolSpec::new::<Vec<String>>("list").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("tool `list`"), "{err}");
}

#[test]
fn parse_errors_name_the_tool_and_keep_the_raw_text() {
    let call: aimlapi::types::ToolCall = serde_json::from_value(json!({
        "id": "call_1", "type": "function",
        "function": {"name": "get_forecast", "arguments": "{\"place\": {\"city\": 7}}"}
    }))
    .unwrap();
    let err = parse_arguments::<Forecast>(&call).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("tool `get_forecast`"), "{err}");
    match &err {
        aimlapi::Error::Decode { body, .. } => assert_eq!(body, "{\"place\": {\"city\": 7}}"),
        other => panic!("{other}"),
    }
    let block: aimlapi::types::ToolUsePart = serde_json::from_value(json!({
        "type": "tool_use", "id": "toolu_1", "name": "get_forecast",
        "input": {"place": {"city": "Oslo"}, "days": [1, 2]}
    }))
    .unwrap();
    let parsed: Forecast = parse_tool_use(&block).unwrap();
    assert_eq!(parsed.place.city, "Oslo");
    assert_eq!(parsed.days, vec![1, 2]);
}

fn client(mock: &MockServer, provider: Provider) -> Client {
    Client::builder()
        .provider(provider)
        .base_url(mock.base_url())
        .api_key("k")
        .build()
        .unwrap()
}

/// Tools that record the forecasts they were asked for.
fn toolbox(seen: Arc<Mutex<Vec<Forecast>>>) -> Toolbox {
    #[derive(Serialize)]
    struct Answer {
        celsius: i32,
        city: String,
    }
    Toolbox::new().add(
        ToolSpec::new::<Forecast>("get_forecast").unwrap(),
        move |f: Forecast| {
            let seen = seen.clone();
            async move {
                let city = f.place.city.clone();
                seen.lock().unwrap().push(f);
                Ok::<_, String>(Answer { celsius: 21, city })
            }
        },
    )
}

const ARGS: &str = r#"{"place":{"city":"Paris","country":"FR"},"days":[1,2,3],"unit":"celsius","extras":[{"kind":"wind","height_m":10},{"kind":"rain"}]}"#;

fn want() -> Forecast {
    Forecast {
        place: Place {
            city: "Paris".into(),
            country: Some("FR".into()),
        },
        days: vec![1, 2, 3],
        unit: Some(Unit::Celsius),
        extras: vec![Extra::Wind { height_m: 10 }, Extra::Rain],
    }
}

/// Runs the tool loop on `request` against `mock`, streaming: the run, and the forecasts the tool
/// was asked for.
async fn streamed_loop<R>(
    mock: &MockServer,
    request: R,
) -> (aimlapi::tools::ToolRun<R>, Vec<Forecast>)
where
    R: aimlapi::tools::ToolRequest,
    R::Chunk: aimlapi::sse::StreamChunk<Completion = R::Response>,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let settings = ToolLoop {
        streaming: true,
        ..ToolLoop::default()
    };
    let run = client(mock, Provider::AimlApi)
        .run_tools(request, &toolbox(seen.clone()), &settings)
        .await
        .unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (run, seen)
}

#[tokio::test]
async fn a_streamed_tool_call_is_folded_parsed_run_and_answered_in_the_openai_dialect() {
    let mock = MockServer::start().await;
    // The mock streams the arguments four characters per chunk.
    mock.push(Reply::tool_call("call_7", "get_forecast", ARGS));
    mock.push(Reply::text("Sunny, 21 C in Paris."));
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Weather in Paris?")])
        .try_into()
        .unwrap();
    let (run, seen) = streamed_loop(&mock, request).await;
    assert_eq!(run.steps, 2);
    assert_eq!(
        aimlapi::Answer::text(&run.response).as_deref(),
        Some("Sunny, 21 C in Paris.")
    );
    assert_eq!(seen, [want()]);
    assert_eq!(run.calls.len(), 1);
    assert!(!run.calls[0].is_error, "{:?}", run.calls[0]);

    let sent = mock.requests();
    assert_eq!(sent.len(), 2, "both requests passed the mock's validation");
    assert_eq!(sent[0].body["tools"][0]["function"]["name"], "get_forecast");
    let messages = sent[1].body["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(
        messages[n - 2],
        json!({"role": "assistant", "tool_calls": [
            {"id": "call_7", "type": "function", "function": {"name": "get_forecast", "arguments": ARGS}}
        ]})
    );
    assert_eq!(
        messages[n - 1],
        json!({"role": "tool", "tool_call_id": "call_7", "content": "{\"celsius\":21,\"city\":\"Paris\"}"})
    );
}

#[tokio::test]
async fn the_same_loop_answers_in_the_anthropic_dialect() {
    let mock = MockServer::start().await;
    mock.push(Reply::tool_call("toolu_7", "get_forecast", ARGS));
    mock.push(Reply::text("Sunny."));
    let request: AnthropicChatRequest = serde_json::from_value(json!({
        "model": "claude-3-5-sonnet-20240620",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
    }))
    .unwrap();
    let (run, seen) = streamed_loop(&mock, request).await;
    assert_eq!(run.steps, 2);
    assert_eq!(seen, [want()]);

    let sent = mock.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].body["tools"][0]["name"], "get_forecast");
    assert_eq!(sent[0].body["tools"][0]["input_schema"]["type"], "object");
    let messages = sent[1].body["messages"].as_array().unwrap();
    let n = messages.len();
    let args: Value = serde_json::from_str(ARGS).unwrap();
    assert_eq!(
        messages[n - 2],
        json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_7", "name": "get_forecast", "input": args}
        ]})
    );
    assert_eq!(
        messages[n - 1],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_7", "content": "{\"celsius\":21,\"city\":\"Paris\"}"}
        ]})
    );
}

#[tokio::test]
async fn bad_arguments_and_unknown_tools_go_back_as_errors_and_the_step_limit_holds() {
    let mock = MockServer::start().await;
    mock.push(
        Reply::tool_call("call_1", "get_forecast", r#"{"place": 5}"#).and_tool_call(
            "call_2",
            "launch_rocket",
            "{}",
        ),
    );
    mock.push(Reply::text("Sorry."));
    let request: OpenRouterRequest = OpenRouterRequest::builder()
        .model(aimlapi::types::KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Go")])
        .try_into()
        .unwrap();
    let c = client(&mock, Provider::open_router());
    let tools = toolbox(Arc::new(Mutex::new(Vec::new())));
    let run = c
        .run_tools(request.clone(), &tools, &ToolLoop::default())
        .await
        .unwrap();
    assert!(run.calls.iter().all(|c| c.is_error), "{:?}", run.calls);
    assert!(
        run.calls[0].result.contains("tool `get_forecast`"),
        "{:?}",
        run.calls[0]
    );
    assert!(
        run.calls[1].result.contains("no tool `launch_rocket`"),
        "{:?}",
        run.calls[1]
    );

    for _ in 0..3 {
        mock.push(Reply::tool_call("call_x", "get_forecast", ARGS));
    }
    let settings = ToolLoop {
        max_steps: 3,
        ..ToolLoop::default()
    };
    let err = c.run_tools(request, &tools, &settings).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StepLimit, "{err}");
}

#[tokio::test]
async fn a_json_schema_answer_is_read_into_the_type() {
    let mock = MockServer::start().await;
    mock.push(Reply::text(r#"{"name":"Paris","population":2100000}"#));
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(
            "The capital of France, as JSON.",
        )])
        .response_format(Some(response_format::<City>("city").unwrap()))
        .try_into()
        .unwrap();
    let done = client(&mock, Provider::AimlApi)
        .chat_completion(&request)
        .await
        .unwrap();
    let city: City = parse_content(&done.value).unwrap();
    assert_eq!(
        city,
        City {
            name: "Paris".into(),
            population: 2_100_000
        }
    );
    assert_eq!(
        mock.requests()[0].body["response_format"]["json_schema"]["strict"],
        true
    );
}

#[tokio::test]
async fn requests_carrying_every_definition_validate_against_the_documents() {
    let mock = MockServer::start().await;
    let c = client(&mock, Provider::AimlApi);
    let forecast = ToolSpec::new::<Forecast>("get_forecast").unwrap();
    let folders = ToolSpec::new::<MakeFolders>("make_folders").unwrap();
    let specs = [
        forecast.clone(),
        forecast.clone().strict(true),
        folders.clone(),
        folders.strict(true),
    ];
    let haiku: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hi")])
        .tools(specs.iter().map(ToolSpec::openai).collect::<Vec<_>>())
        .response_format(Some(response_format::<Forecast>("forecast").unwrap()))
        .try_into()
        .unwrap();
    c.chat_completion(&haiku).await.unwrap();
    let mut sonnet: AnthropicChatRequest = serde_json::from_value(json!({
        "model": "claude-3-5-sonnet-20240620",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }))
    .unwrap();
    sonnet.tools = specs.iter().map(ToolSpec::anthropic).collect();
    c.chat_completion(&sonnet).await.unwrap();
    assert_eq!(mock.requests().len(), 2);
}

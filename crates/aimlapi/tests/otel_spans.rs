//! Every call's span by the OpenTelemetry GenAI semantic conventions, as an OpenTelemetry pipeline
//! receives it: the `tracing` spans go through `tracing-opentelemetry` into the SDK's in-memory
//! exporter, and each test reads the exported span's name, kind, status and attributes by their
//! exact names. Contents (messages, system instructions, tools) only when the client was asked to
//! record them.

use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Reply};
use futures::StreamExt;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

/// The spans of this thread's calls, exported as an OpenTelemetry pipeline would export them.
struct Exported {
    exporter: InMemorySpanExporter,
    _provider: SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Exported {
    fn start() -> Exported {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
        Exported {
            exporter,
            _provider: provider,
            _guard: guard,
        }
    }

    /// The one span the calls so far ended.
    fn only(&self) -> SpanData {
        let spans = self.exporter.get_finished_spans().unwrap();
        assert_eq!(spans.len(), 1, "{spans:#?}");
        spans.into_iter().next().unwrap()
    }
}

/// The attribute `key` of `span`.
fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn string(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(Value::String(s)) => s.to_string(),
        other => panic!("{key}: {other:?} in {:#?}", span.attributes),
    }
}

fn int(span: &SpanData, key: &str) -> i64 {
    match attr(span, key) {
        Some(Value::I64(n)) => n,
        other => panic!("{key}: {other:?} in {:#?}", span.attributes),
    }
}

fn float(span: &SpanData, key: &str) -> f64 {
    match attr(span, key) {
        Some(Value::F64(n)) => n,
        other => panic!("{key}: {other:?} in {:#?}", span.attributes),
    }
}

fn boolean(span: &SpanData, key: &str) -> bool {
    match attr(span, key) {
        Some(Value::Bool(b)) => b,
        other => panic!("{key}: {other:?} in {:#?}", span.attributes),
    }
}

const CONTENT_KEYS: [&str; 4] = [
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
];

/// No message contents in `span`: they were not asked for.
fn assert_no_contents(span: &SpanData) {
    for key in CONTENT_KEYS {
        assert!(attr(span, key).is_none(), "{key} without being asked for");
    }
}

/// A Messages answer of 10 uncached input tokens, 1,200 read from the cache, 300 written to it.
fn cached_reply() -> Reply {
    Reply::text("Cached hello.")
        .usage(10, 5)
        .cache_tokens(1200, 300)
}

fn client(mock: &MockServer, contents: bool) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy::none())
        .log_contents(contents)
        .build()
        .unwrap()
}

/// What every call's span carries from its start: the operation, the provider, the model as it
/// was sent, the server.
fn assert_start(span: &SpanData, mock: &MockServer, stream: bool) {
    let sent = mock.requests().last().unwrap().body["model"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(span.name, format!("chat {sent}"));
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(string(span, "gen_ai.operation.name"), "chat");
    assert_eq!(string(span, "gen_ai.provider.name"), "anthropic");
    assert_eq!(string(span, "gen_ai.request.model"), sent);
    let url = reqwest::Url::parse(mock.base_url()).unwrap();
    assert_eq!(string(span, "server.address"), url.host_str().unwrap());
    assert_eq!(int(span, "server.port"), i64::from(url.port().unwrap()));
    assert_eq!(boolean(span, "gen_ai.request.stream"), stream);
}

#[tokio::test]
async fn a_chat_call_span_by_the_conventions() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(Reply::text("Paris.").usage(9, 2));
    let c = client(&mock, false);
    let done = c
        .chat("claude-sonnet-4-5")
        .system("Be brief.")
        .user("The capital of France?")
        .max_tokens(64)
        .temperature(0.5)
        .top_p(0.9)
        .stop(["\n\n"])
        .send()
        .await
        .unwrap();

    let span = otel.only();
    assert_start(&span, &mock, false);
    assert_eq!(int(&span, "gen_ai.request.max_tokens"), 64);
    assert_eq!(float(&span, "gen_ai.request.temperature"), 0.5);
    assert_eq!(float(&span, "gen_ai.request.top_p"), 0.9);
    assert_eq!(
        string(&span, "gen_ai.request.stop_sequences"),
        r#"["\n\n"]"#
    );
    assert_eq!(
        string(&span, "gen_ai.response.id"),
        done.value.id.clone().unwrap()
    );
    assert_eq!(
        string(&span, "gen_ai.response.model"),
        done.model().unwrap()
    );
    assert_eq!(
        string(&span, "gen_ai.response.finish_reasons"),
        r#"["stop"]"#
    );
    assert_eq!(int(&span, "gen_ai.usage.input_tokens"), 9);
    assert_eq!(int(&span, "gen_ai.usage.output_tokens"), 2);
    assert_eq!(int(&span, "gen_ai.usage.cache_read.input_tokens"), 0);
    assert_eq!(int(&span, "gen_ai.usage.cache_creation.input_tokens"), 0);
    assert_eq!(float(&span, "aimlapi.usage.cost"), done.cost().unwrap().usd);
    assert_eq!(int(&span, "http.response.status_code"), 200);
    assert_eq!(int(&span, "attempt"), 1);
    assert_eq!(
        string(&span, "client_request_id"),
        done.meta.client_request_id.clone().unwrap()
    );
    assert!(attr(&span, "error.type").is_none());
    assert_eq!(span.status, Status::Unset);
    assert!(
        attr(&span, "gen_ai.response.time_to_first_chunk").is_none(),
        "not a stream"
    );
    assert_no_contents(&span);
}

#[tokio::test]
async fn a_chat_stream_span_ends_with_the_stream_and_has_its_usage_and_first_chunk() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(Reply::text("Hello there, from the model.").usage(12, 7));
    let c = client(&mock, false);
    let mut stream = c
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream()
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(delta) = stream.next().await {
        if let aimlapi::chat::StreamDelta::Text(t) = delta.unwrap() {
            text.push_str(&t);
        }
    }
    assert_eq!(text, "Hello there, from the model.");
    // Read to its end, item by item: the call's span has ended, with what the chunks said.
    let span = otel.only();
    assert_start(&span, &mock, true);
    assert_eq!(
        string(&span, "gen_ai.response.finish_reasons"),
        r#"["stop"]"#
    );
    assert_eq!(int(&span, "gen_ai.usage.input_tokens"), 12);
    assert_eq!(int(&span, "gen_ai.usage.output_tokens"), 7);
    assert!(!string(&span, "gen_ai.response.id").is_empty());
    assert!(!string(&span, "gen_ai.response.model").is_empty());
    let first = float(&span, "gen_ai.response.time_to_first_chunk");
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap()
        .as_secs_f64();
    assert!(first > 0.0 && first <= took, "{first} of {took}");
    assert_no_contents(&span);
    drop(stream);
}

/// A model this crate prices without the catalogue.
const PRICED: &str = "claude-3-5-haiku-latest";

#[tokio::test]
async fn a_messages_stream_counts_cache_reads_in_its_input_tokens() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(cached_reply());
    let c = client(&mock, false);
    let done = c
        .chat(PRICED)
        .user("Hi")
        .max_tokens(100)
        .temperature(0.25)
        .stream_message()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap();
    assert_eq!(done.text().as_deref(), Some("Cached hello."));

    let span = otel.only();
    assert_start(&span, &mock, true);
    assert_eq!(int(&span, "gen_ai.request.max_tokens"), 100);
    assert_eq!(float(&span, "gen_ai.request.temperature"), 0.25);
    // The Anthropic rule: input_tokens + cache_read_input_tokens + cache_creation_input_tokens.
    assert_eq!(int(&span, "gen_ai.usage.input_tokens"), 10 + 1200 + 300);
    assert_eq!(int(&span, "gen_ai.usage.output_tokens"), 5);
    assert_eq!(int(&span, "gen_ai.usage.cache_read.input_tokens"), 1200);
    assert_eq!(int(&span, "gen_ai.usage.cache_creation.input_tokens"), 300);
    assert_eq!(
        string(&span, "gen_ai.response.id"),
        done.value.id.clone().unwrap()
    );
    assert_eq!(
        string(&span, "gen_ai.response.model"),
        done.model().unwrap()
    );
    assert_eq!(
        string(&span, "gen_ai.response.finish_reasons"),
        r#"["end_turn"]"#
    );
    assert!(float(&span, "gen_ai.response.time_to_first_chunk") > 0.0);
    assert_eq!(float(&span, "aimlapi.usage.cost"), done.cost().unwrap().usd);
    assert_no_contents(&span);
}

#[tokio::test]
async fn the_same_messages_stream_read_event_by_event_has_the_same_usage() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(cached_reply());
    let c = client(&mock, false);
    let mut stream = c.chat(PRICED).user("Hi").stream_message().await.unwrap();
    while let Some(event) = stream.next().await {
        event.unwrap();
    }
    let span = otel.only();
    assert_eq!(int(&span, "gen_ai.usage.input_tokens"), 1510);
    assert_eq!(int(&span, "gen_ai.usage.output_tokens"), 5);
    assert_eq!(int(&span, "gen_ai.usage.cache_read.input_tokens"), 1200);
    assert_eq!(
        string(&span, "gen_ai.response.finish_reasons"),
        r#"["end_turn"]"#
    );
    assert!(float(&span, "aimlapi.usage.cost") > 0.0, "the estimate");
}

#[tokio::test]
async fn contents_are_recorded_when_asked_for() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(Reply::text("Paris.").usage(9, 2));
    let c = client(&mock, true);
    c.chat("claude-sonnet-4-5")
        .system("Be brief.")
        .user("The capital of France?")
        .send()
        .await
        .unwrap();
    let span = otel.only();
    let json = |key| serde_json::from_str::<serde_json::Value>(&string(&span, key)).unwrap();
    assert_eq!(
        json("gen_ai.input.messages"),
        serde_json::json!([
            {"role": "user", "parts": [{"type": "text", "content": "The capital of France?"}]}
        ])
    );
    assert_eq!(
        json("gen_ai.system_instructions"),
        serde_json::json!([{"type": "text", "content": "Be brief."}])
    );
    assert_eq!(
        json("gen_ai.output.messages"),
        serde_json::json!([{
            "role": "assistant",
            "parts": [{"type": "text", "content": "Paris."}],
            "finish_reason": "stop",
        }])
    );
}

#[tokio::test]
async fn a_refused_call_has_its_error_type_and_an_error_status() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(Reply::status(429).body("Too Many Requests"));
    let c = client(&mock, false);
    let e = c
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), aimlapi::ErrorKind::RateLimited);
    let span = otel.only();
    assert_eq!(string(&span, "error.type"), "429");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert!(attr(&span, "gen_ai.usage.input_tokens").is_none());
}

#[tokio::test]
async fn a_catalogue_call_is_named_by_its_operation() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    let c = client(&mock, false);
    c.models().send().await.unwrap();
    let span = otel.only();
    assert_eq!(span.name, "models");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(string(&span, "gen_ai.operation.name"), "models");
    assert_eq!(string(&span, "gen_ai.provider.name"), "aimlapi");
    assert!(attr(&span, "gen_ai.request.model").is_none());
}

#[tokio::test]
async fn an_overload_after_the_first_delta_is_the_streams_error_type() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    // message_start, content_block_start, a text delta, then the overload.
    mock.push(Reply::text("Hello there, from the model.").fault(
        aimlapi_mock::Fault::ErrorChunkAfter {
            after: 3,
            code: 529,
            message: "Overloaded".into(),
        },
    ));
    let c = client(&mock, false);
    let mut stream = c
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream_message()
        .await
        .unwrap();
    let mut failed = false;
    while let Some(event) = stream.next().await {
        failed |= event.is_err();
    }
    assert!(failed);
    drop(stream);
    let span = otel.only();
    assert_eq!(string(&span, "error.type"), "overloaded_error");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert!(float(&span, "gen_ai.response.time_to_first_chunk") > 0.0);
}

#[tokio::test]
async fn a_typed_request_has_its_settings_in_the_span() {
    let otel = Exported::start();
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(Reply::text("Paris.").usage(9, 2));
    let c = client(&mock, false);
    let request: aimlapi::types::ChatCompletionRequest =
        serde_json::from_value(serde_json::json!({
            "model": PRICED,
            "messages": [{"role": "user", "content": "The capital of France?"}],
            "max_tokens": 32,
            "temperature": 0.75,
            "stop": ["END"],
        }))
        .unwrap();
    let done = c.chat_completion(&request).await.unwrap();
    let span = otel.only();
    assert_start(&span, &mock, false);
    assert_eq!(int(&span, "gen_ai.request.max_tokens"), 32);
    assert_eq!(float(&span, "gen_ai.request.temperature"), 0.75);
    assert_eq!(string(&span, "gen_ai.request.stop_sequences"), r#"["END"]"#);
    assert_eq!(int(&span, "gen_ai.usage.input_tokens"), 9);
    assert_eq!(float(&span, "aimlapi.usage.cost"), done.cost().unwrap().usd);
}

#[tokio::test]
async fn a_budgets_reading_of_the_account_is_a_child_of_the_call() {
    let otel = Exported::start();
    let mock = MockServer::builder()
        .api_key("test-key")
        .account_balance(5.0)
        .start()
        .await
        .unwrap();
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy::none())
        .budget(aimlapi::budget::Budget::balance_floor(1.0))
        .build()
        .unwrap();
    c.chat("claude-sonnet-4-5").user("Hi").send().await.unwrap();
    let spans = otel.exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let chat = spans.iter().find(|s| s.name.starts_with("chat ")).unwrap();
    let reading = spans.iter().find(|s| !s.name.starts_with("chat ")).unwrap();
    assert_eq!(
        reading.parent_span_id,
        chat.span_context.span_id(),
        "{reading:#?}"
    );
    assert_eq!(reading.span_kind, SpanKind::Client);
}

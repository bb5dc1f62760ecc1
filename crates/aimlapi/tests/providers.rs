//! Providers over loopback HTTP: the ids and headers each one sends; the key kept secret.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use aimlapi::provider::ProviderKind;
use aimlapi::types::*;
use aimlapi::{Client, Model, Provider, RequestOptions, RetryPolicy};
use aimlapi_mock::{MockServer, Reply};
use common::{hello, COMPLETION};

/// The mock, taking any body (ids of a proxy's own among them).
async fn mock() -> MockServer {
    MockServer::builder().validate(false).start().await.unwrap()
}

const KEY: &str = "sk-secret-KEY-4f1c9e77d2";

#[tokio::test]
async fn openrouter_gets_its_headers_and_model_id_and_aimlapi_gets_its_own() {
    let server = mock().await;
    let openrouter = Client::builder()
        .provider(Provider::OpenRouter {
            referer: Some("https://example.com".into()),
            title: Some("Example App".into()),
        })
        .base_url(server.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    openrouter.chat_completion(&hello()).await.unwrap();

    let aiml = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(server.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    aiml.chat_completion(&hello()).await.unwrap();

    // An OpenRouter-typed request with the `provider` routing object, sent to OpenRouter.
    let routed: OpenRouterRequest = OpenRouterRequest::builder()
        .model(KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hello")])
        .provider(Some(ProviderRouting {
            order: vec!["Anthropic".into()],
            allow_fallbacks: Some(false),
            ..Default::default()
        }))
        .try_into()
        .unwrap();
    let mut options = RequestOptions::default();
    options.headers.insert("x-trace", "t-1".parse().unwrap());
    options
        .extra_body
        .insert("transforms".into(), serde_json::json!(["middle-out"]));
    openrouter
        .chat_completion_with(&routed, &options)
        .await
        .unwrap();

    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    let (or, ai, routed) = (&seen[0], &seen[1], &seen[2]);
    assert_eq!(
        (or.method.as_str(), or.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(or.body["model"], "anthropic/claude-3.5-haiku");
    assert_eq!(or.header("http-referer"), Some("https://example.com"));
    assert_eq!(or.header("x-title"), Some("Example App"));
    assert_eq!(
        or.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    // The AI/ML API spells the typed id as written: it goes out unchanged.
    assert_eq!(ai.body["model"], "claude-3-5-haiku-latest");
    assert_eq!(ai.header("http-referer"), None);
    assert_eq!(ai.header("x-title"), None);
    assert_eq!(
        routed.body["provider"],
        serde_json::json!({"order": ["Anthropic"], "allow_fallbacks": false})
    );
    assert_eq!(routed.body["transforms"], serde_json::json!(["middle-out"]));
    assert_eq!(routed.header("x-trace"), Some("t-1"));
    assert_eq!(routed.header("x-title"), Some("Example App"));
}

#[tokio::test]
async fn an_unknown_model_id_passes_through_unchanged() {
    let server = mock().await;
    let client = Client::builder()
        .provider(Provider::open_router())
        .base_url(server.base_url())
        .api_key(KEY)
        .build()
        .unwrap();
    let mut req = hello();
    req.model = ModelId::String("anthropic/claude-opus-5".into());
    client.chat_completion(&req).await.unwrap();
    assert_eq!(
        server.requests()[0].body["model"],
        "anthropic/claude-opus-5"
    );
}

/// An id the caller wrote as a string goes out as written on every provider (a proxy such as
/// LiteLLM serves exactly the ids it was configured with); a typed model is translated only for
/// a provider that spells it differently, streaming or not.
#[tokio::test]
async fn written_ids_go_out_as_written_and_typed_models_map() {
    let server = mock().await;
    let client = |provider: Provider| {
        Client::builder()
            .provider(provider)
            .base_url(server.base_url())
            .api_key(KEY)
            .retry(RetryPolicy::none())
            .build()
            .unwrap()
    };
    let providers = [
        Provider::AimlApi,
        Provider::open_router(),
        Provider::custom(server.base_url()),
    ];
    let written = |id: &str| {
        let mut req = hello();
        req.model = ModelId::String(id.into());
        req
    };
    let openrouter_typed: OpenRouterRequest = OpenRouterRequest::builder()
        .model(KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hello")])
        .try_into()
        .unwrap();
    let mut openrouter_written = openrouter_typed.clone();
    openrouter_written.model = OpenRouterModelId::String("claude-3-5-haiku-latest".into());
    // (provider index, what was sent, the id that must arrive)
    let mut expected = Vec::new();
    for (i, provider) in providers.iter().enumerate() {
        let c = client(provider.clone());
        for id in [
            "claude-3-5-haiku-latest",
            "anthropic/claude-3-5-haiku",
            "anthropic/claude-3.5-haiku",
            "my-proxy-alias",
        ] {
            c.chat_completion(&written(id)).await.unwrap();
            expected.push((i, "written", id.to_string()));
        }
        c.chat_completion(&openrouter_written).await.unwrap();
        expected.push((i, "written", "claude-3-5-haiku-latest".into()));
        // Typed: the AI/ML document's id, and OpenRouter's.
        c.chat_completion(&hello()).await.unwrap();
        let typed_aiml = match provider.kind() {
            ProviderKind::OpenRouter => "anthropic/claude-3.5-haiku",
            _ => "claude-3-5-haiku-latest",
        };
        expected.push((i, "typed", typed_aiml.into()));
        c.chat_completion(&openrouter_typed).await.unwrap();
        let typed_or = match provider.kind() {
            ProviderKind::OpenRouter => "anthropic/claude-3.5-haiku",
            _ => "anthropic/claude-3-5-haiku",
        };
        expected.push((i, "typed", typed_or.into()));
        // Streams take the same path.
        let _ = c
            .stream_bytes(&written("my-proxy-alias"), &RequestOptions::default())
            .await;
        expected.push((i, "written (stream)", "my-proxy-alias".into()));
    }
    let seen = server.requests();
    assert_eq!(seen.len(), expected.len());
    for (s, (i, how, id)) in seen.iter().zip(&expected) {
        assert_eq!(
            s.body["model"],
            id.as_str(),
            "{:?}, {how}",
            providers[*i].kind()
        );
    }
}

/// Every model id a bundled document's request names is known: to `Model` (with its page) and to
/// the typed model enum of the request (a document that adds an id fails here until the
/// generated table and enums have it, that is until `cargo xtask codegen` runs).
#[test]
fn every_model_id_in_the_schema_documents_is_known() {
    fn enum_values(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(values)) = m.get("enum") {
                    out.extend(values.iter().filter_map(|x| x.as_str().map(String::from)));
                }
                m.values().for_each(|x| enum_values(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| enum_values(x, out)),
            _ => {}
        }
    }
    let mut checked = 0;
    for (stem, text) in aimlapi::types::DOCUMENTS {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        if ["aimlapi-models", "aimlapi-account", "aimlapi-metrics"].contains(stem) {
            continue; // the catalogue's, the account's, the metrics' documents: no model ids
        }
        // The chat endpoint's body, or the Messages endpoint's, or each request of a batch.
        let model = [
            "/paths/~1v1~1chat~1completions",
            "/paths/~1v1~1messages",
            "/paths/~1v1~1batches",
        ]
        .iter()
        .find_map(|path| {
            let body = format!("{path}/post/requestBody/content/application~1json/schema");
            doc.pointer(&format!("{body}/properties/model"))
                .or_else(|| {
                    doc.pointer(&format!(
                        "{body}/properties/requests/items/properties/params/properties/model"
                    ))
                })
        })
        .unwrap_or_else(|| panic!("{stem}: no model property"));
        let mut ids = Vec::new();
        enum_values(model, &mut ids);
        assert!(!ids.is_empty(), "{stem}: no model ids");
        for id in ids {
            let m = Model::from_id(&id);
            assert!(
                m.is_known(),
                "{stem}: model id {id} is not in the model table"
            );
            assert!(
                m.page().unwrap().ids.contains(&id.as_str()),
                "{stem}: {id} maps to a page that does not list it"
            );
            let typed = if stem.starts_with("openrouter-") {
                matches!(
                    serde_json::from_value::<OpenRouterModelId>(serde_json::json!(id)),
                    Ok(OpenRouterModelId::KnownOpenRouterModelId(_))
                )
            } else {
                matches!(
                    serde_json::from_value::<ModelId>(serde_json::json!(id)),
                    Ok(ModelId::KnownModelId(_))
                )
            };
            assert!(typed, "{stem}: {id} is not a typed model id");
            checked += 1;
        }
    }
    assert!(
        checked >= 60,
        "only {checked} ids checked: did the documents change shape?"
    );
}

#[test]
fn each_provider_has_its_base_url_and_key_variable() {
    assert_eq!(Provider::AimlApi.base_url(), "https://api.aimlapi.com");
    assert_eq!(Provider::AimlApi.key_variable(), Some("AIMLAPI_API_KEY"));
    assert_eq!(
        Provider::open_router().base_url(),
        "https://openrouter.ai/api"
    );
    assert_eq!(
        Provider::open_router().key_variable(),
        Some("OPENROUTER_API_KEY")
    );
    assert_eq!(
        Provider::custom("http://127.0.0.1:8080/").base_url(),
        "http://127.0.0.1:8080"
    );
    assert_eq!(Provider::custom("x").kind(), ProviderKind::Custom);
}

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_shows_in_debug_errors_or_tracing() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = mock().await;
    server.push(Reply::status(500).body("try again"));
    server.push(Reply::status(200).body(COMPLETION));
    server.push(
        Reply::status(401)
            .body(r#"{"message":"This request requires a valid API key.","statusCode":401}"#),
    );
    let quick = RetryPolicy {
        initial_backoff: std::time::Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    let builder = Client::builder()
        .base_url(server.base_url())
        .api_key(KEY)
        .retry(quick)
        .log_contents(true);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let done = client.chat_completion(&hello()).await.unwrap();
    let err = client.chat_completion(&hello()).await.unwrap_err();

    let texts = [
        builder_debug,
        format!("{client:?}"),
        format!("{done:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{:?}", aimlapi::provider::ApiKey::new(KEY)),
        format!("{}", aimlapi::provider::ApiKey::new(KEY)),
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap(),
    ];
    let logs = &texts[texts.len() - 1];
    assert!(
        logs.contains("aimlapi") && logs.contains("retrying") && logs.contains("attempt"),
        "tracing captured nothing useful:\n{logs}"
    );
    assert!(logs.contains("Hello"), "contents are logged when asked for");
    for text in &texts {
        assert!(
            !text.contains(KEY) && !text.contains("4f1c9e77d2"),
            "the key leaked:\n{text}"
        );
    }
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str()),
        "and yet it was sent"
    );
}

/// A property the model's page does not list is refused before anything is sent, naming both;
/// the same request to a model whose page lists it goes out; both switches send it anyway.
#[tokio::test]
async fn a_property_the_page_does_not_take_is_refused_before_sending() {
    let server = mock().await;
    let client = |check: bool| {
        Client::builder()
            .provider(Provider::AimlApi)
            .base_url(server.base_url())
            .api_key(KEY)
            .retry(RetryPolicy::none())
            .check_properties(check)
            .build()
            .unwrap()
    };
    let request = |model: &str| -> AnthropicChatRequest {
        serde_json::from_value(serde_json::json!({
            "model": model,
            "messages": [{"role": "user", "content": "Hello"}],
            "temperature": 0.2,
        }))
        .unwrap()
    };
    let err = client(true)
        .chat_completion(&request("claude-opus-4-7"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), aimlapi::ErrorKind::Unsupported);
    let text = err.to_string();
    assert!(
        text.contains("claude-opus-4-7") && text.contains("`temperature`"),
        "{text}"
    );
    // Streams are checked the same way.
    let err = client(true)
        .stream(&request("claude-opus-4-7"), &RequestOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), aimlapi::ErrorKind::Unsupported);
    assert_eq!(server.requests().len(), 0, "nothing was sent");

    client(true)
        .chat_completion(&request("claude-sonnet-4-5"))
        .await
        .unwrap();
    let anyway = RequestOptions {
        send_unsupported: true,
        ..RequestOptions::default()
    };
    client(true)
        .chat_completion_with(&request("claude-opus-4-7"), &anyway)
        .await
        .unwrap();
    client(false)
        .chat_completion(&request("claude-opus-4-7"))
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.body["temperature"] == 0.2));
    assert_eq!(seen[0].body["model"], "claude-sonnet-4-5");
    assert_eq!(seen[1].body["model"], "claude-opus-4-7");
}

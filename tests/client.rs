//! The generated clients over loopback HTTP: every request type shares one response type, and
//! each client sends its request shape.

use aimlapi_client::{anthropic_chat, chat_completion, open_router};
use aimlapi_mock::{MockServer, Reply};
use aimlapi_tests::fixture;
use aimlapi_types::*;

/// The mock, answering each request with the next of `responses` (JSON bodies, status 200); it
/// records what it received.
async fn serve(responses: Vec<String>) -> MockServer {
    let mock = MockServer::start().await;
    for body in responses {
        mock.push(Reply::status(200).body(body));
    }
    mock
}

fn user_hello() -> Message {
    Message::UserMessage(UserMessage {
        content: UserContent::String("Hello".into()),
        name: None,
        role: UserMessageRole::User,
    })
}

/// The OpenAI-style and the Anthropic-style clients return the one `ChatCompletion` type.
async fn completions(
    haiku: &chat_completion::Client,
    sonnet: &anthropic_chat::Client,
) -> Vec<ChatCompletion> {
    let h: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::Claude35HaikuLatest)
        .messages(vec![user_hello()])
        .try_into()
        .unwrap();
    let s: AnthropicChatRequest = serde_json::from_value(serde_json::json!({
        "model": "claude-3-5-sonnet-latest",
        "messages": [{"role": "user", "content": "Hello"}],
    }))
    .unwrap();
    vec![
        haiku.create_chat_completion(&h).await.unwrap().into_inner(),
        sonnet
            .create_chat_completion(&s)
            .await
            .unwrap()
            .into_inner(),
    ]
}

#[tokio::test]
async fn both_dialects_share_the_response_type() {
    let mock = serve(vec![
        fixture("seed-000-response.json"),
        fixture("seed-001-response.json"),
    ])
    .await;
    let base = mock.base_url();
    let got = completions(
        &chat_completion::Client::new(base, Default::default()),
        &anthropic_chat::Client::new(base, Default::default()),
    )
    .await;
    let texts: Vec<_> = got
        .iter()
        .map(|c| {
            c.choices[0]
                .message
                .as_ref()
                .unwrap()
                .content
                .clone()
                .unwrap()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "Hi there! How are you doing today? Is there anything I can help you with?",
            "Hi! How can I help you today?"
        ]
    );

    let seen = mock.requests();
    let first = &seen[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        first.body,
        serde_json::json!({"model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "Hello"}]})
    );
    let second = &seen[1];
    assert_eq!(
        second.body,
        serde_json::json!({"model": "claude-3-5-sonnet-latest", "messages": [{"role": "user", "content": "Hello"}]})
    );
}

/// Pages of one wire shape share one request type; the model table says which page takes which.
#[test]
fn the_model_table_names_each_page_s_request_type() {
    let request = |page: &str| {
        MODEL_PAGES
            .iter()
            .find(|p| p.page == page)
            .unwrap_or_else(|| panic!("no page {page}"))
            .request
    };
    assert_eq!(request("claude-3-5-haiku"), Some("ChatCompletionRequest"));
    assert_eq!(request("claude-3.7-sonnet"), Some("ChatCompletionRequest"));
    assert_eq!(request("claude-3.5-sonnet"), Some("AnthropicChatRequest"));
    assert_eq!(request("claude-sonnet-4-5"), Some("AnthropicChatRequest"));
    assert_eq!(request("claude-opus-4-7"), Some("AnthropicChatRequest"));
    assert_eq!(request("claude-opus-5"), Some("HybridChatRequest"));
    assert_eq!(request("claude-sonnet-4"), Some("OpenRouterStyleRequest"));
    assert_eq!(
        request("openrouter-claude-3-5-haiku"),
        Some("OpenRouterRequest")
    );
    // Every bundled model page (a document with a request body) is in the table with its
    // model ids; the service documents (the catalogue's, the batches', the account's, the
    // metrics') are not model pages.
    let services = [
        "aimlapi-models",
        "aimlapi-batches",
        "aimlapi-account",
        "aimlapi-metrics",
    ];
    let service = |stem: &str| services.contains(&stem);
    let model_documents = DOCUMENTS
        .iter()
        .filter(|(stem, text)| text.contains("\"requestBody\"") && !service(stem))
        .count();
    assert_eq!(MODEL_PAGES.len(), model_documents);
    assert_eq!(model_documents + services.len(), DOCUMENTS.len());
    assert!(MODEL_PAGES.iter().all(|p| !p.ids.is_empty()));
}

#[tokio::test]
async fn the_openrouter_client_sends_its_headers_and_model_id() {
    let mock = serve(vec![fixture("seed-003-response.json")]).await;
    let client = open_router::Client::new(mock.base_url(), Default::default());
    let req: OpenRouterRequest = OpenRouterRequest::builder()
        .model(KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![user_hello()])
        .try_into()
        .unwrap();
    let done = client
        .create_chat_completion(Some("https://example.com"), Some("Example"), &req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.usage.unwrap().total_tokens, Some(1051));
    let s = &mock.requests()[0];
    assert_eq!(s.header("http-referer"), Some("https://example.com"));
    assert_eq!(s.header("x-title"), Some("Example"));
    assert_eq!(s.body["model"], "anthropic/claude-3.5-haiku");
}

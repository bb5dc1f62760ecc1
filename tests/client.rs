//! The generated clients over loopback HTTP: every request type shares one response type, and
//! each client sends its request shape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use aimlapi_client::{anthropic_chat, chat_completion, open_router};
use aimlapi_tests::fixture;
use aimlapi_types::*;
use serde_json::Value;

/// One request as the server saw it.
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

/// Serves `responses.len()` requests on 127.0.0.1 (a free port), one per connection, answering each
/// with the next JSON body; reports what it received. Stops by itself after the last one, or
/// after 10 s without a connection.
fn serve(responses: Vec<String>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    listener.set_nonblocking(false).unwrap();
    thread::spawn(move || {
        for body in responses {
            let (stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (k, v) = line.split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut raw = vec![0; len];
            reader.read_exact(&mut raw).unwrap();
            let mut stream = stream;
            write!(stream, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
            tx.send(Seen {
                request_line: request_line.trim_end().into(),
                headers,
                body: serde_json::from_slice(&raw).unwrap(),
            })
            .unwrap();
        }
    });
    (base, rx)
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
    let (base, seen) = serve(vec![
        fixture("seed-000-response.json"),
        fixture("seed-001-response.json"),
    ]);
    let got = completions(
        &chat_completion::Client::new(&base, Default::default()),
        &anthropic_chat::Client::new(&base, Default::default()),
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

    let first = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(first.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(
        first.body,
        serde_json::json!({"model": "claude-3-5-haiku-latest", "messages": [{"role": "user", "content": "Hello"}]})
    );
    let second = seen.recv_timeout(Duration::from_secs(10)).unwrap();
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
    // Every bundled page is in the table with its model ids.
    assert_eq!(MODEL_PAGES.len(), DOCUMENTS.len());
    assert!(MODEL_PAGES.iter().all(|p| !p.ids.is_empty()));
}

#[tokio::test]
async fn the_openrouter_client_sends_its_headers_and_model_id() {
    let (base, seen) = serve(vec![fixture("seed-003-response.json")]);
    let client = open_router::Client::new(&base, Default::default());
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
    let s = seen.recv_timeout(Duration::from_secs(10)).unwrap();
    let header = |k: &str| {
        s.headers
            .iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("http-referer").as_deref(),
        Some("https://example.com")
    );
    assert_eq!(header("x-title").as_deref(), Some("Example"));
    assert_eq!(s.body["model"], "anthropic/claude-3.5-haiku");
}

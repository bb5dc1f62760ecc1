//! The generated clients over loopback HTTP: both request dialects share one response type, and
//! each client sends its document's request shape.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use aimlapi_client::{claude_3_5_haiku, claude_3_5_sonnet, openrouter_claude_3_5_haiku};
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
    haiku: &claude_3_5_haiku::Client,
    sonnet: &claude_3_5_sonnet::Client,
) -> Vec<ChatCompletion> {
    let h: Claude35HaikuRequest = Claude35HaikuRequest::builder()
        .model(KnownClaude35HaikuModelId::Claude35HaikuLatest)
        .messages(vec![user_hello()])
        .try_into()
        .unwrap();
    let s: Claude35SonnetRequest = Claude35SonnetRequest::builder()
        .model(KnownClaude35SonnetModelId::Claude35SonnetLatest)
        .messages(vec![Claude35SonnetMessage {
            content: Claude35SonnetContent::String("Hello".into()),
            role: Claude35SonnetMessageRole::User,
        }])
        .try_into()
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
        &claude_3_5_haiku::Client::new(&base, Default::default()),
        &claude_3_5_sonnet::Client::new(&base, Default::default()),
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

#[test]
fn the_normalized_documents_point_both_dialects_at_one_response_component() {
    let docs: Vec<(&str, Value)> = DOCUMENTS
        .iter()
        .map(|(stem, text)| (*stem, serde_json::from_str(text).unwrap()))
        .collect();
    let pointer = |stem: &str, p: &str| -> Value {
        let doc = &docs.iter().find(|(s, _)| *s == stem).unwrap().1;
        doc.pointer(&format!("/paths/~1v1~1chat~1completions/post{p}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let response = "/responses/200/content/application~1json/schema/$ref";
    let request = "/requestBody/content/application~1json/schema/$ref";
    assert_eq!(
        pointer("claude-3-5-haiku", response),
        "#/components/schemas/ChatCompletion"
    );
    assert_eq!(
        pointer("claude-3-5-sonnet", response),
        "#/components/schemas/ChatCompletion"
    );
    assert_eq!(
        pointer("claude-3-5-haiku", request),
        "#/components/schemas/Claude35HaikuRequest"
    );
    assert_eq!(
        pointer("claude-3-5-sonnet", request),
        "#/components/schemas/Claude35SonnetRequest"
    );
    let stream = "/responses/200/content/text~1event-stream/schema/$ref";
    assert_eq!(
        pointer("claude-3-5-haiku", stream),
        "#/components/schemas/ChatCompletionChunk"
    );
    assert_eq!(
        pointer("claude-3-5-sonnet", stream),
        "#/components/schemas/ChatCompletionChunk"
    );
}

#[tokio::test]
async fn the_openrouter_client_sends_its_headers_and_model_id() {
    let (base, seen) = serve(vec![fixture("seed-003-response.json")]);
    let client = openrouter_claude_3_5_haiku::Client::new(&base, Default::default());
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

//! Shared pieces of the client's tests: the seed's request and response, and a raw HTTP/1.1
//! server on 127.0.0.1 (a free port) for the tests that need what the mock (`aimlapi-mock`, the
//! server every other test uses) does not do: a server that reads a request and never answers,
//! streams in exact HTTP chunks that then stall, and a count of the connections the client
//! closed (policy.rs, streaming.rs). Each connection gets one request and one reply: the next
//! one of the script (the last one repeats). It records what it received. Its tasks end with
//! the test's runtime.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Answers with this status, these headers and this body.
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Streams these chunks as `text/event-stream`, one HTTP chunk each, then ends, or, with
    /// `stall`, keeps the connection open and sends nothing more.
    Stream { chunks: Vec<String>, stall: bool },
    /// Reads the request and never answers.
    Hang,
    /// Answers 200 with a chunked body of this content type: `first`, then `repeat` again and
    /// again, one HTTP chunk every `every`, until the client goes (at most 30 s).
    Drip {
        content_type: &'static str,
        first: String,
        repeat: String,
        every: Duration,
    },
    /// Answers 200 with the JSON this gives for the request's number (from 0) and request line.
    Computed(fn(usize, &str) -> String),
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Reply {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name, value.to_string()));
        }
        self
    }
}

/// A request as received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: serde_json::Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub struct Server {
    pub base_url: String,
    attempts: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Connections the server saw closed by the client.
    pub closed: Arc<AtomicUsize>,
}

impl Server {
    pub async fn start(script: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let attempts = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let closed = Arc::new(AtomicUsize::new(0));
        let (a, s, c) = (attempts.clone(), seen.clone(), closed.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let n = a.fetch_add(1, Ordering::SeqCst);
                let reply = script[n.min(script.len() - 1)].clone();
                let (s, c) = (s.clone(), c.clone());
                tokio::spawn(async move { serve(stream, n, reply, s, c).await });
            }
        });
        Server {
            base_url,
            attempts,
            seen,
            closed,
        }
    }

    /// How many requests arrived.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    n: usize,
    reply: Reply,
    seen: Arc<Mutex<Vec<Seen>>>,
    closed: Arc<AtomicUsize>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let reply = match reply {
        Reply::Computed(answer) => Reply::status(200, &answer(n, &request_line)),
        other => other,
    };
    seen.lock().unwrap().push(Seen {
        request_line,
        headers,
        body,
    });
    match reply {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut out = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                out.push_str("content-type: application/json\r\n");
            }
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = stream.write_all(out.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Reply::Stream { chunks, stall } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for c in chunks {
                let framed = format!("{:x}\r\n{c}\r\n", c.len());
                if stream.write_all(framed.as_bytes()).await.is_err() {
                    closed.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                let _ = stream.flush().await;
            }
            if stall {
                // Wait until the client goes away (a read of 0 bytes), bounded at 30 s.
                let mut probe = [0u8; 1];
                if let Ok(Ok(0)) =
                    tokio::time::timeout(Duration::from_secs(30), stream.read(&mut probe)).await
                {
                    closed.fetch_add(1, Ordering::SeqCst);
                }
                return;
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
        Reply::Hang => {
            let mut probe = [0u8; 1];
            let _ = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut probe)).await;
        }
        Reply::Drip {
            content_type,
            first,
            repeat,
            every,
        } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n");
            let chunk = |c: &str| format!("{:x}\r\n{c}\r\n", c.len());
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            if !first.is_empty() && stream.write_all(chunk(&first).as_bytes()).await.is_err() {
                return;
            }
            let until = tokio::time::Instant::now() + Duration::from_secs(30);
            while tokio::time::Instant::now() < until {
                tokio::time::sleep(every).await;
                if stream.write_all(chunk(&repeat).as_bytes()).await.is_err() {
                    closed.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
        }
        Reply::Computed(_) => unreachable!("answered above"),
    }
}

/// A Claude 3.5 Haiku request saying "Hello" (seed 000's body). A struct literal, so that it
/// builds with the lean feature set too (no builders, no reading requests from JSON).
pub fn hello() -> aimlapi::types::ChatCompletionRequest {
    aimlapi::types::ChatCompletionRequest {
        model: aimlapi::types::KnownModelId::Claude35HaikuLatest.into(),
        messages: vec![aimlapi::request::user("Hello")],
        audio: None,
        frequency_penalty: None,
        logit_bias: None,
        logprobs: None,
        max_completion_tokens: None,
        max_tokens: None,
        modalities: None,
        n: None,
        parallel_tool_calls: None,
        prediction: None,
        presence_penalty: None,
        reasoning_effort: None,
        response_format: None,
        seed: None,
        stop: None,
        stream: None,
        stream_options: None,
        temperature: None,
        tool_choice: None,
        tools: Vec::new(),
        top_logprobs: None,
        top_p: None,
        web_search_options: None,
    }
}

/// The AI/ML API's documented response for Claude 3.5 Haiku (seed 000).
pub const COMPLETION: &str = r#"{"id":"msg_01QfRmDBXVWcARjbwZBbJxrR","object":"chat.completion","model":"claude-3-5-haiku-20241022","choices":[{"index":0,"message":{"reasoning_content":"","content":"Hi there! How are you doing today? Is there anything I can help you with?","role":"assistant"},"finish_reason":"end_turn","logprobs":null}],"created":1744218440,"usage":{"prompt_tokens":17,"completion_tokens":221,"total_tokens":238}}"#;

/// Validates `body` against the request schema of its model's chat page.
pub fn assert_valid(body: &serde_json::Value) {
    let model = body["model"].as_str().expect("the body names its model");
    let page = aimlapi::Model::from_id(model)
        .page()
        .unwrap_or_else(|| panic!("{model} has no page"));
    assert_valid_against(page.page, body);
}

/// Validates `body` against the request schema of the bundled page `page`.
pub fn assert_valid_against(page: &str, body: &serde_json::Value) {
    let (_, schema) = aimlapi::types::REQUEST_SCHEMAS
        .iter()
        .find(|(stem, _)| *stem == page)
        .unwrap_or_else(|| panic!("no request schema for {page}"));
    let schema: serde_json::Value = serde_json::from_str(schema).expect("bundled schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("bundled schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(problems.is_empty(), "{page}: {problems:#?}\n{body:#}");
}

/// A client for `provider` at `base_url` with a test key and no retries.
pub fn test_client(provider: aimlapi::Provider, base_url: &str) -> aimlapi::Client {
    aimlapi::Client::builder()
        .provider(provider)
        .base_url(base_url)
        .api_key("test-key")
        .retry(aimlapi::RetryPolicy::none())
        .build()
        .expect("a test client builds")
}

/// An OpenRouter client for the mock's OpenRouter path (`{mock}/api`).
pub fn openrouter_client(mock_base_url: &str) -> aimlapi::Client {
    let provider = aimlapi::Provider::OpenRouter {
        referer: None,
        title: None,
    };
    test_client(provider, &format!("{mock_base_url}/api"))
}

//! The caller's own `reqwest::Client`: a request through a local HTTP proxy reaches the mock
//! with this client's headers, and the timeouts and body limit still apply; and a connection the
//! server closed while idle is not a failed attempt.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aimlapi::{Client, ErrorKind, Provider, RetryPolicy, Timeouts};
use aimlapi_mock::MockServer;
use common::COMPLETION;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "sk-proxy-0123456789";

/// Reads one request's head (to its blank line); `None` when the connection ends first.
async fn read_head(socket: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(head)
}

/// The `content-length` of a request head (0 without one).
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// A forward proxy on 127.0.0.1 (plain HTTP, absolute-form requests, no CONNECT): each
/// connection goes to the host its first request names, bytes passed as they are. Counts the
/// connections it carried.
async fn proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let carried = Arc::new(AtomicUsize::new(0));
    let count = carried.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let text = String::from_utf8_lossy(&head).to_string();
                let target = text.split_whitespace().nth(1).unwrap_or_default();
                let Some(rest) = target.strip_prefix("http://") else {
                    return;
                };
                let host = rest.split('/').next().unwrap_or_default().to_string();
                let Ok(mut upstream) = TcpStream::connect(&host).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                if upstream.write_all(&head).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, carried)
}

fn through(proxy_url: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(proxy_url).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_request_through_the_caller_s_proxy_reaches_the_mock_with_this_client_s_headers() {
    let mock = MockServer::builder().api_key(KEY).start().await.unwrap();
    let (proxy_url, carried) = proxy().await;
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key(KEY)
        .http_client(through(&proxy_url))
        .build()
        .unwrap();
    let done = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap();
    assert!(done.text().is_some());
    assert!(
        carried.load(Ordering::SeqCst) >= 1,
        "the proxy carried the request"
    );
    let seen = mock.requests().pop().unwrap();
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(seen
        .header("user-agent")
        .unwrap()
        .starts_with("aimlapi-rust/"));
    assert!(seen.header("x-client-request-id").is_some());
    assert!(
        !format!("{c:?}").contains(KEY),
        "the key stays out of Debug"
    );
}

#[tokio::test]
async fn the_timeouts_and_the_body_limit_still_apply_with_the_caller_s_client() {
    // A server that takes the request and never answers: the client's request timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&base)
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .timeouts(Timeouts {
            request: Duration::from_millis(300),
            ..Timeouts::default()
        })
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let e = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));

    let mock = MockServer::builder().start().await.unwrap();
    let small = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key(KEY)
        .max_response_body(64)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    let e = small
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
}

/// A keep-alive server that answers each request with the documented completion and closes a
/// connection left idle for `idle`; counts the requests it answered.
async fn closing_idle_connections(idle: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                loop {
                    let Ok(Some(head)) = tokio::time::timeout(idle, read_head(&mut socket)).await
                    else {
                        return; // idle too long (or gone): closed
                    };
                    let mut body = vec![0u8; content_length(&head)];
                    if socket.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    count.fetch_add(1, Ordering::SeqCst);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{COMPLETION}",
                        COMPLETION.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, answered)
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_not_a_failed_attempt() {
    let (base, answered) = closing_idle_connections(Duration::from_secs(1)).await;
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&base)
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let first = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap();
    assert_eq!(first.meta.attempts, 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap();
    assert_eq!(
        second.meta.attempts, 1,
        "one attempt, though the pooled connection was closed"
    );
    assert_eq!(answered.load(Ordering::SeqCst), 2);
}

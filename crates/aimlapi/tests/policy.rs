//! The client's policy over loopback HTTP, one test per row: errors, retries, timeouts. Each
//! asserts how many attempts the server saw.

mod common;

use std::time::{Duration, Instant};

use aimlapi::{Client, Error, ErrorKind, Provider, RequestOptions, RetryPolicy};
use common::{hello, Reply, Server, COMPLETION};
use futures::StreamExt;

const KEY: &str = "sk-test-0123456789abcdef";

/// Fast retries (no jitter), so the tests measure what they mean to.
fn quick() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(20),
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

fn client(server: &Server) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&server.base_url)
        .api_key(KEY)
        .retry(quick())
        .build()
        .unwrap()
}

async fn fails(script: Vec<Reply>) -> (Error, usize) {
    let server = Server::start(script).await;
    let err = client(&server).chat_completion(&hello()).await.unwrap_err();
    (err, server.attempts())
}

#[tokio::test]
async fn unauthorized_is_an_authentication_error_and_not_retried() {
    let body = r#"{"message":"This request requires a valid API key. You can create a new API key on the Billing page: https://aimlapi.com/app/keys","path":"/v1/chat/completions","requestId":"req-401","statusCode":401,"timestamp":"2026-01-01T00:00:00.000Z"}"#;
    let (err, attempts) = fails(vec![Reply::status(401, body)]).await;
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(attempts, 1);
    let http = err.http().unwrap();
    assert!(http
        .message
        .starts_with("This request requires a valid API key"));
    assert_eq!(http.request_id.as_deref(), Some("req-401"));
    assert_eq!(http.body, body);
}

#[tokio::test]
async fn forbidden_is_insufficient_credits() {
    let body = r#"{"message":"You've run out of credits. Please top up your balance or update your payment method to continue: https://aimlapi.com/app/billing/","statusCode":403}"#;
    let (err, attempts) = fails(vec![Reply::status(403, body)]).await;
    assert_eq!(err.kind(), ErrorKind::InsufficientCredits);
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn rate_limit_with_retry_after_waits_about_a_second_then_succeeds() {
    let server = Server::start(vec![
        Reply::status(429, r#"{"message":"Too Many Requests","statusCode":"429"}"#)
            .with_header("retry-after", "1"),
        Reply::status(200, COMPLETION)
            .with_header("x-aimlapi-usd-spent", "0.000898")
            .with_header("x-inference-id", "inf-1"),
    ])
    .await;
    let started = Instant::now();
    let done = client(&server).chat_completion(&hello()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
    assert_eq!(server.attempts(), 2);
    assert_eq!(done.meta.attempts, 2);
    assert_eq!(done.meta.request_id.as_deref(), Some("inf-1"));
    assert_eq!(done.meta.usd_spent, Some(0.000898));
    assert_eq!(done.usage().unwrap().total_tokens, 238);
    let cost = done.estimated_cost().unwrap();
    assert!(
        (cost - (17.0 * 0.8 + 221.0 * 4.0) / 1e6).abs() < 1e-12,
        "{cost}"
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_ms_is_honoured() {
    let server = Server::start(vec![
        Reply::status(429, "Too Many Requests")
            .with_header("retry-after-ms", "700")
            .with_header("retry-after", "9"),
        Reply::status(200, COMPLETION),
    ])
    .await;
    let started = Instant::now();
    client(&server).chat_completion(&hello()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(680) && waited < Duration::from_secs(3),
        "waited {waited:?}: retry-after-ms wins over retry-after"
    );
    assert_eq!(server.attempts(), 2);
}

#[tokio::test]
async fn a_rate_limit_that_persists_keeps_its_retry_after() {
    let (err, attempts) = fails(vec![
        Reply::status(429, "Too Many Requests").with_header("retry-after-ms", "10")
    ])
    .await;
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        err.http().unwrap().retry_after,
        Some(Duration::from_millis(10))
    );
    assert_eq!(attempts, 3);
}

#[tokio::test]
async fn a_server_error_then_success_is_retried() {
    let server = Server::start(vec![
        Reply::status(500, "upstream failed"),
        Reply::status(200, COMPLETION),
    ])
    .await;
    let done = client(&server).chat_completion(&hello()).await.unwrap();
    assert_eq!(server.attempts(), 2);
    assert_eq!(done.meta.attempts, 2);
}

#[tokio::test]
async fn three_server_errors_give_up_after_two_retries_with_the_last_error() {
    let (err, attempts) = fails(vec![
        Reply::status(500, "first"),
        Reply::status(502, "second"),
        Reply::status(503, "third"),
    ])
    .await;
    assert_eq!(attempts, 3);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status().unwrap().as_u16(), 503);
    assert_eq!(err.http().unwrap().message, "third");
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let (err, attempts) = fails(vec![
        Reply::status(500, "no").with_header("x-should-retry", "false"),
        Reply::status(200, COMPLETION),
    ])
    .await;
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn bad_requests_read_every_error_shape() {
    let cases = [
        (
            r#"{"message":"Body validation error!","path":"/v1/chat/completions","requestId":"r1","statusCode":400,"timestamp":"t"}"#,
            "Body validation error!",
            Some("400"),
        ),
        (
            r#"{"message":"Body validation error!","statusCode":"400"}"#,
            "Body validation error!",
            Some("400"),
        ),
        (
            r#"{"error":{"code":400,"message":"model is required","metadata":{}}}"#,
            "model is required",
            Some("400"),
        ),
        (
            r#"{"error":{"code":"invalid_request_error","message":"bad temperature","type":"invalid_request_error","param":"temperature"}}"#,
            "bad temperature",
            Some("invalid_request_error"),
        ),
        ("Body validation error!", "Body validation error!", None),
    ];
    for (body, message, code) in cases {
        let (err, attempts) = fails(vec![Reply::status(400, body)]).await;
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{body}");
        assert_eq!(attempts, 1, "{body}");
        let http = err.http().unwrap();
        assert_eq!(
            (http.message.as_str(), http.code.as_deref()),
            (message, code),
            "{body}"
        );
        assert_eq!(http.body, body);
    }
    let (err, _) = fails(vec![Reply::status(
        422,
        r#"{"error":{"code":422,"message":"unprocessable"}}"#,
    )])
    .await;
    assert_eq!(err.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn connection_refused_is_a_connection_error_after_the_retries() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key(KEY)
        .retry(quick())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat_completion(&hello()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    // Two retries waited 20 ms and 40 ms: the server saw nothing, the clock saw the retries.
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_each_attempt() {
    let server = Server::start(vec![Reply::Hang]).await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .api_key(KEY)
        .retry(quick())
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.chat_completion(&hello()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(server.attempts(), 3);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stream_that_stalls_mid_way_hits_the_idle_timeout() {
    let first = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\",\"role\":\"assistant\"}}],\"created\":1,\"model\":\"m\",\"object\":\"chat.completion.chunk\"}\n\n";
    let server = Server::start(vec![Reply::Stream {
        chunks: vec![first.to_string()],
        stall: true,
    }])
    .await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .api_key(KEY)
        .retry(quick())
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut stream = client
        .stream_bytes(&hello(), &RequestOptions::default())
        .await
        .unwrap();
    let got = stream.next().await.unwrap().unwrap();
    assert_eq!(got, first.as_bytes());
    // A reader busy for longer than the idle timeout loses nothing by it: the wait counts from
    // when it asks for the next chunk.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let started = Instant::now();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(280),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the timeout"
    );
    assert_eq!(
        server.attempts(),
        1,
        "a stream that started is never retried"
    );
    assert_eq!(server.seen()[0].body["stream"], true);
    // Dropping the stream closes the connection: the server sees the close.
    drop(stream);
    for _ in 0..100 {
        if server.closed.load(std::sync::atomic::Ordering::SeqCst) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server never saw the connection close");
}

/// A body over the client's limit fails with an error naming the limit, whether the server
/// announces its length or streams it chunked; a body of exactly the limit is read. An error
/// body over the limit still reads as its HTTP error (the rest left unread).
#[tokio::test]
async fn a_response_body_over_the_limit_fails_naming_the_limit() {
    const LIMIT: usize = 64 << 10;
    let exactly = format!("{COMPLETION}{}", " ".repeat(LIMIT - COMPLETION.len()));
    let over = format!("{exactly} ");
    let limited = |server: &Server| {
        Client::builder()
            .provider(Provider::AimlApi)
            .base_url(&server.base_url)
            .api_key(KEY)
            .retry(quick())
            .max_response_body(LIMIT)
            .build()
            .unwrap()
    };
    // Announced with Content-Length.
    let server = Server::start(vec![Reply::status(200, &over)]).await;
    let err = limited(&server)
        .chat_completion(&hello())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge);
    assert!(err.to_string().contains("65536 bytes"), "{err}");
    assert!(err.to_string().contains("max_response_body"), "{err}");
    assert_eq!(server.attempts(), 1, "not retried");
    // Chunked, no length: found while reading.
    let pieces: Vec<String> = over
        .as_bytes()
        .chunks(4096)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let server = Server::start(vec![Reply::Stream {
        chunks: pieces,
        stall: false,
    }])
    .await;
    let err = limited(&server)
        .chat_completion(&hello())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    // Exactly the limit is fine.
    let server = Server::start(vec![Reply::status(200, &exactly)]).await;
    let done = limited(&server).chat_completion(&hello()).await.unwrap();
    assert!(done.text().unwrap().starts_with("Hi there!"));
    // An error body over the limit: still a rate limit, its message read from what fit.
    let server = Server::start(vec![Reply::status(
        429,
        &format!("Too Many Requests{}", "!".repeat(2 * LIMIT)),
    )])
    .await;
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&server.base_url)
        .api_key(KEY)
        .retry(RetryPolicy::none())
        .max_response_body(LIMIT)
        .build()
        .unwrap();
    let err = client.chat_completion(&hello()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.http().unwrap().body.len(), LIMIT);
}

/// A stream carries what a non-streaming call does: status, request id, headers, attempts.
#[tokio::test]
async fn a_stream_has_its_response_meta() {
    let server = Server::start(vec![
        Reply::status(503, "{}"),
        Reply::Stream {
            chunks: vec!["data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n".into()],
            stall: false,
        },
    ])
    .await;
    let stream = client(&server)
        .stream(&hello(), &RequestOptions::default())
        .await
        .unwrap();
    let meta = stream.meta().clone();
    assert_eq!(meta.status, 200);
    assert_eq!(meta.attempts, 2);
    assert_eq!(meta.model.to_string(), "claude-3-5-haiku-latest");
    assert_eq!(
        meta.headers.get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut stream = stream;
    while let Some(item) = stream.next().await {
        item.unwrap();
    }
    assert_eq!(stream.meta().attempts, 2, "still there after the end");
    let bytes = client(&server)
        .stream_bytes(&hello(), &RequestOptions::default())
        .await
        .unwrap();
    assert_eq!(bytes.meta().attempts, 1);
}

#[test]
fn a_base_url_that_is_not_an_http_url_is_refused_when_the_client_is_built() {
    for (base, says) in [
        ("api.aimlapi.com", "is not a URL"),
        ("http://exa mple.com", "is not a URL"),
        ("mailto:team@example.com", "not an http(s) URL with a host"),
        ("ftp://example.com", "not an http(s) URL with a host"),
    ] {
        let err = Client::builder()
            .base_url(base)
            .api_key(KEY)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{base}");
        let text = err.to_string();
        assert!(text.contains(base) && text.contains(says), "{base}: {text}");
        assert!(!text.contains(KEY), "{text}");
    }
    for base in [
        "http://127.0.0.1:9",
        "https://api.aimlapi.com/",
        "http://[::1]:8080/proxy",
    ] {
        Client::builder()
            .base_url(base)
            .api_key(KEY)
            .build()
            .unwrap();
    }
}

#[tokio::test]
async fn each_rate_limit_family_is_read_and_a_429_naming_a_reset_waits_for_it() {
    // Anthropic's family on a success, read from the answer's meta.
    let server = Server::start(vec![Reply::status(200, COMPLETION)
        .with_header("anthropic-ratelimit-requests-limit", "50")
        .with_header("anthropic-ratelimit-requests-remaining", "49")
        .with_header("anthropic-ratelimit-requests-reset", "2030-01-01T00:00:00Z")
        .with_header("anthropic-ratelimit-tokens-remaining", "1000")])
    .await;
    let done = client(&server).chat_completion(&hello()).await.unwrap();
    let limits = done.meta.rate_limits();
    let requests = limits.requests.unwrap();
    assert_eq!((requests.limit, requests.remaining), (Some(50), Some(49)));
    assert!(requests.reset.is_some());
    assert_eq!(limits.tokens.unwrap().remaining, Some(1000));

    // OpenAI-style: a 429 with no Retry-After whose spent limit resets in 1 s waits for it.
    let server = Server::start(vec![
        Reply::status(429, r#"{"message":"Too Many Requests","statusCode":429}"#)
            .with_header("x-ratelimit-limit-requests", "3")
            .with_header("x-ratelimit-remaining-requests", "0")
            .with_header("x-ratelimit-reset-requests", "1s"),
        Reply::status(200, COMPLETION),
    ])
    .await;
    let started = Instant::now();
    client(&server).chat_completion(&hello()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(3),
        "waited {waited:?}"
    );
    assert_eq!(server.attempts(), 2);

    // OpenRouter's family on an error, with the wait capped by the policy.
    let far = std::time::SystemTime::now() + Duration::from_secs(3600);
    let ms = far
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let server = Server::start(vec![
        Reply::status(
            429,
            r#"{"error":{"code":429,"message":"Rate limit exceeded"}}"#,
        )
        .with_header("X-RateLimit-Limit", "20")
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", &ms),
        Reply::status(200, COMPLETION),
    ])
    .await;
    let capped = RetryPolicy {
        max_retry_after: Duration::from_millis(300),
        ..quick()
    };
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&server.base_url)
        .api_key(KEY)
        .retry(capped)
        .build()
        .unwrap();
    let started = Instant::now();
    c.chat_completion(&hello()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(280) && waited < Duration::from_secs(2),
        "waited {waited:?}"
    );

    // The error itself carries them too.
    let server = Server::start(vec![
        Reply::status(400, r#"{"message":"bad"}"#).with_header("X-RateLimit-Remaining", "7")
    ])
    .await;
    let e = client(&server).chat_completion(&hello()).await.unwrap_err();
    assert_eq!(
        e.http().unwrap().rate_limits().requests.unwrap().remaining,
        Some(7)
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_says_what_came() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let (err, attempts) = fails(vec![
        Reply::status(200, page).with_header("content-type", "text/html")
    ])
    .await;
    assert_eq!(attempts, 1);
    assert_eq!(err.kind(), ErrorKind::Decode);
    let text = err.to_string();
    for part in [
        "HTTP 200",
        "content type text/html",
        "bytes",
        "<html><head><title>502",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    // A truncated body: its length and its start.
    let (err, _) = fails(vec![Reply::status(200, &COMPLETION[..40])]).await;
    let text = err.to_string();
    assert!(text.contains("40 bytes"), "{text}");
    assert!(text.contains("application/json"), "{text}");
    assert!(text.contains(r#"{\"id\":\"msg_01"#), "{text}");
}

//! Peak memory of a non-streaming call whose server sends a huge body (chunked, no length, so
//! the client cannot refuse it up front): with the default 32 MiB limit the call fails after
//! reading about the limit, and the process's peak RSS grows by about the limit, not by the
//! body. For contrast, the same call with the limit switched off (`usize::MAX`) on a body a
//! quarter as large. Bounded: each body is a fixed size and each call has a 120 s timeout.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench body_limit
//! BODY_MIB=1024 cargo bench -p aimlapi-bench --bench body_limit   # the default
//! ```

use std::time::{Duration, Instant};

use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::{Client, ClientBuilder, Provider, RetryPolicy};
use aimlapi_bench::{peak_rss_kib, read_request};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Serves one answer per connection: `total` bytes of a JSON string's inside, chunked.
async fn serve(listener: TcpListener, total: usize) {
    let piece = vec![b'a'; 64 << 10];
    while let Ok((mut socket, _)) = listener.accept().await {
        let piece = piece.clone();
        tokio::spawn(async move {
            if !read_request(&mut socket).await {
                return;
            }
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
            frame.extend_from_slice(&piece);
            frame.extend_from_slice(b"\r\n");
            if socket.write_all(head.as_bytes()).await.is_err()
                || socket
                    .write_all(b"b\r\n{\"id\":\"x\",\"\r\n")
                    .await
                    .is_err()
            {
                return;
            }
            let mut sent = 0;
            while sent < total {
                if socket.write_all(&frame).await.is_err() {
                    return; // the client stopped reading
                }
                sent += piece.len();
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
    }
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest::builder()
        .model(KnownModelId::Claude35HaikuLatest)
        .messages(vec![aimlapi::request::user("Hello")])
        .try_into()
        .expect("model and messages are set")
}

async fn call(base_url: &str, limit: usize) -> (String, Duration) {
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(base_url)
        .api_key("k")
        .retry(RetryPolicy::none())
        .request_timeout(Duration::from_secs(120))
        .max_response_body(limit)
        .build()
        .expect("client");
    let started = Instant::now();
    let outcome = match client.chat_completion(&request()).await {
        Ok(_) => "parsed".to_string(),
        Err(e) => format!("{:?}: {e}", e.kind()),
    };
    (outcome, started.elapsed())
}

fn main() {
    let mib: usize = std::env::var("BODY_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let huge = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let huge_url = format!("http://{}", huge.local_addr().expect("addr"));
        tokio::spawn(serve(huge, mib << 20));
        let quarter = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let quarter_url = format!("http://{}", quarter.local_addr().expect("addr"));
        tokio::spawn(serve(quarter, (mib / 4) << 20));

        // Warm up the client stack on a small body so that the baseline includes it.
        let small = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let small_url = format!("http://{}", small.local_addr().expect("addr"));
        tokio::spawn(serve(small, 1 << 20));
        let _ = call(&small_url, ClientBuilder::DEFAULT_MAX_RESPONSE_BODY).await;
        let base = peak_rss_kib().unwrap_or(0);

        let (outcome, took) = call(&huge_url, ClientBuilder::DEFAULT_MAX_RESPONSE_BODY).await;
        let limited = peak_rss_kib().unwrap_or(0);
        println!(
            "{mib} MiB body, limit {} MiB: {outcome} after {:.2} s",
            ClientBuilder::DEFAULT_MAX_RESPONSE_BODY >> 20,
            took.as_secs_f64()
        );
        let growth = limited.saturating_sub(base) as f64 / 1024.0;
        println!(
            "  peak RSS {:.1} MiB -> {:.1} MiB: grew {growth:.1} MiB = {:.2}x the limit",
            base as f64 / 1024.0,
            limited as f64 / 1024.0,
            growth / (ClientBuilder::DEFAULT_MAX_RESPONSE_BODY >> 20) as f64
        );

        let (outcome, took) = call(&quarter_url, usize::MAX).await;
        let unlimited = peak_rss_kib().unwrap_or(0);
        let growth = unlimited.saturating_sub(limited) as f64 / 1024.0;
        println!(
            "{} MiB body, no limit: {outcome} after {:.2} s\n  peak RSS grew a further {growth:.1} MiB = {:.2}x the body",
            mib / 4,
            took.as_secs_f64(),
            growth / (mib / 4) as f64
        );
    });
}

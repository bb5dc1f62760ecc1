//! The cost of one non-streaming call through the client against the same call made with plain
//! reqwest + serde_json, in one process, interleaved.
//!
//! A loopback keep-alive server (its own thread and runtime) answers every request with the
//! documented Claude 3.5 Haiku response (seed 001). On a current-thread runtime, calls are made
//! one after another:
//! - baseline: reqwest with a bearer header posts a `serde_json::json!` body built per call,
//!   reads the body and parses it into the generated `ChatCompletion`;
//! - conversation: `client.chat(model).system(..).user(..).send()` (conversation -> body ->
//!   response, with the model table's check, retries policy, the span and `ResponseMeta`);
//! - typed: `client.chat_completion(&request)` with a generated request type.
//!
//! Each round times a batch of calls of each kind, in rotating order; the figure is the median
//! over rounds of each kind's time per call, and the ratio to the baseline.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench send_cost
//! ```

use std::time::{Duration, Instant};

use aimlapi::types::{ChatCompletion, ChatCompletionRequest};
use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_bench::read_request;
use tokio::io::AsyncWriteExt;

const ROUNDS: usize = 21;
const CALLS: usize = 400;
const MODEL: &str = "claude-3-5-haiku-latest";
const DOCUMENTED: &str = include_str!("../../mock/fixtures/seed-001-response.json");

/// The documented response as one HTTP/1.1 answer with a length, kept alive.
fn answer() -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-request-id: req-1\r\n\r\n",
        DOCUMENTED.len()
    )
    .into_bytes();
    out.extend_from_slice(DOCUMENTED.as_bytes());
    out
}

/// Serves on its own thread and runtime, so that the client's runtime does only the client's work.
fn serve() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(format!("http://{}", listener.local_addr().expect("addr")))
                .expect("send");
            let response = answer();
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                socket.set_nodelay(true).ok();
                let response = response.clone();
                tokio::spawn(async move {
                    while read_request(&mut socket).await {
                        if socket.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    rx.recv().expect("server address")
}

async fn baseline(http: &reqwest::Client, url: &str) -> usize {
    let body = serde_json::json!({
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"}
        ],
    });
    let bytes = http
        .post(url)
        .bearer_auth("bench-key")
        .json(&body)
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    let done: ChatCompletion = serde_json::from_slice(&bytes).expect("parse");
    done.choices.len()
}

async fn conversation(client: &Client) -> usize {
    let done = client
        .chat(MODEL)
        .system("Be brief.")
        .user("Hello")
        .send()
        .await
        .expect("send");
    done.value.choices.len()
}

async fn typed(client: &Client, request: &ChatCompletionRequest) -> usize {
    let done = client.chat_completion(request).await.expect("send");
    done.value.choices.len()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let base = serve();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let url = format!("{base}/v1/chat/completions");
        let http = reqwest::Client::new();
        let client = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(&base)
            .api_key("bench-key")
            .retry(RetryPolicy::none())
            .build()
            .expect("client");
        let request: ChatCompletionRequest = serde_json::from_value(serde_json::json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"}
            ],
        }))
        .expect("request");
        // Warm up: connections open, allocator and caches settled.
        for _ in 0..CALLS {
            baseline(&http, &url).await;
            conversation(&client).await;
            typed(&client, &request).await;
        }
        let mut times: [Vec<Duration>; 3] = Default::default();
        for round in 0..ROUNDS {
            for k in 0..3 {
                let kind = (round + k) % 3;
                let started = Instant::now();
                for _ in 0..CALLS {
                    let n = match kind {
                        0 => baseline(&http, &url).await,
                        1 => conversation(&client).await,
                        _ => typed(&client, &request).await,
                    };
                    assert_eq!(n, 1);
                }
                times[kind].push(started.elapsed() / CALLS as u32);
            }
        }
        let [b, c, t] = times.map(median);
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("per call, median of {ROUNDS} rounds of {CALLS} sequential calls (current-thread runtime)");
        println!("  reqwest + serde_json  {:7.1} µs  1.00", us(b));
        println!(
            "  client.chat(..).send  {:7.1} µs  {:.3}  (+{:.1} µs)",
            us(c),
            us(c) / us(b),
            us(c) - us(b)
        );
        println!(
            "  chat_completion       {:7.1} µs  {:.3}  (+{:.1} µs)",
            us(t),
            us(t) / us(b),
            us(t) - us(b)
        );
    });
}

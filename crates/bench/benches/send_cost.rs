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
//! Calls of the three kinds alternate one by one (in rotating order), each timed alone, so a
//! burst of load on the machine falls on all three alike; the figure is each kind's median call
//! and its ratio to the baseline's, with the mean of the middle 80% beside it.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench send_cost
//! ```
//!
//! For a profile of one kind alone (`perf stat`, `strace -c`, callgrind), `SEND_COST_ONLY=baseline`
//! (or `conversation`, `typed`) makes the same calls of that kind only and prints no figures.

use std::time::{Duration, Instant};

use aimlapi::types::{ChatCompletion, ChatCompletionRequest};
use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_bench::Server;

const CALLS: usize = 8_000;
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

fn main() {
    let base = Server::start_in_thread(answer());
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
        if let Ok(only) = std::env::var("SEND_COST_ONLY") {
            for _ in 0..2 * CALLS {
                let n = match only.as_str() {
                    "baseline" => baseline(&http, &url).await,
                    "conversation" => conversation(&client).await,
                    "typed" => typed(&client, &request).await,
                    other => panic!("SEND_COST_ONLY={other}: baseline, conversation or typed"),
                };
                assert_eq!(n, 1);
            }
            return;
        }
        // Warm up: connections open, allocator and caches settled.
        for _ in 0..CALLS {
            baseline(&http, &url).await;
            conversation(&client).await;
            typed(&client, &request).await;
        }
        let mut times: [Vec<Duration>; 3] = Default::default();
        for i in 0..CALLS {
            for k in 0..3 {
                let kind = (i + k) % 3;
                let started = Instant::now();
                let n = match kind {
                    0 => baseline(&http, &url).await,
                    1 => conversation(&client).await,
                    _ => typed(&client, &request).await,
                };
                times[kind].push(started.elapsed());
                assert_eq!(n, 1);
            }
        }
        let [b, c, t] = times.map(|mut v| {
            v.sort();
            let middle = &v[v.len() / 10..v.len() - v.len() / 10];
            let mean = middle.iter().sum::<Duration>() / middle.len() as u32;
            (v[v.len() / 2], mean)
        });
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "per call, {CALLS} sequential calls of each kind, interleaved (current-thread runtime)"
        );
        println!("                        median µs  ratio   middle-80% mean µs  ratio");
        for (name, (median, mean)) in [
            ("reqwest + serde_json ", b),
            ("client.chat(..).send ", c),
            ("chat_completion      ", t),
        ] {
            println!(
                "  {name} {:8.1}  {:.3}   {:8.1}            {:.3}",
                us(median),
                us(median) / us(b.0),
                us(mean),
                us(mean) / us(b.1)
            );
        }
    });
}

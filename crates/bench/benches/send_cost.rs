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
//! (or `conversation`, `typed`) makes the same calls of that kind only (`SEND_COST_CALLS` of
//! them, 16,000 unless set) and prints no figures. `crates/bench/send-cost-callgrind.sh` counts
//! each kind's instructions a call that way, machine-independent.
//!
//! A span subscriber is installed, as a service that exports its traces has one: a `tracing`
//! registry with a layer that keeps every field each span records (its GenAI attributes, as an
//! OpenTelemetry layer would keep them), so the client's spans are built and filled on every
//! call. `SEND_COST_NO_SPANS=1` leaves it out (no subscriber: the spans are disabled).
//!
//! `SEND_COST_FALLBACK=1` builds the client with a second gateway it never uses (the failover
//! path's cost when nothing fails); `SEND_COST_SECOND_CLIENT=1` builds the same second gateway
//! as a client of its own, unattached, as that run's baseline (the set-up of a second HTTP
//! client leaves the heap in another state, which moves every later allocation's cost);
//! `SEND_COST_NO_ADMISSION=1` turns admission by the rate limits off.

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

/// What a span recorded: each field's name and value, kept in the span's extensions.
#[derive(Default)]
struct Fields(Vec<(&'static str, Recorded)>);

/// One recorded value, owned.
#[allow(dead_code)] // Kept, as an exporter would keep it, not read.
enum Recorded {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl tracing::field::Visit for Fields {
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.push((field.name(), Recorded::Int(value)));
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.push((field.name(), Recorded::Int(value as i64)));
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.push((field.name(), Recorded::Float(value)));
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.push((field.name(), Recorded::Bool(value)));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0
            .push((field.name(), Recorded::Text(value.to_string())));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name(), Recorded::Text(format!("{value:?}"))));
    }
}

/// A layer that keeps each span's fields, from its start and as they are recorded.
struct KeepFields;

impl<S> tracing_subscriber::Layer<S> for KeepFields
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let mut fields = Fields(Vec::with_capacity(attrs.metadata().fields().len()));
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }
}

fn main() {
    if std::env::var_os("SEND_COST_NO_SPANS").is_none() {
        use tracing_subscriber::layer::SubscriberExt;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(KeepFields))
            .expect("the span subscriber");
    }
    let base = Server::start_in_thread(answer());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let url = format!("{base}/v1/chat/completions");
        let http = reqwest::Client::new();
        let mut builder = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(&base)
            .api_key("bench-key")
            .retry(RetryPolicy::none());
        let second = Client::builder()
            .provider(Provider::open_router())
            .base_url(format!("{base}/api"))
            .api_key("bench-key-2")
            .retry(RetryPolicy::none());
        // Kept to the end: its set-up (a second HTTP client, its certificates) is in both runs.
        let mut _unattached = None;
        if std::env::var_os("SEND_COST_FALLBACK").is_some() {
            // A second gateway, configured and never used.
            builder = builder.fallback(second);
        } else if std::env::var_os("SEND_COST_SECOND_CLIENT").is_some() {
            // The same second client built and not attached: the baseline of the above.
            _unattached = Some(second.build().expect("client"));
        }
        if std::env::var_os("SEND_COST_NO_ADMISSION").is_some() {
            builder = builder.admission(None);
        }
        let client = builder.build().expect("client");
        let request: ChatCompletionRequest = serde_json::from_value(serde_json::json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"}
            ],
        }))
        .expect("request");
        if let Ok(only) = std::env::var("SEND_COST_ONLY") {
            let calls = std::env::var("SEND_COST_CALLS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(2 * CALLS);
            for _ in 0..calls {
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
            "per call, {CALLS} sequential calls of each kind, interleaved (current-thread runtime), {}",
            if std::env::var_os("SEND_COST_NO_SPANS").is_none() {
                "spans recorded by a subscriber"
            } else {
                "no subscriber"
            }
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

//! End to end over loopback: our client against async-openai 0.43, streaming the same body from
//! the same local server, in one run.
//!
//! - Throughput: the documented transcript repeated to 8 MB, served with one HTTP chunk per event
//!   and with 64 KiB HTTP chunks. Each client reads every chunk and sums the text it carries, on a
//!   current-thread runtime and as a spawned task on a 2-worker multi-thread runtime. Rounds
//!   interleave the two clients; the ratio is the median over rounds of async-openai's time over
//!   ours (above 1 = ours is faster). Each client is built once per server and runtime, outside
//!   the timed part: a read is timed from sending the request to the last chunk.
//! - Memory: each client in its own process reads an 8 MB and a 32 MB stream with a consumer
//!   slower than the producer (it sleeps 1 ms every 128 chunks); the process reports its peak
//!   RSS before and after.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench stream_e2e
//! ```

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimlapi::sse::StreamItem;
use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::{Client, Provider, RequestOptions};
use aimlapi_bench::{body, events, peak_rss_kib, response, Chunking, Server};
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

const ROUNDS: usize = 7;
const MODEL: &str = "anthropic/claude-3-5-haiku";

/// What a client read: chunks, and bytes of text in them.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Read {
    chunks: usize,
    text: usize,
}

/// A consumer that sleeps 1 ms every 128 chunks, or none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    Fast,
    Slow,
}

impl Pace {
    async fn after(self, chunks: usize) {
        if self == Pace::Slow && chunks.is_multiple_of(128) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// The two clients, built once for a server and reused by every read (as a service would),
/// so that what is timed is the request and the stream, not building a client.
struct Clients {
    ours: Client,
    theirs: async_openai::Client<OpenAIConfig>,
}

impl Clients {
    fn new(base_url: &str) -> Clients {
        let ours = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(base_url)
            .api_key("bench-key")
            .build()
            .expect("client");
        let config = OpenAIConfig::new()
            .with_api_base(base_url)
            .with_api_key("bench-key");
        Clients {
            ours,
            theirs: async_openai::Client::with_config(config),
        }
    }
}

async fn ours(client: &Client, pace: Pace) -> Read {
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hi")])
        .try_into()
        .expect("request");
    let mut stream = client
        .stream(&request, &RequestOptions::default())
        .await
        .expect("stream");
    let mut read = Read::default();
    while let Some(item) = stream.next().await {
        if let StreamItem::Chunk(chunk) = item.expect("chunk") {
            read.chunks += 1;
            for choice in &chunk.choices {
                if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_ref()) {
                    read.text += text.len();
                }
            }
            pace.after(read.chunks).await;
        }
    }
    read
}

async fn async_openai(client: &async_openai::Client<OpenAIConfig>, pace: Pace) -> Read {
    let request = CreateChatCompletionRequestArgs::default()
        .model(MODEL)
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("Hi")
            .build()
            .expect("message")
            .into()])
        .build()
        .expect("request");
    let mut stream = client.chat().create_stream(request).await.expect("stream");
    let mut read = Read::default();
    while let Some(item) = stream.next().await {
        let chunk = item.expect("chunk");
        read.chunks += 1;
        for choice in &chunk.choices {
            if let Some(text) = &choice.delta.content {
                read.text += text.len();
            }
        }
        pace.after(read.chunks).await;
    }
    read
}

async fn run(clients: &Clients, client: &str, pace: Pace) -> Read {
    match client {
        "ours" => ours(&clients.ours, pace).await,
        "async-openai" => async_openai(&clients.theirs, pace).await,
        other => panic!("unknown client {other}"),
    }
}

/// In a child process: one slow read, then `baseline peak chunks` on stdout.
fn rss_child(client: &str, base_url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let clients = Clients::new(base_url);
    let baseline = peak_rss_kib().unwrap_or(0);
    let read = runtime.block_on(run(&clients, client, Pace::Slow));
    let peak = peak_rss_kib().unwrap_or(0);
    println!("{baseline} {peak} {}", read.chunks);
}

/// Where the consumer runs.
#[derive(Clone, Copy)]
enum Flavor {
    /// A current-thread runtime; the consumer is the future given to `block_on`.
    CurrentThread,
    /// A multi-thread runtime with 2 workers; the consumer is a spawned task, as in a service.
    MultiThread,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current-thread",
            Flavor::MultiThread => "multi-thread (2), spawned task",
        }
    }

    fn runtime(self) -> tokio::runtime::Runtime {
        match self {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(2);
                b
            }
        }
        .enable_all()
        .build()
        .expect("client runtime")
    }

    /// One fast read by `client`, and its time in seconds.
    fn time(
        self,
        rt: &tokio::runtime::Runtime,
        clients: &Arc<Clients>,
        client: &'static str,
    ) -> (Read, f64) {
        let t = Instant::now();
        let read = match self {
            Flavor::CurrentThread => rt.block_on(run(clients, client, Pace::Fast)),
            Flavor::MultiThread => {
                let clients = clients.clone();
                rt.block_on(rt.spawn(async move { run(&clients, client, Pace::Fast).await }))
                    .expect("task")
            }
        };
        (read, t.elapsed().as_secs_f64())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        return rss_child(&args[i + 1], &args[i + 2]);
    }
    if peak_rss_kib().is_none() {
        eprintln!("NOTE: /proc/self/status is not readable here: the memory part reports 0");
    }
    // The server runs on its own runtime thread.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");

    let body = body(8_000_000);
    let want = events(&body).len();
    println!(
        "body: {:.1} MB, {want} events; {ROUNDS} interleaved rounds; ratio = async-openai / ours",
        body.len() as f64 / 1e6,
    );
    println!(
        "{:<44} {:>9} {:>13} {:>7}",
        "runtime, HTTP chunks", "ours ms", "async-openai", "ratio"
    );
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        let client_rt = flavor.runtime();
        for (name, chunking) in [
            ("one per event", Chunking::PerEvent),
            ("64 KiB", Chunking::Size(64 << 10)),
        ] {
            let server = server_rt.block_on(Server::start(response(&body, chunking)));
            let clients = Arc::new(Clients::new(&server.base_url));
            let (mut ours_t, mut theirs_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let (a, ours_d) = flavor.time(&client_rt, &clients, "ours");
                let (b, theirs_d) = flavor.time(&client_rt, &clients, "async-openai");
                assert_eq!(a.chunks, want, "ours read every chunk");
                assert_eq!(a, b, "both clients read the same chunks and text");
                ours_t.push(ours_d);
                theirs_t.push(theirs_d);
                ratios.push(theirs_d / ours_d);
            }
            println!(
                "{:<44} {:>9.1} {:>13.1} {:>7.2}",
                format!("{}, {name}", flavor.name()),
                median(ours_t) * 1e3,
                median(theirs_t) * 1e3,
                median(ratios)
            );
        }
    }

    println!();
    println!("peak RSS with a slow consumer (KiB; baseline = before the request)");
    println!(
        "{:<16} {:>10} {:>12} {:>12} {:>10}",
        "client", "stream MB", "baseline", "peak", "growth"
    );
    let exe = std::env::current_exe().expect("own path");
    for mb in [8, 32] {
        let body = aimlapi_bench::body(mb * 1_000_000);
        let chunks = events(&body).len();
        let server = server_rt.block_on(Server::start(response(&body, Chunking::Size(64 << 10))));
        for client in ["ours", "async-openai"] {
            let out = Command::new(&exe)
                .args(["--rss-child", client, &server.base_url])
                .output()
                .expect("child");
            assert!(
                out.status.success(),
                "{client}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            let v: Vec<u64> = text
                .split_whitespace()
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(v[2] as usize, chunks, "{client} read every chunk");
            println!(
                "{client:<16} {mb:>10} {:>12} {:>12} {:>10}",
                v[0],
                v[1],
                v[1] - v[0]
            );
        }
        drop(server);
    }
}

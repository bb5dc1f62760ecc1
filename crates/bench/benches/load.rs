//! Load: N concurrent streaming requests (1,000 by default) through one `aimlapi::Client`
//! against the mock server running in a child process, bounded in time (120 s).
//!
//! Each request scripts its own text (`x-mock-reply: text=...`), streamed 8 characters per chunk
//! with a 2 ms pause before each HTTP chunk; the client folds each stream and checks it got
//! exactly its text, so a lost, repeated or reordered chunk is a failure. Reported: completed and
//! failed counts, p50/p99 time to first chunk and to completion, and the client process's peak
//! RSS (`VmHWM`; the server is another process).
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench load            # N = 1000
//! LOAD_N=200 cargo bench -p aimlapi-bench --bench load
//! ```

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aimlapi::sse::StreamItem;
use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::{Client, Provider, RequestOptions};
use aimlapi_bench::peak_rss_kib;
use futures::StreamExt;

const DEADLINE: Duration = Duration::from_secs(120);

/// The text stream `i` asks for: unique, about 200 characters.
fn text_for(i: usize) -> String {
    let words: Vec<String> = (0..32).map(|j| format!("w{j}")).collect();
    format!("stream {i} says {}", words.join(" "))
}

/// In the child: the mock, until stdin closes (the parent exits or drops the pipe).
fn serve() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mock = aimlapi_mock::MockServer::builder()
            .pace(Duration::from_millis(2))
            .start()
            .await
            .expect("mock");
        println!("{}", mock.base_url());
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await
        .ok();
    });
}

struct Outcome {
    first_chunk: Duration,
    done: Duration,
}

async fn one(client: &Client, i: usize) -> Result<Outcome, String> {
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(format!("request {i}"))])
        .try_into()
        .map_err(|e| format!("request: {e}"))?;
    let want = text_for(i);
    let mut options = RequestOptions::default();
    options.headers.insert(
        "x-mock-reply",
        format!("text={want}; usage=5,40").parse().expect("header"),
    );
    let started = Instant::now();
    let mut stream = client
        .stream(&request, &options)
        .await
        .map_err(|e| e.to_string())?;
    let mut first_chunk = None;
    let mut text = String::new();
    while let Some(item) = stream.next().await {
        match item.map_err(|e| e.to_string())? {
            StreamItem::Chunk(chunk) => {
                first_chunk.get_or_insert_with(|| started.elapsed());
                for c in &chunk.choices {
                    if let Some(t) = c.delta.as_ref().and_then(|d| d.content.as_deref()) {
                        text.push_str(t);
                    }
                }
            }
            StreamItem::Comment(_) => {}
        }
    }
    if text != want {
        return Err(format!("stream {i}: got {text:?}"));
    }
    Ok(Outcome {
        first_chunk: first_chunk.ok_or("no chunk")?,
        done: started.elapsed(),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve();
    }
    let n: usize = std::env::var("LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the mock");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("the mock's address");
    let url = url.trim().to_string();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let baseline = peak_rss_kib().unwrap_or(0);
    let started = Instant::now();
    let results: Vec<Result<Outcome, String>> = runtime.block_on(async {
        let client = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(&url)
            .api_key("load-test")
            .build()
            .expect("client");
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move { one(&client, i).await })
            })
            .collect();
        let all = futures::future::join_all(tasks);
        match tokio::time::timeout(DEADLINE, all).await {
            Ok(done) => done
                .into_iter()
                .map(|r| r.unwrap_or_else(|e| Err(format!("task: {e}"))))
                .collect(),
            Err(_) => vec![Err(format!("not done within {DEADLINE:?}"))],
        }
    });
    let wall = started.elapsed();
    let peak = peak_rss_kib().unwrap_or(0);
    drop(child.stdin.take());
    let _ = child.wait();

    let (mut first, mut done, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for r in results {
        match r {
            Ok(o) => {
                first.push(o.first_chunk);
                done.push(o.done);
            }
            Err(e) => failures.push(e),
        }
    }
    first.sort();
    done.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{n} concurrent streams against the mock (2 ms per chunk), one client, 2 workers");
    println!(
        "completed {} / failed {} in {:.2} s",
        done.len(),
        failures.len(),
        wall.as_secs_f64()
    );
    println!(
        "time to first chunk  p50 {:.1} ms  p99 {:.1} ms",
        ms(percentile(&first, 0.50)),
        ms(percentile(&first, 0.99))
    );
    println!(
        "time to completion   p50 {:.1} ms  p99 {:.1} ms",
        ms(percentile(&done, 0.50)),
        ms(percentile(&done, 0.99))
    );
    println!(
        "client peak RSS      {:.1} MiB (before the requests {:.1} MiB)",
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0
    );
    for f in failures.iter().take(5) {
        println!("failure: {f}");
    }
    assert!(failures.is_empty(), "{} streams failed", failures.len());
}

//! Admission by the rate limits, measured: `ADMISSION_N` calls (default 1,000) at once against
//! the mock's limit of `ADMISSION_RATE` calls a second (default 50), with admission (the
//! default) and without it (every call sent at once, its 429s retried as the default retry
//! policy says, then given up). Reports the 429s the mock sent, the calls that failed, p50 and
//! p99 latency and the whole run's time, for each.

use std::time::{Duration, Instant};

use aimlapi::{Admission, Client, Provider, RetryPolicy};
use aimlapi_mock::MockServer;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    refused: u64,
    failed: usize,
    p50: Duration,
    p99: Duration,
    total: Duration,
}

async fn run(n: usize, rate: u64, admission: Option<Admission>, retry: RetryPolicy) -> Run {
    let mock = MockServer::builder()
        .rate_limit(rate, Duration::from_secs(1))
        .record_limit(16)
        .start()
        .await
        .expect("the mock starts");
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("sk-bench-0123")
        .admission(admission)
        .retry(retry)
        .build()
        .expect("the client builds");
    let began = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..n {
        let chat = client.chat("claude-sonnet-4-5").user(format!("call {i}"));
        calls.spawn(async move {
            let start = Instant::now();
            let ok = chat.send().await.is_ok();
            (ok, start.elapsed())
        });
    }
    let mut latencies = Vec::with_capacity(n);
    let mut failed = 0;
    while let Some(done) = calls.join_next().await {
        let (ok, took) = done.expect("the task ran");
        failed += usize::from(!ok);
        latencies.push(took);
    }
    let total = began.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run {
        refused: mock.rate_limited(),
        failed,
        p50: at(0.50),
        p99: at(0.99),
        total,
    }
}

fn main() {
    let n = env("ADMISSION_N", 1_000);
    let rate = env("ADMISSION_RATE", 50) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    println!("admission: {n} calls at once against {rate} calls a second");
    println!(
        "{:<34} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "", "429s", "failed", "p50", "p99", "total"
    );
    let rows = [
        (
            "with admission (default)",
            Some(Admission::default()),
            RetryPolicy::default(),
        ),
        ("without, default retries", None, RetryPolicy::default()),
        (
            "without, patient retries (60 s)",
            None,
            RetryPolicy::patient(Duration::from_secs(60)),
        ),
    ];
    for (name, admission, retry) in rows {
        let r = rt.block_on(run(n, rate, admission, retry));
        println!(
            "{name:<34} {:>8} {:>7} {:>8.2}s {:>8.2}s {:>8.2}s",
            r.refused,
            r.failed,
            r.p50.as_secs_f64(),
            r.p99.as_secs_f64(),
            r.total.as_secs_f64()
        );
    }
}

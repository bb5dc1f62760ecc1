//! Load: N concurrent streams (1,000 by default) through one client against the mock server in
//! a child process, bounded in time (120 s), over HTTP/1.1 and HTTP/2, through this crate and
//! through plain reqwest, each client in a process of its own.
//!
//! Each request scripts its own text (`x-mock-reply: text=...`), streamed 8 characters per chunk
//! with a 2 ms pause before each HTTP chunk. Through the client (`ours-*`) each stream is read
//! delta by delta (`chat(..).stream().text()`) and compared with the text it asked for, so a lost,
//! repeated or reordered chunk is a failure; plain reqwest (`reqwest-*`) posts the same body with
//! the same headers and reads the same bytes (`bytes_stream`), checking that each ends with the
//! chunk that carries the usage. Over HTTP/2 the clients speak it from the first byte (h2c: the mock serves both on
//! one port, with no cap on concurrent streams), so one connection can carry them all.
//!
//! Reported per run: completed and failed counts, p50/p99 time to first chunk and to completion,
//! the client process's RSS before the streams and its peak growth while they ran (`VmHWM` less
//! `VmRSS` before; the server is another process), that growth per stream, and the connections
//! the mock accepted. Beside them: ours over HTTP/1.1 less plain reqwest's per stream (what is
//! ours: the futures, the decoder, the span, the response's metadata; goal at most 4 KiB), and
//! ours over HTTP/2 per stream (goal at most 16 KiB).
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench load                  # N = 1000, all four runs
//! LOAD_N=10000 cargo bench -p aimlapi-bench --bench load
//! LOAD_RUNS=ours-h2,reqwest-h2 cargo bench -p aimlapi-bench --bench load
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimlapi::{Client, Provider, RequestOptions};
use aimlapi_bench::{peak_rss_kib, reset_peak_rss, rss_kib};
use futures::StreamExt;

const DEADLINE: Duration = Duration::from_secs(120);
const MODEL: &str = "claude-3-5-haiku-latest";
const RUNS: [&str; 4] = ["reqwest-h1", "ours-h1", "reqwest-h2", "ours-h2"];

/// The text stream `i` asks for: unique, about 200 characters.
fn text_for(i: usize) -> String {
    let words: Vec<String> = (0..32).map(|j| format!("w{j}")).collect();
    format!("stream {i} says {}", words.join(" "))
}

/// The mock's script for stream `i`.
fn script(i: usize) -> String {
    format!("text={}; usage=5,40", text_for(i))
}

/// In the server child: the mock, until stdin closes; each line read on stdin is answered with
/// the number of connections accepted so far.
fn serve() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mock = aimlapi_mock::MockServer::builder()
            .pace(pace())
            .start()
            .await
            .expect("mock");
        println!("{}", mock.base_url());
        let (asks, mut asked) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() || asks.send(()).is_err() {
                    return;
                }
            }
        });
        while asked.recv().await.is_some() {
            println!("{}", mock.connections());
        }
    });
}

/// The pause before each HTTP chunk: `LOAD_PACE_MS`, 100 ms unless set (a stream takes about
/// 2.5 s, so every stream of a run is open at once, and 10,000 of them ask for 100,000 chunks a
/// second, about what two cores serve and read; with a much shorter pace the chunks pile up
/// unread and HTTP/2's guard against floods of small frames closes the connection).
fn pace() -> Duration {
    Duration::from_millis(
        std::env::var("LOAD_PACE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100),
    )
}

struct Outcome {
    first_chunk: Duration,
    done: Duration,
}

/// One stream through the client: its text, delta by delta.
async fn ours(client: &Client, i: usize, open: &AtomicUsize) -> Result<Outcome, String> {
    let want = text_for(i);
    let mut options = RequestOptions::default();
    options
        .headers
        .insert("x-mock-reply", script(i).parse().expect("header"));
    let started = Instant::now();
    let mut text = client
        .chat(MODEL)
        .user(format!("request {i}"))
        .options(options)
        .stream()
        .await
        .map_err(|e| e.to_string())?
        .text();
    let mut first_chunk = None;
    let mut got = String::new();
    while let Some(piece) = text.next().await {
        first_chunk.get_or_insert_with(|| {
            open.fetch_add(1, Ordering::Relaxed);
            started.elapsed()
        });
        got.push_str(&piece.map_err(|e| e.to_string())?);
    }
    if got != want {
        return Err(format!("stream {i}: got {got:?}"));
    }
    Ok(Outcome {
        first_chunk: first_chunk.ok_or("no chunk")?,
        done: started.elapsed(),
    })
}

/// The same stream through plain reqwest: the same body and headers, the bytes as they come.
async fn plain(
    http: &reqwest::Client,
    url: &str,
    i: usize,
    open: &AtomicUsize,
) -> Result<Outcome, String> {
    let started = Instant::now();
    // The body is written into the request and dropped before the request is sent.
    let request = http
        .post(url)
        .bearer_auth("load-test")
        .header("x-mock-reply", script(i))
        .json(&serde_json::json!({
            "model": MODEL,
            "messages": [{"role": "user", "content": format!("request {i}")}],
            "stream": true,
        }));
    let response = request
        .send()
        .await
        .map_err(|e| e.to_string())?
        .error_for_status()
        .map_err(|e| e.to_string())?;
    let mut bytes = response.bytes_stream();
    let mut first_chunk = None;
    let mut tail = Vec::new();
    while let Some(piece) = bytes.next().await {
        let piece = piece.map_err(|e| format!("{e:?}"))?;
        first_chunk.get_or_insert_with(|| {
            open.fetch_add(1, Ordering::Relaxed);
            started.elapsed()
        });
        tail.extend_from_slice(&piece);
        let keep = tail.len().saturating_sub(512);
        tail.drain(..keep);
    }
    if !tail.windows(7).any(|w| w == b"\"usage\"") {
        return Err(format!("stream {i}: no usage at the end"));
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

/// In a client child: `n` concurrent streams of one run; prints one line of figures
/// (completed, failed, wall s, RSS before KiB, peak growth KiB, first-chunk p50/p99 ms,
/// completion p50/p99 ms) and the first failures.
fn client(run: &str, n: usize, base: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let h2 = run.ends_with("-h2");
    let ours_client = run.starts_with("ours").then(|| {
        let builder = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(base)
            .api_key("load-test");
        let builder = if h2 {
            builder.http2_prior_knowledge()
        } else {
            builder
        };
        builder.build().expect("client")
    });
    let http = {
        let builder = reqwest::Client::builder();
        let builder = if h2 {
            builder.http2_prior_knowledge()
        } else {
            builder
        };
        builder.build().expect("reqwest client")
    };
    let url = format!("{base}/v1/chat/completions");
    // Warm up on one stream (the runtime, the pool, the allocator's first arenas), then measure
    // from the memory resident now.
    let warm = AtomicUsize::new(0);
    runtime.block_on(async {
        match &ours_client {
            Some(c) => ours(c, 0, &warm).await.map(|_| ()),
            None => plain(&http, &url, 0, &warm).await.map(|_| ()),
        }
        .expect("the warm-up stream");
    });
    // Streams that have had their first chunk; once all have, the resident memory is sampled:
    // every stream open at once, mid-way (a stream lasts longer than the last one takes to open).
    let open = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    reset_peak_rss();
    let before = rss_kib().unwrap_or(0);
    let started = Instant::now();
    let results: Vec<Result<Outcome, String>> = runtime.block_on(async {
        // Each run spawns its own kind of task, so that a task is the size of its own future.
        let sampler = {
            let (open, in_flight) = (open.clone(), in_flight.clone());
            tokio::spawn(async move {
                while open.load(Ordering::Relaxed) < n {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                in_flight.store(rss_kib().unwrap_or(0) as usize, Ordering::Relaxed);
            })
        };
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let open = open.clone();
                match ours_client.clone() {
                    Some(c) => tokio::spawn(async move { ours(&c, i, &open).await }),
                    None => {
                        let (http, url) = (http.clone(), url.clone());
                        tokio::spawn(async move { plain(&http, &url, i, &open).await })
                    }
                }
            })
            .collect();
        let _sampler = sampler;
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
    let all_open = in_flight.load(Ordering::Relaxed) as u64;
    println!(
        "{} {} {:.3} {} {} {} {:.1} {:.1} {:.1} {:.1}",
        done.len(),
        failures.len(),
        wall.as_secs_f64(),
        before,
        peak.saturating_sub(before),
        // 0 when not every stream had its first chunk.
        all_open.saturating_sub(before),
        ms(percentile(&first, 0.50)),
        ms(percentile(&first, 0.99)),
        ms(percentile(&done, 0.50)),
        ms(percentile(&done, 0.99)),
    );
    for f in failures.iter().take(5) {
        println!("failure: {f}");
    }
}

/// What one run reported.
struct Figures {
    completed: usize,
    failed: usize,
    growth_kib: f64,
    /// RSS growth when every stream was open and had its first chunk (0 if that never held).
    open_kib: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        return serve();
    }
    if let Some(at) = args.iter().position(|a| a == "--client") {
        let run = &args[at + 1];
        let n = args[at + 2].parse().expect("count");
        return client(run, n, &args[at + 3]);
    }
    let n: usize = std::env::var("LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let runs: Vec<String> = std::env::var("LOAD_RUNS")
        .map(|r| r.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_else(|_| RUNS.iter().map(|s| s.to_string()).collect());
    let me = std::env::current_exe().expect("own path");
    let mut server = Command::new(&me)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the mock");
    let mut asks = server.stdin.take().expect("stdin");
    let mut answers = BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    answers.read_line(&mut line).expect("the mock's address");
    let base = line.trim().to_string();
    let mut connections = || {
        writeln!(asks, "count").expect("ask the mock");
        let mut line = String::new();
        answers.read_line(&mut line).expect("the mock's count");
        line.trim().parse::<u64>().expect("a count")
    };

    println!(
        "{n} concurrent streams against the mock ({} ms before each chunk), one client, 2 workers, each run in a process of its own",
        pace().as_millis()
    );
    println!(
        "{:<11} {:>9} {:>6} {:>7} {:>11} {:>12} {:>10} {:>11} {:>10} {:>11} {:>17} {:>17}",
        "run",
        "completed",
        "failed",
        "wall s",
        "connections",
        "RSS before",
        "peak grew",
        "per stream",
        "all open",
        "per stream",
        "first chunk p50/99",
        "completion p50/99"
    );
    let mut figures = std::collections::HashMap::new();
    for run in &runs {
        assert!(
            RUNS.contains(&run.as_str()),
            "LOAD_RUNS: {run} is not one of {RUNS:?}"
        );
        let opened = connections();
        let mut child = Command::new(&me)
            .args(["--client", run, &n.to_string(), &base])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a client");
        let mut out = String::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_string(&mut out)
            .expect("the client's figures");
        let status = child.wait().expect("the client");
        let used = connections() - opened;
        let mut lines = out.lines();
        let f: Vec<f64> = lines
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        assert!(
            status.success() && f.len() == 10,
            "{run}: the client failed: {out}"
        );
        let (growth, open) = (f[4], f[5]);
        println!(
            "{:<11} {:>9} {:>6} {:>7.2} {:>11} {:>8.1} MiB {:>6.1} MiB {:>7.2} KiB {:>6.1} MiB {:>7.2} KiB {:>8.1}/{:<6.1}ms {:>8.1}/{:<6.1}ms",
            run,
            f[0],
            f[1],
            f[2],
            used,
            f[3] / 1024.0,
            growth / 1024.0,
            growth / n as f64,
            open / 1024.0,
            open / n as f64,
            f[6],
            f[7],
            f[8],
            f[9]
        );
        for l in lines {
            println!("  {l}");
        }
        figures.insert(
            run.clone(),
            Figures {
                completed: f[0] as usize,
                failed: f[1] as usize,
                growth_kib: growth,
                open_kib: open,
            },
        );
    }
    drop(asks);
    let _ = server.wait();

    let per = |run: &str| figures.get(run).map(|f| f.growth_kib / n as f64);
    let open = |run: &str| figures.get(run).map(|f| f.open_kib / n as f64);
    if let (Some(ours), Some(theirs)) = (per("ours-h1"), per("reqwest-h1")) {
        println!(
            "HTTP/1.1: ours {:.2} KiB a stream above plain reqwest's at the peak, {:.2} KiB with every stream open (goal: at most 4 KiB)",
            ours - theirs,
            open("ours-h1").unwrap_or(0.0) - open("reqwest-h1").unwrap_or(0.0)
        );
    }
    if let Some(ours) = per("ours-h2") {
        let above = per("reqwest-h2")
            .map(|t| format!(", {:.2} KiB above plain reqwest's", ours - t))
            .unwrap_or_default();
        println!(
            "HTTP/2: ours {ours:.2} KiB a stream at the peak, {:.2} KiB with every stream open (goal: at most 16 KiB){above}",
            open("ours-h2").unwrap_or(0.0)
        );
    }
    for (run, f) in &figures {
        assert!(
            f.failed == 0 && f.completed == n,
            "{run}: {} of {n} completed, {} failed",
            f.completed,
            f.failed
        );
    }
}

//! Reading a message batch's results as a stream: memory and speed.
//!
//! A loopback server (its own thread and runtime) answers the status route with N results of
//! about 5 KB of JSON each (a `succeeded` result whose text differs per request), as the
//! documented JSON array, written in 64 KiB HTTP chunks as it is generated: neither side ever
//! holds the whole body.
//!
//! - Memory: the peak RSS (`VmHWM`, reset through `/proc/self/clear_refs` before each read)
//!   grows by how much while `client.resume_batch(..).results()` reads N results, at two sizes,
//!   beside the body's size. Goal: under 32 MiB at either size.
//! - Speed: the same N results (the body prepared whole, so that generating it does not compete
//!   with the client for the CPU) read through the client, against the reader a user would write
//!   by hand over the same loopback ([`by_hand`]: reqwest's `bytes_stream`, the array split at
//!   its top-level commas, `serde_json::from_slice` of each result into the same generated type),
//!   rounds interleaved; the ratio of the medians. Goal: at most 1.1.
//!
//! Beside them: the old in-memory LIMIT (`serde_json::from_slice` of each result already cut
//! out: no network, no framing), and the body alone through plain reqwest (`bytes_stream`,
//! nothing parsed), what the loopback network costs, which both readers pay and the LIMIT does
//! not.
//!
//! ```sh
//! cargo bench -p aimlapi-bench --bench batch_results
//! BATCH_RESULTS=20000,100000 cargo bench -p aimlapi-bench --bench batch_results
//! ```

use std::time::{Duration, Instant};

use aimlapi::batch::BatchHandle;
use aimlapi::types::BatchResultLine;
use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_bench::{peak_rss_kib, read_request, reset_peak_rss, rss_kib};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const CHUNK: usize = 64 * 1024;

/// Speed rounds, each reading the body four ways in turn.
const ROUNDS: usize = 7;

/// Result `i`: about 5 KB, text with escapes and a number that differs per request.
fn result(i: usize) -> String {
    let mut text = String::with_capacity(4700);
    let mut k = 0;
    while text.len() < 4600 {
        text.push_str(&format!(
            "Step {k} of request {i}: read the \\\"docs\\\", then build.\\n"
        ));
        k += 1;
    }
    format!(
        concat!(
            r#"{{"custom_id":"req-{i:06}","result":{{"type":"succeeded","message":{{"model":"claude-sonnet-4-5-20250929","#,
            r#""id":"msg_01{i:020}","type":"message","role":"assistant","content":[{{"type":"text","text":"{text}"}}],"#,
            r#""stop_reason":"end_turn","stop_sequence":null,"stop_details":null,"usage":{{"input_tokens":14,"#,
            r#""cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{{"ephemeral_5m_input_tokens":0,"#,
            r#""ephemeral_1h_input_tokens":0}},"output_tokens":761,"service_tier":"batch","inference_geo":"not_available"}}}}}}}}"#
        ),
        i = i,
        text = text
    )
}

/// Serves each request on each connection ([`answer`]).
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            // Keep-alive: every request on the connection gets its answer.
            while read_request(&mut socket).await {
                if answer(&mut socket).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// One answer: the prepared body, else [`COUNT`] results generated as they are written.
async fn answer(socket: &mut tokio::net::TcpStream) -> std::io::Result<()> {
    let count: usize = COUNT.load(std::sync::atomic::Ordering::Relaxed);
    let header =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    socket.write_all(header.as_bytes()).await?;
    let prepared = PREPARED.lock().expect("lock").clone();
    if let Some(body) = prepared {
        for piece in body.chunks(CHUNK) {
            send(socket, piece).await?;
        }
        return socket.write_all(b"0\r\n\r\n").await;
    }
    let mut pending = Vec::with_capacity(2 * CHUNK);
    pending.push(b'[');
    for i in 0..count {
        if i > 0 {
            pending.push(b',');
        }
        pending.extend_from_slice(result(i).as_bytes());
        while pending.len() >= CHUNK {
            send(socket, &pending[..CHUNK]).await?;
            pending.drain(..CHUNK);
        }
    }
    pending.push(b']');
    send(socket, &pending).await?;
    socket.write_all(b"0\r\n\r\n").await
}

/// A body prepared whole, served instead of generating one (the speed runs: the server's
/// work out of the way of the client's on a small machine).
static PREPARED: std::sync::Mutex<Option<std::sync::Arc<Vec<u8>>>> = std::sync::Mutex::new(None);

/// How many results the server writes to the next request.
static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One HTTP chunk: its size line, the piece as it is (no copy), the line end.
async fn send(socket: &mut tokio::net::TcpStream, piece: &[u8]) -> std::io::Result<()> {
    socket
        .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
        .await?;
    socket.write_all(piece).await?;
    socket.write_all(b"\r\n").await
}

/// Reads every result through the client: the count and the bytes of text read.
async fn read(client: &Client, count: usize) -> (usize, usize) {
    COUNT.store(count, std::sync::atomic::Ordering::Relaxed);
    let mut results = client.resume_batch(BatchHandle::from_id("bench")).results();
    let (mut n, mut text) = (0, 0);
    while let Some(item) = results.next().await {
        let (_, answer) = item.expect("result");
        let answer = answer.expect("succeeded");
        text += answer.text().map_or(0, |t| t.len());
        n += 1;
    }
    (n, text)
}

/// The reader a user would write by hand: the body as it arrives (`bytes_stream`), split into
/// the array's elements by a scan that tracks nesting and skips strings (`memchr` to the next
/// quote or backslash), each element parsed with `serde_json::from_slice` into the same
/// generated type. An element cut between two pieces is gathered into a buffer first; one that
/// lies whole inside a piece is parsed where it lies. The count and the bytes of custom ids read.
async fn by_hand(http: &reqwest::Client, url: &str) -> (usize, usize) {
    let mut body = http.get(url).send().await.expect("send").bytes_stream();
    let (mut n, mut ids) = (0, 0);
    let mut parse = |bytes: &[u8]| {
        let line: BatchResultLine = serde_json::from_slice(bytes).expect("result");
        ids += line.custom_id.len();
        n += 1;
    };
    // The part of an element that began in an earlier piece.
    let mut carried: Vec<u8> = Vec::new();
    let (mut depth, mut in_string) = (0u32, false);
    // Bytes of the next piece to skip: an escape's second byte, when the backslash ended a piece.
    let mut skip = 0;
    while let Some(piece) = body.next().await {
        let piece = piece.expect("piece");
        // Where the element being read began in this piece (0 when it began before it).
        let mut start = 0;
        let mut i = std::mem::take(&mut skip);
        while i < piece.len() {
            if in_string {
                match memchr::memchr2(b'"', b'\\', &piece[i..]) {
                    Some(at) if piece[i + at] == b'\\' => {
                        // An escape: skip the escaped byte (it may be in the next piece).
                        i += at + 2;
                        skip = i.saturating_sub(piece.len());
                        continue;
                    }
                    Some(at) => {
                        in_string = false;
                        i += at + 1;
                        continue;
                    }
                    None => break,
                }
            }
            match piece[i] {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth == 2 {
                        start = i;
                    }
                }
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 1 {
                        if carried.is_empty() {
                            parse(&piece[start..=i]);
                        } else {
                            carried.extend_from_slice(&piece[..=i]);
                            parse(&carried);
                            carried.clear();
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if depth >= 2 {
            carried.extend_from_slice(&piece[if carried.is_empty() { start } else { 0 }..]);
        }
    }
    (n, ids)
}

/// The CPU time this thread has had (`/proc/thread-self/schedstat`), when Linux says.
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BATCH_RESULTS")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![20_000, 100_000]);
    let server_rt = tokio::runtime::Runtime::new().expect("runtime");
    let listener = server_rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    server_rt.spawn(serve(listener));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&base)
        .api_key("bench-key")
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    // The body's size: the first thousand results measured, the rest like them.
    let body_bytes = |n: usize| {
        let sample = n.clamp(1, 1000);
        (0..sample).map(|i| result(i).len() + 1).sum::<usize>() * n / sample
    };
    rt.block_on(async {
        // Warm up: connections, allocator.
        read(&client, 1_000).await;
        println!("memory: peak RSS growth while reading the results as a stream");
        for &n in &sizes {
            reset_peak_rss();
            let before = rss_kib().unwrap_or(0);
            let started = Instant::now();
            let (got, _) = read(&client, n).await;
            let took = started.elapsed();
            assert_eq!(got, n);
            let peak = peak_rss_kib().unwrap_or(0);
            let growth = peak.saturating_sub(before) as f64 / 1024.0;
            let mib = body_bytes(n) as f64 / (1 << 20) as f64;
            println!(
                "  {n:>7} results, body {mib:>6.1} MiB: peak RSS grew {growth:>5.1} MiB ({:.3}x the body), {:.2} s",
                growth / mib,
                took.as_secs_f64()
            );
        }

        let n = sizes[0];
        let split: Vec<Vec<u8>> = (0..n).map(|i| result(i).into_bytes()).collect();
        let mut whole = b"[".to_vec();
        for (i, r) in split.iter().enumerate() {
            if i > 0 {
                whole.push(b',');
            }
            whole.extend_from_slice(r);
        }
        whole.push(b']');
        *PREPARED.lock().expect("lock") = Some(std::sync::Arc::new(whole));
        let mut streamed = Vec::new();
        let mut limit = Vec::new();
        let mut network = Vec::new();
        let mut network_cpu = Vec::new();
        let mut streamed_cpu = Vec::new();
        let mut hand = Vec::new();
        let mut hand_cpu = Vec::new();
        let http = reqwest::Client::new();
        let url = format!("{base}/v1/batches?batch_id=bench");
        // The hand-written reader reads what the client reads.
        assert_eq!(by_hand(&http, &url).await.0, n);
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let cpu = thread_cpu();
            let mut body = http
                .get(&url)
                .send()
                .await
                .expect("send")
                .bytes_stream();
            let mut bytes = 0;
            while let Some(piece) = body.next().await {
                bytes += piece.expect("piece").len();
            }
            network.push(started.elapsed());
            network_cpu.push(thread_cpu() - cpu);
            assert!(bytes > 0);
            let started = Instant::now();
            let cpu = thread_cpu();
            let (got, _) = read(&client, n).await;
            streamed.push(started.elapsed());
            streamed_cpu.push(thread_cpu() - cpu);
            assert_eq!(got, n);
            let started = Instant::now();
            let cpu = thread_cpu();
            let (got, _) = by_hand(&http, &url).await;
            hand.push(started.elapsed());
            hand_cpu.push(thread_cpu() - cpu);
            assert_eq!(got, n);
            let started = Instant::now();
            let mut text = 0;
            for bytes in &split {
                let line: BatchResultLine = serde_json::from_slice(bytes).expect("result");
                text += line.custom_id.len();
            }
            limit.push(started.elapsed());
            assert!(text > 0);
        }
        let (s, h, l, net) = (median(streamed), median(hand), median(limit), median(network));
        let (s_cpu, h_cpu, net_cpu) = (median(streamed_cpu), median(hand_cpu), median(network_cpu));
        let mb = split.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!("speed: {n} results ({mb:.0} MB), median of {ROUNDS} interleaved rounds");
        println!(
            "  through the client (loopback HTTP, framing, typed, Completion): {:>7.1} ms  {:>6.0} MB/s",
            ms(s),
            mb / s.as_secs_f64()
        );
        println!(
            "  by hand (bytes_stream, split by hand, from_slice of each):       {:>7.1} ms  {:>6.0} MB/s",
            ms(h),
            mb / h.as_secs_f64()
        );
        println!(
            "  LIMIT: serde_json::from_slice of each result already cut out:   {:>7.1} ms  {:>6.0} MB/s",
            ms(l),
            mb / l.as_secs_f64()
        );
        println!(
            "  the body alone through plain reqwest (bytes_stream, nothing parsed): {:>7.1} ms",
            ms(net)
        );
        println!(
            "  the client's thread on the CPU: {:.1} ms through the client, {:.1} ms by hand, {:.1} ms for the body alone",
            ms(s_cpu),
            ms(h_cpu),
            ms(net_cpu)
        );
        println!(
            "  ratio to the hand-written reader: {:.3} (goal: at most 1.1); to the in-memory LIMIT: {:.3}",
            s.as_secs_f64() / h.as_secs_f64(),
            s.as_secs_f64() / l.as_secs_f64()
        );
    });
}

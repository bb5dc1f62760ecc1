//! What a body costs in memory once decoded: for bodies within the byte limit built to grow the
//! most when read into the types (empty objects by the million, nested empty arrays and numbers
//! in fields no type names, maps read through an untagged enum, a batch result that never ends),
//! the client's peak heap while it reads one stays within 4x the limit, and the read ends in a
//! typed error. Its own binary: a global allocator counts the bytes the client's thread holds
//! (the loopback server runs on a thread of its own, not counted).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use aimlapi::batch::BatchHandle;
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use common::{Reply, Server};
use futures::StreamExt;

struct Counting;

// Signed: a block allocated before counting began may be freed while it runs.
static HELD: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// One measurement at a time (the counts are the process's).
static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this thread's allocations are counted.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    COUNTED.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && counted() {
            let size = layout.size() as isize;
            let now = HELD.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if counted() {
            HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new) };
        if !q.is_null() && counted() {
            // Counted as the old block and the new one both held for a moment.
            let now = HELD.fetch_add(new as isize, Ordering::Relaxed) + new as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
            HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The body limit the cases are read under.
const LIMIT: usize = 8 << 20;

/// Starts the server for `script` on a thread and runtime of its own; its base URL.
fn serve(script: Vec<Reply>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let server = Server::start(script).await;
            tx.send(server.base_url.clone()).unwrap();
            // Kept up for the test's life, at most a minute.
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
    });
    rx.recv().unwrap()
}

fn client(base_url: &str) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(base_url)
        .api_key("k")
        .retry(RetryPolicy::none())
        .max_response_body(LIMIT)
        .build()
        .unwrap()
}

/// `{prefix}` then `item,` repeated to fill the limit less a little, then `suffix`.
fn filled(prefix: &str, item: &str, suffix: &str) -> String {
    let room = LIMIT - prefix.len() - suffix.len() - 64;
    let n = room / (item.len() + 1);
    let mut body = String::with_capacity(LIMIT);
    body.push_str(prefix);
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str(suffix);
    body
}

/// The client's peak heap above what it held before, while `read` ran; and its result.
fn peak_of<T>(read: impl std::future::Future<Output = T>) -> (usize, T) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    COUNTED.with(|c| c.set(true));
    let before = HELD.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("the read ends")
    });
    let peak = (PEAK.load(Ordering::Relaxed) - before).max(0) as usize;
    COUNTED.with(|c| c.set(false));
    drop(rt);
    (peak, out)
}

#[test]
fn bodies_that_grow_when_decoded_stay_within_four_times_the_limit() {
    let nested = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "a ledger page of empty objects",
            "/v2/billing/transactions",
            filled(r#"{"data":["#, "{}", "]}"),
        ),
        (
            "a key list of empty objects",
            "/v1/keys",
            filled(r#"{"data":["#, "{}", "]}"),
        ),
        (
            "an unknown field of empty arrays",
            "/v2/billing",
            filled(r#"{"current_balance":1,"x":["#, "[]", "]}"),
        ),
        (
            "an unknown field of nested arrays",
            "/v2/billing",
            filled(r#"{"x":["#, nested, "]}"),
        ),
        (
            "an unknown field of numbers",
            "/v2/billing",
            filled(r#"{"x":["#, "1", "]}"),
        ),
        ("a metrics map of empty entries", "/models/metrics", {
            let mut body = String::from(r#"{"models":{"#);
            let mut i = 0;
            while body.len() < LIMIT - 64 {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!(r#""{i:x}":{{}}"#));
                i += 1;
            }
            body.push_str("}}");
            body
        }),
        (
            "a chat answer of empty choices",
            "/v1/chat/completions",
            filled(r#"{"id":"x","choices":["#, "{}", "]}"),
        ),
        (
            "a chat answer with an unknown field of empty objects",
            "/v1/chat/completions",
            filled(
                r#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[],"x":["#,
                "{}",
                "]}",
            ),
        ),
    ];
    let error_body = (
        "an error answer of empty arrays",
        "error",
        filled("[", "[]", "]"),
    );
    for (case, route, body) in cases.into_iter().chain([error_body]) {
        assert!(body.len() <= LIMIT, "{case}: {} bytes", body.len());
        let status = if route == "error" { 500 } else { 200 };
        let base = serve(vec![Reply::status(status, &body)]);
        drop(body);
        let c = client(&base);
        let (peak, kind) = peak_of(async {
            let account = c.account();
            let result: Result<(), aimlapi::Error> = match route {
                "/v2/billing/transactions" => {
                    account.ledger().rows().next().await.unwrap().map(drop)
                }
                "/v1/keys" => account.keys().await.map(drop),
                "/v2/billing" => account.balance().await.map(drop),
                "/models/metrics" => account.model_metrics(&[]).await.map(drop),
                _ => c.chat_completion(&common::hello()).await.map(drop),
            };
            result.err().map(|e| e.kind())
        });
        let ratio = peak as f64 / LIMIT as f64;
        eprintln!("{case}: peak {peak} bytes, {ratio:.2}x the limit, {kind:?}");
        assert!(ratio <= 4.0, "{case}: {ratio:.2}x the limit");
        // A chat answer's choices need fields an empty object lacks: refused at the first, a
        // decode error; every other case reads on until the budget is spent.
        // An error answer is the HTTP error, its body kept as text (not read as a tree).
        let expected = match case {
            "a chat answer of empty choices" => ErrorKind::Decode,
            "an error answer of empty arrays" => ErrorKind::Server,
            _ => ErrorKind::ResponseTooLarge,
        };
        assert_eq!(kind, Some(expected), "{case}");
    }
}

#[test]
fn a_batch_result_that_never_ends_stays_within_four_times_the_limit() {
    let base = serve(vec![Reply::Drip {
        content_type: "application/x-ndjson",
        first: r#"{"custom_id":"r-0","result":{"type":"succeeded","message":{"content":["#.into(),
        // Empty text blocks: each one a content block (an empty object is none since the union's
        // branches are told apart, and would end the read at once as a decode error).
        repeat: r#"{"type":"text","text":""},"#.repeat(2 * 1024),
        every: Duration::from_millis(1),
    }]);
    let c = client(&base);
    let (peak, kind) = peak_of(async {
        let mut results = c.resume_batch(BatchHandle::from_id("b")).results();
        results.next().await.unwrap().err().map(|e| e.kind())
    });
    let ratio = peak as f64 / LIMIT as f64;
    eprintln!("a batch result that never ends: peak {peak} bytes, {ratio:.2}x the limit");
    assert!(ratio <= 4.0, "{ratio:.2}x the limit");
    assert_eq!(kind, Some(ErrorKind::ResponseTooLarge));
}

#[test]
fn an_ordinary_page_near_the_limit_still_reads() {
    // 8,000 ledger rows (about 1.3 MB): well within what the limit allows decoded.
    let row = r#"{"amount":{"usd":0.0123,"credits":246},"created_at":"2026-05-04T17:27:37.468Z","direction":"CHARGE","type":"MODEL_USAGE","reference_id":"inf-0123456789","model":"claude-sonnet-4-5"}"#;
    let rows = vec![row; 8_000].join(",");
    let body = format!(r#"{{"data":[{rows}],"pagination":{{"has_more":false}}}}"#);
    let base = serve(vec![Reply::status(200, &body)]);
    let c = client(&base);
    let (_, n) = peak_of(async {
        let rows: Vec<_> = c.account().ledger().rows().collect().await;
        rows.into_iter().filter(|r| r.is_ok()).count()
    });
    assert_eq!(n, 8_000);
}

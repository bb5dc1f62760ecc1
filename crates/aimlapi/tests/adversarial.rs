//! Servers that misbehave on the routes beyond chat and Messages (the account, batches, rate
//! limits), one class at a time: paging that would never end, answers that never end or never
//! come, counts and times no server should send, errors that would mislead. Every case runs on
//! a loopback server (`common::Server`) under a time bound of its own, and each failed before the
//! hardening it pins: it paged forever, waited past its deadline, panicked or said the wrong
//! thing. What bodies cost in memory once decoded is pinned in `decoded_memory.rs`, a binary of
//! its own (it counts every allocation).

mod common;

use std::time::{Duration, Instant};

use aimlapi::batch::{BatchHandle, Wait};
use aimlapi::{Client, Error, ErrorKind, Provider, RetryPolicy, Timeouts};
use common::{hello, Reply, Server, COMPLETION};
use futures::{StreamExt, TryStreamExt};

/// The longest any case may take: every bound under test is a second or two.
const BOUND: Duration = Duration::from_secs(15);

/// A builder for `server`, with the default policy.
fn builder(server: &Server) -> aimlapi::ClientBuilder {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(&server.base_url)
        .api_key("k")
}

fn client_with(server: &Server, timeouts: Timeouts) -> Client {
    builder(server)
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            jitter: 0.0,
            ..RetryPolicy::default()
        })
        .timeouts(timeouts)
        .build()
        .unwrap()
}

fn client(server: &Server) -> Client {
    client_with(
        server,
        Timeouts {
            request: Duration::from_secs(2),
            stream_idle: Duration::from_secs(1),
            ..Timeouts::default()
        },
    )
}

/// `future`, which must finish within [`BOUND`].
async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: still running after {BOUND:?}"))
}

/// `future`, which must finish within `limit` (measured from now) and within [`BOUND`].
async fn within<T>(what: &str, limit: Duration, future: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = bounded(what, future).await;
    let took = started.elapsed();
    assert!(took < limit, "{what}: took {took:?}, more than {limit:?}");
    out
}

fn ledger_row(n: usize) -> String {
    format!(
        r#"{{"created_at":"2026-05-04T17:27:37.468Z","direction":"CHARGE","type":"MODEL_USAGE","reference_id":"r-{n}","model":"claude-sonnet-4-5"}}"#
    )
}

fn ledger_page(rows: &[usize], cursor: Option<&str>, has_more: Option<bool>) -> String {
    let rows: Vec<String> = rows.iter().map(|&n| ledger_row(n)).collect();
    let mut pagination = serde_json::Map::new();
    if let Some(c) = cursor {
        pagination.insert("next_cursor".into(), c.into());
    }
    if let Some(m) = has_more {
        pagination.insert("has_more".into(), m.into());
    }
    format!(
        r#"{{"data":[{}],"pagination":{}}}"#,
        rows.join(","),
        serde_json::Value::Object(pagination)
    )
}

fn log_row(n: usize) -> String {
    format!(
        r#"{{"inference_id":"inf-{n}","model":"claude-sonnet-4-5","status":"succeeded","created_at":"2026-05-04T17:27:37.468Z"}}"#
    )
}

/// The rows read before the stream ended, and how it ended.
async fn drain<T>(
    rows: futures::stream::BoxStream<'static, Result<T, Error>>,
) -> (usize, Option<Error>) {
    let mut n = 0;
    let mut rows = rows;
    while let Some(row) = rows.next().await {
        match row {
            Ok(_) => n += 1,
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

fn paging_stopped(e: &Error, route: &str, position: &str) {
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    match e {
        Error::Paging {
            route: r,
            position: p,
            ..
        } => {
            assert_eq!(*r, route, "{e}");
            assert!(p.contains(position), "{e}");
        }
        other => panic!("not a paging error: {other}"),
    }
}

#[tokio::test]
async fn a_ledger_giving_the_same_cursor_forever_stops_with_a_paging_error() {
    let server = Server::start(vec![Reply::status(
        200,
        &ledger_page(&[1], Some("c1"), Some(true)),
    )])
    .await;
    let c = client(&server);
    let (rows, end) = bounded("ledger", drain(c.account().ledger().rows())).await;
    assert_eq!(rows, 1);
    paging_stopped(&end.expect("an error"), "/v2/billing/transactions", "c1");
    assert!(server.attempts() <= 2, "{} pages", server.attempts());
}

#[tokio::test]
async fn a_ledger_cursor_cycle_with_fresh_rows_stops_where_the_cursor_repeats() {
    let server = Server::start(vec![
        Reply::status(200, &ledger_page(&[1], Some("c1"), None)),
        Reply::status(200, &ledger_page(&[2], Some("c2"), None)),
        Reply::status(200, &ledger_page(&[3], Some("c1"), None)),
        Reply::status(200, &ledger_page(&[4], Some("c2"), None)),
    ])
    .await;
    let c = client(&server);
    let (rows, end) = bounded("ledger", drain(c.account().ledger().rows())).await;
    // The rows of the page that gave the repeated cursor are not given: paging stops there.
    assert_eq!(rows, 2);
    paging_stopped(
        &end.expect("an error"),
        "/v2/billing/transactions",
        "\"c1\"",
    );
    assert_eq!(server.attempts(), 3);
}

#[tokio::test]
async fn an_empty_cursor_without_has_more_ends_the_ledger() {
    let server = Server::start(vec![Reply::status(
        200,
        &ledger_page(&[1, 2], Some(""), None),
    )])
    .await;
    let c = client(&server);
    let (rows, end) = bounded("ledger", drain(c.account().ledger().rows())).await;
    assert_eq!((rows, end.map(|e| e.to_string())), (2, None));
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn fresh_cursors_with_empty_pages_stop_as_pages_that_add_nothing() {
    let server = Server::start(vec![
        Reply::status(200, &ledger_page(&[1], Some("c1"), Some(true))),
        Reply::Computed(|n, _| {
            format!(
                r#"{{"data":[],"pagination":{{"has_more":true,"next_cursor":"c{}"}}}}"#,
                n + 1
            )
        }),
    ])
    .await;
    let c = client(&server);
    let (rows, end) = bounded("ledger", drain(c.account().ledger().rows())).await;
    assert_eq!(rows, 1);
    paging_stopped(&end.expect("an error"), "/v2/billing/transactions", "c1");
}

#[tokio::test]
async fn a_log_that_ignores_offset_stops_and_one_whose_total_is_reached_ends() {
    // `has_more` stays true and the same rows come whatever the offset.
    let same = format!(
        r#"{{"data":[{},{}],"pagination":{{"has_more":true}}}}"#,
        log_row(1),
        log_row(2)
    );
    let server = Server::start(vec![Reply::status(200, &same)]).await;
    let c = client(&server);
    let window = aimlapi::account::Window::hours(1);
    let (rows, end) = bounded("logs", drain(c.account().logs(window).rows())).await;
    assert_eq!(rows, 2);
    paging_stopped(&end.expect("an error"), "/v2/logs", "2");
    assert_eq!(server.attempts(), 2);

    // `total` says done although `has_more` says more: done.
    let done = format!(
        r#"{{"data":[{}],"pagination":{{"has_more":true,"total":1,"offset":0}}}}"#,
        log_row(1)
    );
    let more = format!(r#"{{"data":[{}]}}"#, log_row(2));
    let server = Server::start(vec![Reply::status(200, &done), Reply::status(200, &more)]).await;
    let c = client(&server);
    let (rows, end) = bounded("logs", drain(c.account().logs(window).rows())).await;
    assert_eq!((rows, end.map(|e| e.to_string())), (1, None));
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn lookups_by_id_return_within_their_wait_however_the_pages_come() {
    // The call's answer, then a ledger and a log that page on forever with fresh cursors,
    // fresh rows and fresh offsets, never holding the call.
    let server = Server::start(vec![
        Reply::status(200, COMPLETION).with_header("x-inference-id", "the-call"),
        Reply::Computed(|n, line| {
            if line.contains("/v2/logs") {
                format!(
                    r#"{{"data":[{}],"pagination":{{"has_more":true}}}}"#,
                    log_row(n)
                )
            } else {
                ledger_page(&[n], Some(&format!("c{n}")), Some(true))
            }
        }),
    ])
    .await;
    let c = client(&server);
    let done = c.chat_completion(&hello()).await.unwrap();
    for wait in [Duration::ZERO, Duration::from_millis(800)] {
        let limit = wait + Duration::from_secs(1);
        let charge = within("charge_of", limit, c.account().charge_of(&done.meta, wait))
            .await
            .unwrap();
        assert!(matches!(charge, aimlapi::account::Charge::NotYet { .. }));
        let row = within(
            "log_row_of",
            limit,
            c.account().log_row_of(&done.meta, wait),
        )
        .await
        .unwrap();
        assert!(row.is_none());
    }
}

fn batch(server: &Server) -> aimlapi::batch::Batch {
    client(server).resume_batch(BatchHandle::from_id("msgbatch_01"))
}

const GENERATING: &str = r#"{"id":"msgbatch_01","status":"generating"}"#;

fn result_line(n: usize) -> String {
    format!(
        r#"{{"custom_id":"r-{n}","result":{{"type":"succeeded","message":{{"id":"msg_{n}","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{{"type":"text","text":"hi"}}],"stop_reason":"end_turn","usage":{{"input_tokens":3,"output_tokens":1}}}}}}}}"#
    )
}

#[tokio::test]
async fn a_wait_holds_its_deadline_against_answers_that_never_end_or_never_come() {
    let deadline = Duration::from_millis(1200);
    let wait = Wait::new()
        .interval(Duration::from_millis(50), Duration::from_millis(100))
        .deadline(deadline);
    for (case, reply) in [
        (
            "a trickle of statuses",
            Reply::Drip {
                content_type: "application/json",
                first: "[".into(),
                repeat: format!("{GENERATING},"),
                every: Duration::from_millis(20),
            },
        ),
        (
            "endless whitespace after a status",
            Reply::Drip {
                content_type: "application/json",
                first: GENERATING.into(),
                repeat: " ".into(),
                every: Duration::from_millis(20),
            },
        ),
        ("a poll that hangs", Reply::Hang),
    ] {
        let server = Server::start(vec![reply]).await;
        let b = client_with(
            &server,
            Timeouts {
                request: Duration::from_secs(600),
                stream_idle: Duration::from_secs(60),
                ..Timeouts::default()
            },
        )
        .resume_batch(BatchHandle::from_id("msgbatch_01"));
        let limit = deadline + Duration::from_millis(900);
        let err = within(case, limit, b.wait(wait, |_| {})).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{case}: {err}");
    }
}

#[tokio::test]
async fn a_status_read_has_a_total_time_bound_not_only_an_idle_one() {
    // One byte every 100 ms never trips the 1 s idle timeout; the 2 s request timeout holds.
    let server = Server::start(vec![Reply::Drip {
        content_type: "application/json",
        first: "[".into(),
        repeat: " ".into(),
        every: Duration::from_millis(100),
    }])
    .await;
    let err = within("status", Duration::from_secs(4), batch(&server).status())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn the_status_of_an_ended_batch_does_not_read_its_results_to_count_them() {
    // Result lines that never end: the status is known from the first.
    let server = Server::start(vec![Reply::Drip {
        content_type: "application/x-ndjson",
        first: format!("{}\n", result_line(0)),
        repeat: format!("{}\n", result_line(1)),
        every: Duration::from_millis(5),
    }])
    .await;
    let status = bounded("status", batch(&server).status()).await.unwrap();
    assert!(status.state.is_ended());
    assert_eq!(status.counts, None);
}

#[tokio::test]
async fn each_result_has_a_time_bound_and_a_size_bound() {
    // The first result whole, the second dripped a byte at a time: the first is read, the
    // second is a timeout at the request timeout (2 s), not at the end of the drip.
    let server = Server::start(vec![Reply::Drip {
        content_type: "application/x-ndjson",
        first: format!("{}\n{{\"custom_id\":\"r-1\",", result_line(0)),
        repeat: " ".into(),
        every: Duration::from_millis(100),
    }])
    .await;
    let started = Instant::now();
    let mut results = batch(&server).results();
    let first = bounded("results", results.next()).await.unwrap().unwrap();
    assert_eq!(first.0, "r-0");
    let second = bounded("results", results.next())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(second.kind(), ErrorKind::Timeout, "{second}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(bounded("results", results.next()).await.is_none());

    // A result line that never ends grows no further than the limit.
    let server = Server::start(vec![Reply::Drip {
        content_type: "application/x-ndjson",
        first: r#"{"custom_id":"r-0","result":{"type":"succeeded","message":{"content":[{"type":"text","text":""#.into(),
        repeat: "x".repeat(64 * 1024),
        every: Duration::from_millis(1),
    }])
    .await;
    let c = builder(&server).max_response_body(1 << 20).build().unwrap();
    let mut results = c.resume_batch(BatchHandle::from_id("b")).results();
    let err = bounded("results", results.next())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert!(err.to_string().contains("1048576"), "{err}");
}

#[tokio::test]
async fn a_saved_handle_whose_counts_overflow_is_no_panic() {
    let server = Server::start(vec![Reply::status(200, GENERATING)]).await;
    let c = client(&server);
    let handle = BatchHandle {
        ids: vec!["a".into(), "b".into(), "c".into()],
        requests: vec![u64::MAX, u64::MAX, 7],
    };
    let status = bounded("status", c.resume_batch(handle).status())
        .await
        .unwrap();
    assert_eq!(status.requests, Some(u64::MAX));
    assert_eq!(status.progress(), None);
}

#[tokio::test]
async fn a_rate_limit_count_that_does_not_parse_is_unknown_not_spent() {
    // No Retry-After; the limit's count is not a number and its reset is 30 s off: the retry
    // takes the backoff (10 ms), not the reset.
    let server = Server::start(vec![
        Reply::status(429, r#"{"message":"Too Many Requests","statusCode":429}"#)
            .with_header("x-ratelimit-remaining-requests", "lots")
            .with_header("x-ratelimit-reset-requests", "30s"),
        Reply::status(200, COMPLETION),
    ])
    .await;
    let chat = client(&server);
    let done = within(
        "chat",
        Duration::from_secs(5),
        chat.chat_completion(&hello()),
    )
    .await
    .unwrap();
    assert_eq!(done.meta.attempts, 2);
}

#[tokio::test]
async fn a_url_too_long_to_send_is_an_invalid_request_and_not_retried() {
    let cursor = "c".repeat(1 << 20);
    let server = Server::start(vec![Reply::status(
        200,
        &ledger_page(&[1], Some(&cursor), Some(true)),
    )])
    .await;
    let c = client(&server);
    let (rows, end) = bounded("ledger", drain(c.account().ledger().rows())).await;
    assert_eq!(rows, 1);
    let e = end.expect("an error");
    assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{e}");
    assert!(
        !e.to_string().contains(&cursor[..1000]),
        "the URL is not in the message"
    );
    // Only the first page reached the server; the second could not be sent, and was not
    // tried again.
    assert_eq!(server.attempts(), 1);
}

#[tokio::test]
async fn an_ended_batch_whose_answer_has_no_results_is_a_decode_error() {
    let ended = r#"{"id":"msgbatch_01","type":"message_batch","processing_status":"ended",
        "request_counts":{"processing":0,"succeeded":2,"errored":0,"canceled":0,"expired":0}}"#;
    let server = Server::start(vec![Reply::status(200, ended)]).await;
    let err = bounded("results", batch(&server).results().try_collect::<Vec<_>>())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("no results"), "{err}");
    assert!(!err.to_string().contains("wait for it"), "{err}");
}

#[tokio::test]
async fn a_metrics_figure_of_the_wrong_type_names_the_field_and_what_came() {
    let report =
        r#"{"window_seconds":300,"models":{"claude-sonnet-4-5":{"ttft_ms":{"p50":"fast"}}}}"#;
    let server = Server::start(vec![Reply::status(200, report)]).await;
    let err = bounded("metrics", client(&server).account().model_metrics(&[]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let text = err.to_string();
    assert!(text.contains("`models`"), "{text}");
    assert!(text.contains(r#""p50":"fast""#), "{text}");
}

#[tokio::test]
async fn a_budget_error_prints_money_at_a_sensible_precision() {
    let server = Server::start(vec![Reply::status(200, r#"{"current_balance":-1e308}"#)]).await;
    let c = builder(&server)
        .budget(aimlapi::budget::Budget::balance_floor(1e300))
        .build()
        .unwrap();
    let err = bounded("chat", c.chat_completion(&hello()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded);
    let text = err.to_string();
    assert!(text.len() < 160, "{text}");
    assert!(
        text.contains("$-1.000e308") && text.contains("$1.000e300"),
        "{text}"
    );
}

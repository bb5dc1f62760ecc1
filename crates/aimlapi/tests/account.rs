//! The account routes against the mock's account: each route typed, the ledger and the request
//! log paged to the end while new calls land between pages (no row skipped or repeated), the
//! filters sent as repeated parameters, the documented refusals typed, windows checked before
//! sending, and the live metrics.

use std::time::{Duration, SystemTime};

use aimlapi::account::{fastest, Charge, Figure, Percentile, Window};
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Reply};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

const KEY: &str = "sk-regular-0123456789";
const MANAGEMENT: &str = "sk-manage-0123456789";
const CHARGE: Duration = Duration::from_millis(60);

async fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY)
        .management_key(MANAGEMENT)
        .account_balance(20.0)
        .charge_delay(CHARGE)
        .start()
        .await
        .unwrap()
}

fn client(mock: &MockServer, key: &str) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key(key)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// `n` calls answered, and their charges landed; their inference ids, oldest first.
async fn calls(client: &Client, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let done = client
            .chat("claude-3-5-haiku-latest")
            .user(format!("call {i}"))
            .send()
            .await
            .unwrap();
        ids.push(done.meta.inference_id.clone().expect("an inference id"));
    }
    tokio::time::sleep(CHARGE * 2).await;
    ids
}

/// Every row of `rows`: the first page, then three more calls land (at the head of the list)
/// while the rest is read.
async fn read_while_calls_land<T>(
    mut rows: futures::stream::BoxStream<'static, Result<T, aimlapi::Error>>,
    client: &Client,
) -> Vec<T> {
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(rows.next().await.unwrap().unwrap());
    }
    calls(client, 3).await;
    while let Some(row) = rows.next().await {
        seen.push(row.unwrap());
    }
    seen
}

#[tokio::test]
async fn each_route_answers_typed_and_the_figures_move_with_the_calls() {
    let mock = mock().await;
    let c = client(&mock, KEY);
    let account = c.account();
    assert_eq!(account.balance().await.unwrap().current_balance, Some(20.0));
    calls(&c, 3).await;
    let spent = c.spent();
    assert!(spent > 0.0);
    let balance = account.balance().await.unwrap().current_balance.unwrap();
    assert!(
        (balance - (20.0 - spent)).abs() < 1e-5,
        "{balance} after {spent}"
    );
    let detail = account.billing_detail().await.unwrap();
    assert_eq!(detail.currency.as_deref(), Some("USD"));

    let usage = account.usage(Window::days(1)).await.unwrap();
    assert_eq!(usage.requests, Some(3));
    assert!((usage.spend.unwrap() - spent).abs() < 1e-5);
    assert_eq!(usage.api_key_prefix.as_deref(), Some(&KEY[..8]));
    let by_model = account
        .usage_detail(Window::hours(2), Some("model"), None)
        .await
        .unwrap();
    let models = by_model.models.unwrap_or_default();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].requests, Some(3));

    let key = account.key().await.unwrap();
    assert_eq!(key.prefix.as_deref(), Some(&KEY[..8]));
}

#[tokio::test]
async fn the_ledger_pages_by_cursor_to_the_end_while_calls_land() {
    let mock = mock().await;
    let c = client(&mock, KEY);
    let first = calls(&c, 5).await;
    let seen = read_while_calls_land(c.account().ledger().page_size(2).rows(), &c).await;
    let references: Vec<String> = seen.iter().filter_map(|r| r.reference_id.clone()).collect();
    let newest_first: Vec<String> = first.iter().rev().cloned().collect();
    assert_eq!(references, newest_first, "each charge once, newest first");
    let last = seen.last().unwrap();
    assert_eq!(
        last.direction.as_ref().map(|d| d.to_string()),
        Some("TOPUP".into())
    );
    assert_eq!(seen.len(), 6);
    // Every page after the first passed the cursor back as it came.
    let pages: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v2/billing/transactions")
        .collect();
    assert_eq!(pages.len(), 3);
    assert!(!pages[0].query.contains("cursor"));
    assert!(pages[1..].iter().all(|p| p.query.contains("cursor=cur_")));
}

#[tokio::test]
async fn the_log_pages_to_the_end_over_a_fixed_window_while_calls_land() {
    let mock = mock().await;
    let c = client(&mock, KEY);
    let first = calls(&c, 5).await;
    let rows = c.account().logs(Window::hours(1)).page_size(2).rows();
    let seen = read_while_calls_land(rows, &c).await;
    let ids: Vec<String> = seen.iter().filter_map(|r| r.inference_id.clone()).collect();
    let newest_first: Vec<String> = first.iter().rev().cloned().collect();
    assert_eq!(
        ids, newest_first,
        "each call once, newest first, none added while paging"
    );
    // The window went out fixed (start and end), the same on every page.
    let pages: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v2/logs")
        .collect();
    assert_eq!(pages.len(), 3);
    let window = |q: &str| {
        q.split('&')
            .filter(|p| p.starts_with("start=") || p.starts_with("end="))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert!(window(&pages[0].query).contains("start="));
    assert!(pages
        .iter()
        .all(|p| window(&p.query) == window(&pages[0].query)));
}

#[tokio::test]
async fn filters_go_out_repeated_and_failed_calls_are_listed_at_cost_zero() {
    let mock = mock().await;
    let c = client(&mock, KEY);
    calls(&c, 2).await;
    mock.push(Reply::status(500));
    let failed = c.chat("claude-3-5-haiku-latest").user("fails").send().await;
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::Server);
    let rows: Vec<_> = c
        .account()
        .logs(Window::hours(1))
        .model("claude-3-5-haiku-latest")
        .model("claude-sonnet-4-5")
        .status("failed")
        .status("succeeded")
        .rows()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let query = mock
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v2/logs")
        .unwrap()
        .query;
    assert!(
        query.contains("model=claude-3-5-haiku-latest&model=claude-sonnet-4-5"),
        "{query}"
    );
    assert!(query.contains("status=failed&status=succeeded"), "{query}");
    assert!(!query.contains("%2C") && !query.contains(','), "{query}");
    let only_failed: Vec<_> = c
        .account()
        .logs(Window::hours(1))
        .status("failed")
        .rows()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(only_failed.len(), 1);
    assert_eq!(only_failed[0].cost.as_ref().and_then(|c| c.usd), Some(0.0));
}

#[tokio::test]
async fn refusals_are_typed_and_a_long_window_is_refused_before_sending() {
    let mock = mock().await;
    let manager = client(&mock, MANAGEMENT);
    let e = manager
        .account()
        .ledger()
        .rows()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
    assert!(e.to_string().contains("management key"), "{e}");
    // A management key may read another key's log; a regular key may not.
    let other: Result<Vec<_>, _> = manager
        .account()
        .logs(Window::days(1))
        .key_prefix(&KEY[..8])
        .rows()
        .try_collect()
        .await;
    assert!(other.is_ok());
    let regular = client(&mock, KEY);
    let e = regular
        .account()
        .logs(Window::days(1))
        .key_prefix("someone")
        .rows()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
    let before = mock.requests().len();
    let e = regular.account().usage(Window::days(93)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    assert!(e.to_string().contains("92 days"), "{e}");
    let day = Duration::from_secs(86_400);
    let now = SystemTime::now();
    let e = regular
        .account()
        .logs(Window::between(now - 100 * day, now))
        .rows()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    assert_eq!(mock.requests().len(), before, "nothing was sent");
    assert!(!e.to_string().contains(KEY));
}

#[tokio::test]
async fn live_metrics_are_typed_and_pick_the_fastest_model() {
    let mock = mock().await;
    let c = client(&mock, KEY);
    let documented = c.account().model_metrics(&[]).await.unwrap();
    assert_eq!(documented.window_seconds, Some(300));
    mock.set_metrics(Some(json!({
        "window_seconds": 300,
        "generated_at": "2026-12-03T12:00:00.000Z",
        "models": [
            {"alias": "claude-sonnet-4-5", "endpoint": "/v1/chat/completions",
             "metrics": {"ttft_ms": {"p50": 900, "p75": 1100, "p90": 1500, "p99": 2500}, "tps": {"p50": 60, "p99": 80}}},
            {"alias": "claude-haiku-4-5", "endpoint": "/v1/chat/completions",
             "metrics": {"ttft_ms": {"p50": 400, "p75": 500, "p90": 800, "p99": 4000}, "tps": {"p50": 90, "p99": 70}}}
        ]
    })));
    let candidates = ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"];
    let report = c.account().model_metrics(&candidates).await.unwrap();
    let query = mock
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/models/metrics")
        .unwrap()
        .query;
    assert_eq!(
        query,
        "aliases=claude-opus-4-5&aliases=claude-sonnet-4-5&aliases=claude-haiku-4-5"
    );
    // tps: higher is faster; duration: no candidate has data, so the first.
    for (figure, percentile, want) in [
        (Figure::TtftMs, Percentile::P50, "claude-haiku-4-5"),
        (Figure::TtftMs, Percentile::P99, "claude-sonnet-4-5"),
        (Figure::Tps, Percentile::P99, "claude-sonnet-4-5"),
        (Figure::Tps, Percentile::P50, "claude-haiku-4-5"),
        (Figure::DurationMs, Percentile::P50, "claude-opus-4-5"),
    ] {
        let got = fastest(&report, &candidates, figure, percentile);
        assert_eq!(got, Some(want), "{figure:?} {percentile:?}");
    }
}

#[tokio::test]
async fn one_call_s_cost_three_ways_and_not_charged_yet_before_it_lands() {
    let mock = MockServer::builder()
        .api_key(KEY)
        .charge_delay(Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    let c = client(&mock, KEY);
    let done = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap();
    let account = c.account();
    // At once: the log has the call, the ledger not yet.
    let early = account
        .charge_of(&done.meta, Duration::from_millis(50))
        .await
        .unwrap();
    assert!(matches!(early, Charge::NotYet { .. }), "{early:?}");
    let row = account
        .log_row_of(&done.meta, Duration::from_secs(2))
        .await
        .unwrap()
        .expect("the log row");
    let cost = done.cost().expect("the answer's cost").usd;
    assert_eq!(row.cost.as_ref().and_then(|c| c.usd), Some(cost));
    // Waiting long enough, the charge lands: the same dollars as the answer said.
    let Charge::Landed(entry) = account
        .charge_of(&done.meta, Duration::from_secs(3))
        .await
        .unwrap()
    else {
        panic!("the charge did not land");
    };
    assert_eq!(entry.reference_id, done.meta.inference_id);
    assert_eq!(entry.amount.as_ref().and_then(|a| a.usd), Some(cost));
    // Any wait a caller gives, even "as long as it takes", is taken.
    let again = account.charge_of(&done.meta, Duration::MAX).await.unwrap();
    assert!(matches!(again, Charge::Landed(_)), "{again:?}");
}

#[tokio::test]
async fn keys_are_managed_with_a_management_key_only_and_a_new_secret_never_shows_in_debug() {
    let mock = mock().await;
    let manager = client(&mock, MANAGEMENT).account();
    let settings: aimlapi::types::CreateKeyRequest =
        serde_json::from_value(json!({"name": "batch jobs", "scopes": ["model:chat"]})).unwrap();
    let made = manager.create_key(&settings).await.unwrap();
    let secret = made.secret.expose_secret().to_string();
    assert!(!secret.is_empty());
    assert!(
        !format!("{made:?}").contains(&secret),
        "the secret in Debug"
    );
    let prefix = made.settings.prefix.clone().unwrap();
    assert_eq!(made.settings.name.as_deref(), Some("batch jobs"));
    let listed = manager.keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    let changes: aimlapi::types::UpdateKeyRequest =
        serde_json::from_value(json!({"disabled": true})).unwrap();
    let changed = manager.update_key(&prefix, &changes).await.unwrap();
    assert_eq!(changed.disabled, Some(true));
    assert_eq!(
        changed.name.as_deref(),
        Some("batch jobs"),
        "PATCH keeps what it does not name"
    );
    let whole: aimlapi::types::ReplaceKeyRequest =
        serde_json::from_value(json!({"name": "renamed"})).unwrap();
    let replaced = manager.replace_key(&prefix, &whole).await.unwrap();
    assert_eq!(replaced.name.as_deref(), Some("renamed"));
    let deleted = manager.delete_key(&prefix).await.unwrap();
    assert_eq!(deleted.deleted, Some(true));
    let e = manager.delete_key(&prefix).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = manager.delete_key("../billing").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRequest);
    // A regular key may not manage keys.
    let e = client(&mock, KEY).account().keys().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden, "{e}");
    // Made once: the create request went out once.
    let creates = mock
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/keys")
        .count();
    assert_eq!(creates, 1);
}

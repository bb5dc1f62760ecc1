//! The budget against the mock's account: two processes on one account stop together at the
//! limit, every call after it refused before sending; a balance floor; and a client without a
//! budget never asks the account anything.

use std::process::{Command, Stdio};
use std::time::Duration;

use aimlapi::account::Window;
use aimlapi::budget::Budget;
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::MockServer;

const KEY: &str = "sk-budget-0123456789";
const REFRESH: Duration = Duration::from_millis(150);
const CHARGE: Duration = Duration::from_millis(20);
const PAUSE: Duration = Duration::from_millis(25);
/// Set in the child process: the mock's base URL and the limit.
const CHILD: &str = "AIMLAPI_BUDGET_TEST_CHILD";

fn client(base: &str, budget: Option<Budget>) -> Client {
    let mut b = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(base)
        .api_key(KEY)
        .retry(RetryPolicy::none());
    if let Some(budget) = budget {
        b = b.budget(budget);
    }
    b.build().unwrap()
}

async fn call(c: &Client) -> Result<(), aimlapi::Error> {
    c.chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .map(|_| ())
}

/// Calls, one every [`PAUSE`], until the budget refuses one (at most 500); then three more,
/// each of which must be refused too. The calls answered.
async fn spend_until_refused(c: &Client) -> usize {
    let mut answered = 0;
    loop {
        match call(c).await {
            Ok(()) => answered += 1,
            Err(e) if e.kind() == ErrorKind::BudgetExceeded => break,
            Err(e) => panic!("{e}"),
        }
        assert!(answered < 500, "the budget never stopped the calls");
        tokio::time::sleep(PAUSE).await;
    }
    for _ in 0..3 {
        let e = call(c).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded, "{e}");
    }
    answered
}

#[tokio::test]
async fn two_processes_on_one_account_stop_together_at_the_limit() {
    let budget = |limit: f64| Budget::spend(limit, Window::days(1)).refresh_every(REFRESH);
    if let Ok(setup) = std::env::var(CHILD) {
        // The second process: the same account, its own client.
        let (base, limit) = setup.split_once(' ').unwrap();
        let c = client(base, Some(budget(limit.parse().unwrap())));
        println!("answered={}", spend_until_refused(&c).await);
        return;
    }
    let mock = MockServer::builder()
        .api_key(KEY)
        .charge_delay(CHARGE)
        .start()
        .await
        .unwrap();
    // One call, unbudgeted, to learn what a call costs (the mock's price is fixed).
    let plain = client(mock.base_url(), None);
    call(&plain).await.unwrap();
    let each = plain.spent();
    assert!(each > 0.0);
    let limit = 40.0 * each;

    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "two_processes_on_one_account_stop_together_at_the_limit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{} {limit}", mock.base_url()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let c = client(mock.base_url(), Some(budget(limit)));
    let here = spend_until_refused(&c).await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "the second process failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let there: usize = text
        .lines()
        .find_map(|l| l.split("answered=").nth(1))
        .unwrap_or_else(|| panic!("no count from the second process: {text}"))
        .parse()
        .unwrap();
    assert!(
        here > 0 && there > 0,
        "both processes made calls: {here} and {there}"
    );

    // Every call refused was refused before sending: the mock answered exactly these.
    let chat_calls = mock
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .count();
    assert_eq!(chat_calls, 1 + here + there);
    // Together they spent up to the limit, and past it by no more than what both can call in
    // one refresh interval and a charge delay.
    let spent = (1 + here + there) as f64 * each;
    let per_interval = ((REFRESH + CHARGE).as_secs_f64() / PAUSE.as_secs_f64()).ceil() + 1.0;
    assert!(spent >= limit - each, "stopped early: ${spent} of ${limit}");
    assert!(
        spent <= limit + 2.0 * per_interval * each,
        "stopped late: ${spent} of ${limit} ({here} + {there} calls)"
    );
}

#[tokio::test]
async fn a_balance_floor_stops_calls_before_the_balance_reaches_it() {
    let mock = MockServer::builder()
        .api_key(KEY)
        .charge_delay(CHARGE)
        .account_balance(1.0)
        .start()
        .await
        .unwrap();
    let plain = client(mock.base_url(), None);
    call(&plain).await.unwrap();
    let each = plain.spent();
    let floor = 1.0 - 10.5 * each;
    let c = client(
        mock.base_url(),
        Some(Budget::balance_floor(floor).refresh_every(REFRESH)),
    );
    let answered = spend_until_refused(&c).await;
    // One process alone counts its own calls at once, and by the end the reading has the first
    // call too: each call is let through while the balance is above the floor, so the tenth
    // (the balance then 1 - 10 calls, above 1 - 10.5) is the last.
    assert_eq!(answered, 10);
    let e = call(&c).await.unwrap_err();
    assert!(e.to_string().contains("a balance above $"), "{e}");
    assert!(!e.to_string().contains(KEY));
}

#[tokio::test]
async fn without_a_budget_the_account_is_never_asked() {
    let mock = MockServer::builder().api_key(KEY).start().await.unwrap();
    let c = client(mock.base_url(), None);
    for _ in 0..3 {
        call(&c).await.unwrap();
    }
    let paths: Vec<String> = mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/chat/completions"; 3]);
}

#[test]
fn a_budget_that_could_never_be_checked_is_refused_when_the_client_is_built() {
    for budget in [
        Budget::spend(5.0, Window::days(93)),
        Budget::spend(5.0, Window::days(0)),
        Budget::spend(f64::NAN, Window::days(1)),
        Budget::balance_floor(f64::INFINITY),
    ] {
        let e = Client::builder()
            .api_key(KEY)
            .budget(budget)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{budget:?}: {e}");
        assert!(e.to_string().contains("budget"), "{e}");
    }
}

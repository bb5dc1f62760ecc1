//! Admission by the rate limits against the mock's limit of so many calls a window: a
//! thousand calls at once are held locally and released window by window instead of being sent
//! into 429s; a wait past the queue deadline fails unsent.

use std::time::{Duration, Instant};

use aimlapi::{Admission, Client, ErrorKind, Provider};
use aimlapi_mock::MockServer;

fn client(mock: &MockServer, admission: Option<Admission>) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("sk-admission-0123")
        .admission(admission)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_calls_against_fifty_a_second_all_succeed_without_a_429_storm() {
    let mock = MockServer::builder()
        .rate_limit(50, Duration::from_secs(1))
        .record_limit(2_000)
        .start()
        .await
        .unwrap();
    let c = client(&mock, Some(Admission::default()));
    let began = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..1_000 {
        let chat = c.chat("claude-sonnet-4-5").user(format!("call {i}"));
        calls.spawn(async move { chat.send().await.map(|d| d.meta.attempts) });
    }
    let mut retried = 0;
    let mut per_second = [0u32; 30];
    while let Some(done) = calls.join_next().await {
        let attempts = done.unwrap().unwrap_or_else(|e| panic!("{e}"));
        retried += usize::from(attempts > 1);
        per_second[(began.elapsed().as_secs() as usize).min(29)] += 1;
    }
    eprintln!("answers each second: {per_second:?}");
    let took = began.elapsed();
    let windows = took.as_secs_f64().ceil() as u64 + 1;
    let refused = mock.rate_limited();
    eprintln!("1,000 calls in {took:?}: {refused} answered 429, {retried} retried");
    assert!(refused <= windows, "{refused} 429s in {windows} windows");
    // 1,000 calls at 50 a second: 20 windows (the first call's wait to learn the limit, and
    // the last window's, inside the margin).
    let secs = took.as_secs_f64();
    assert!(
        (17.0..=23.0).contains(&secs),
        "{secs} s, not within 15 % of 20 s"
    );
}

#[tokio::test]
async fn a_wait_past_the_queue_deadline_fails_unsent_as_rate_limited() {
    let mock = MockServer::builder()
        .rate_limit(1, Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let c = client(
        &mock,
        Some(Admission {
            queue_deadline: Duration::from_millis(300),
            ..Admission::default()
        }),
    );
    c.chat("claude-sonnet-4-5")
        .user("one")
        .send()
        .await
        .unwrap();
    let began = Instant::now();
    let err = c
        .chat("claude-sonnet-4-5")
        .user("two")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert!(err.to_string().contains("not sent"), "{err}");
    assert!(
        began.elapsed() < Duration::from_millis(200),
        "refused at once: the reset is past the deadline"
    );
    assert_eq!(mock.requests().len(), 1, "the second call was not sent");
    assert_eq!(mock.rate_limited(), 0);
}

#[tokio::test]
async fn a_gateway_that_sends_no_limits_is_never_held() {
    let mock = MockServer::start().await;
    let c = client(&mock, Some(Admission::default()));
    let began = Instant::now();
    let calls: Vec<_> = (0..50)
        .map(|i| c.chat("claude-sonnet-4-5").user(format!("{i}")))
        .collect();
    let done = futures::future::join_all(calls.iter().map(|chat| chat.send())).await;
    assert!(done.iter().all(Result::is_ok));
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_queue_deadline_too_long_to_add_is_no_panic() {
    let mock = MockServer::builder()
        .rate_limit(100, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let c = client(
        &mock,
        Some(Admission {
            queue_deadline: Duration::MAX,
            ..Admission::default()
        }),
    );
    // At once: all but the first wait in the queue for its reading.
    let chats: Vec<_> = (0..3)
        .map(|i| c.chat("claude-sonnet-4-5").user(format!("{i}")))
        .collect();
    let done = futures::future::join_all(chats.iter().map(|chat| chat.send())).await;
    assert!(done.iter().all(Result::is_ok), "{done:?}");
}

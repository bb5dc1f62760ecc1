//! Whatever a server or proxy puts in `retry-after`, `retry-after-ms` and `x-should-retry`, the
//! error and retry path neither panics nor waits longer than the policy's cap.

mod common;

use std::time::{Duration, Instant};

use aimlapi::error::HttpError;
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Reply};
use common::{hello, COMPLETION};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;

/// Header values as a server may send them: any visible ASCII and spaces (what a header value
/// can carry), numbers of every size and sign, floats in every notation, and HTTP dates with
/// any field out of range.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        any::<i128>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        Just("1e300".to_string()),
        Just("99999999999999999999".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just(String::new()),
        (
            0u32..40,
            0usize..14,
            0u64..100_000,
            0u32..100,
            0u32..100,
            0u32..100
        )
            .prop_map(|(day, month, year, h, m, s)| {
                const MONTHS: [&str; 14] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec", "Foo", "",
                ];
                format!(
                    "Sun, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT",
                    MONTHS[month]
                )
            }),
    ]
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![Just(429u16), Just(503), Just(500), Just(408), 100u16..1000]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (
        0u32..5,
        0u64..2_000,
        0u64..20_000,
        0u64..120_000,
        prop_oneof![Just(f64::NAN), Just(-1.0), Just(2.0), 0.0..1.0f64],
    )
        .prop_map(|(max_retries, initial, max, cap, jitter)| RetryPolicy {
            max_retries,
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
            max_retry_after: Duration::from_millis(cap),
            jitter,
            max_elapsed: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn no_header_value_panics_and_every_wait_is_within_the_cap(
        status in status(),
        retry_after in proptest::option::of(header_value()),
        retry_after_ms in proptest::option::of(header_value()),
        should_retry in proptest::option::of(header_value()),
        policy in policy(),
        retry in 0u32..40,
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("retry-after", &retry_after),
            ("retry-after-ms", &retry_after_ms),
            ("x-should-retry", &should_retry),
        ] {
            if let Some(v) = value.as_ref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert(name, v);
            }
        }
        let status = StatusCode::from_u16(status).unwrap();
        // The whole path a failed answer takes: read as an error, then the retry decision and
        // the wait.
        let error = HttpError::from_parts(status, headers.clone(), b"{\"message\":\"x\"}");
        let _ = error.kind();
        let _ = policy.should_retry_status(status, &headers);
        let wait = policy.delay(retry, Some(&headers));
        let cap = policy.max_retry_after.max(policy.max_backoff);
        prop_assert!(wait <= cap, "waited {wait:?} over the cap {cap:?}");
        if let Some(asked) = error.retry_after {
            prop_assert!(asked <= Duration::from_secs(365 * 24 * 3600), "{asked:?}");
            prop_assert_eq!(wait, asked.min(policy.max_retry_after));
        }
    }
}

/// The two values a proxy was seen to send, over the network: no panic, and the retry falls back
/// to the backoff.
#[tokio::test]
async fn an_absurd_retry_after_over_the_network_falls_back_to_the_backoff() {
    for absurd in ["99999999999999999999", "1e300", "-5", "NaN"] {
        let server = MockServer::start().await;
        server.push(
            Reply::status(429)
                .body(r#"{"message":"Too Many Requests","statusCode":429}"#)
                .header("retry-after", absurd)
                .header("retry-after-ms", absurd),
        );
        server.push(Reply::status(200).body(COMPLETION));
        let client = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(server.base_url())
            .api_key("k")
            .retry(RetryPolicy {
                initial_backoff: Duration::from_millis(10),
                jitter: 0.0,
                ..RetryPolicy::default()
            })
            .build()
            .unwrap();
        let started = Instant::now();
        let done = client.chat_completion(&hello()).await.unwrap();
        assert_eq!(done.meta.attempts, 2, "{absurd}");
        assert!(started.elapsed() < Duration::from_secs(5), "{absurd}");
        // The error a caller sees for the same answer keeps no wait.
        let server = MockServer::start().await;
        server.push(Reply::status(429).body("{}").header("retry-after", absurd));
        let err = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(server.base_url())
            .api_key("k")
            .retry(RetryPolicy::none())
            .build()
            .unwrap()
            .chat_completion(&hello())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.http().unwrap().retry_after, None, "{absurd}");
    }
}

//! Two gateways under failure, each a mock: calls and streams move from A (the AI/ML API) to B
//! (OpenRouter) when A fails, the breaker keeps them off A and lets them back after a probe,
//! a conversation that moved stays, a model B does not serve is not moved; the error kinds and
//! the patient retry policy over the mock's outages.

use std::time::{Duration, Instant};

use aimlapi::failover::{BreakerPolicy, BreakerState, FailoverPolicy};
use aimlapi::{Client, ClientBuilder, Error, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Outage, Reply};

const KEY_A: &str = "sk-aiml-0123456789";
const KEY_B: &str = "sk-or-0123456789";
const MODEL: &str = "claude-sonnet-4-5";

/// One quick retry, no jitter.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 1,
        initial_backoff: Duration::from_millis(5),
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

fn gateway_a(a: &MockServer) -> ClientBuilder {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(a.base_url())
        .api_key(KEY_A)
        .retry(quick())
}

fn gateway_b(b: &MockServer) -> ClientBuilder {
    Client::builder()
        .provider(Provider::open_router())
        .base_url(format!("{}/api", b.base_url()))
        .api_key(KEY_B)
        .retry(quick())
}

const BREAKER: BreakerPolicy = BreakerPolicy {
    failures: 5,
    window: Duration::from_secs(30),
    cool_down: Duration::from_secs(2),
    max_cool_down: Duration::from_secs(8),
};

fn two_gateways(a: &MockServer, b: &MockServer) -> Client {
    gateway_a(a)
        .fallback(gateway_b(b))
        .failover(FailoverPolicy {
            breaker: BREAKER,
            ..FailoverPolicy::default()
        })
        .build()
        .unwrap()
}

/// The model calls a mock saw (chat completions and Messages).
fn calls(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions") || r.path.ends_with("/messages"))
        .count()
}

#[tokio::test]
async fn an_overload_on_a_moves_every_call_to_b_and_the_breaker_lets_them_back_after_a_probe() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    let window = Duration::from_secs(30);
    let began = Instant::now();
    a.outage(Outage::overloaded(window));

    // The service's first call in the window meets the overload, is retried once, and moves.
    let first = client.chat(MODEL).user("hi").send().await.unwrap();
    assert_eq!(first.meta.gateway, format!("{}/api", b.base_url()));
    assert_eq!(first.meta.moved_from.as_deref(), Some(a.base_url()));
    assert_eq!(calls(&a), 2);

    // 200 calls and 50 streams at once: every one answered, once, by B.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..250 {
        let chat = client.chat(MODEL).user(format!("call {i}"));
        tasks.spawn(async move {
            let done = if i % 5 == 0 {
                chat.stream().await?.completion().await?
            } else {
                chat.send().await?
            };
            Ok::<_, Error>((
                i,
                done.meta.gateway.clone(),
                done.text().map(|t| t.to_string()),
            ))
        });
    }
    let mut answered = std::collections::BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, gateway, text) = joined.unwrap().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gateway, format!("{}/api", b.base_url()), "call {i}");
        assert!(text.is_some_and(|t| !t.is_empty()), "call {i}");
        assert!(answered.insert(i), "call {i} answered twice");
    }
    assert_eq!(answered.len(), 250);
    assert_eq!(calls(&b), 251, "B answered each call once");
    // A saw its threshold of failed calls (each with its retry), no more.
    let attempts = 1 + quick().max_retries as usize;
    let after_burst = calls(&a);
    assert!(
        after_burst <= BREAKER.failures as usize * attempts,
        "A saw {after_burst} calls"
    );
    assert!(matches!(
        client.gateways()[0].state,
        BreakerState::Open { .. }
    ));

    // A call every 250 ms through the window: all through B, A probed after each cool-down.
    let mut probes = 0;
    let mut last_count = after_burst;
    while began.elapsed() < window {
        let done = client.chat(MODEL).user("tick").send().await.unwrap();
        assert_eq!(done.meta.gateway, format!("{}/api", b.base_url()));
        let now = calls(&a);
        if now > last_count {
            probes += 1;
            last_count = now;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Cool-downs of 2, 4, 8, 8 s: at most 4 probes in the 30 s, each with its retry.
    assert!((1..=4).contains(&probes), "{probes} probes");
    assert!(
        calls(&a) <= (BREAKER.failures as usize + probes) * attempts,
        "A saw {} calls",
        calls(&a)
    );

    // The window is over: once the cool-down has passed, a probe finds A well and calls return.
    let back = Instant::now();
    let served_by_a = loop {
        let done = client.chat(MODEL).user("after").send().await.unwrap();
        if done.meta.gateway == a.base_url() {
            break done;
        }
        assert!(
            back.elapsed() < BREAKER.max_cool_down + Duration::from_secs(2),
            "calls did not return to A"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(served_by_a.meta.moved_from, None);
    assert_eq!(
        client.gateways()[0].state,
        BreakerState::Closed { recent_failures: 0 }
    );
    let again = client.chat(MODEL).user("again").send().await.unwrap();
    assert_eq!(again.meta.gateway, a.base_url());
}

#[cfg(feature = "tools")]
#[tokio::test]
async fn a_tool_loop_that_moved_at_its_first_step_stays_on_b() {
    use aimlapi::tools::{ToolLoop, ToolSpec, Toolbox};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    struct City {
        /// The city.
        city: String,
    }

    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    // A fails the first step (both attempts) and is well after it.
    a.push(Reply::status(529));
    a.push(Reply::status(529));
    b.push(Reply::tool_call("call_1", "weather", r#"{"city":"Oslo"}"#));
    b.push(Reply::tool_call(
        "call_2",
        "weather",
        r#"{"city":"Bergen"}"#,
    ));
    b.push(Reply::text("Wet in both."));
    let tools = Toolbox::new().add(
        ToolSpec::new::<City>("weather").unwrap(),
        |c: City| async move { Ok::<_, String>(format!("rain in {}", c.city)) },
    );
    let run = client
        .chat(MODEL)
        .user("Oslo or Bergen?")
        .run_tools(&tools, &ToolLoop::default())
        .await
        .unwrap();
    assert_eq!(run.steps, 3);
    assert_eq!(run.completion.text().as_deref(), Some("Wet in both."));
    assert_eq!(calls(&a), 2, "only the first step's two attempts went to A");
    assert_eq!(calls(&b), 3, "steps one (moved), two and three went to B");
    // The steps B saw carry the conversation so far, in OpenRouter's spelling of the model.
    let seen = b.requests();
    let last: serde_json::Value = seen.last().unwrap().body.clone();
    assert_eq!(last["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(last["messages"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_model_b_does_not_serve_is_not_moved_and_the_error_says_so() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    a.outage(Outage::overloaded(Duration::from_secs(5)));
    let err = client
        .chat("a-model-only-a-knows")
        .user("hi")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert!(matches!(err, Error::NotMoved { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("does not serve a-model-only-a-knows"),
        "{text}"
    );
    assert!(text.contains("openrouter"), "{text}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(529));
    assert_eq!(calls(&b), 0);
}

#[tokio::test]
async fn a_failure_the_policy_does_not_move_stays_where_it_happened() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    a.push(Reply::status(400));
    let err = client.chat(MODEL).user("hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert_eq!(calls(&b), 0);
    // Not a failure of the gateway: its breaker counted nothing.
    assert_eq!(
        client.gateways()[0].state,
        BreakerState::Closed { recent_failures: 0 }
    );
}

#[tokio::test]
async fn a_stream_whose_first_event_is_an_overload_moves_before_any_delta() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    a.outage(Outage::overloaded_in_stream(Duration::from_secs(5)));
    let stream = client.chat(MODEL).user("hi").stream().await.unwrap();
    assert_eq!(stream.meta().moved_from.as_deref(), Some(a.base_url()));
    let done = stream.completion().await.unwrap();
    assert!(done.text().is_some_and(|t| !t.is_empty()));
    assert_eq!(calls(&a), 2);
    assert_eq!(calls(&b), 1);
}

#[tokio::test]
async fn spent_credits_and_maintenance_move_too() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    a.push(Reply::status(403));
    let moved = client.chat(MODEL).user("hi").send().await.unwrap();
    assert_eq!(moved.meta.moved_from.as_deref(), Some(a.base_url()));
    a.outage(Outage::maintenance(Duration::from_secs(5)));
    let moved = client.chat(MODEL).user("hi").send().await.unwrap();
    assert_eq!(moved.meta.moved_from.as_deref(), Some(a.base_url()));
}

#[tokio::test]
async fn overloads_are_their_own_kind_and_maintenance_is_a_server_error() {
    let a = MockServer::start().await;
    let client = gateway_a(&a).build().unwrap();
    a.outage(Outage::overloaded(Duration::from_secs(5)));
    let err = client.chat(MODEL).user("hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(529));
    a.outage(Outage::overloaded_in_stream(Duration::from_secs(5)));
    let err = client.chat(MODEL).user("hi").stream().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded, "{err:?}");
    let err = client
        .chat(MODEL)
        .user("hi")
        .stream_message()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded, "{err:?}");
    a.outage(Outage::maintenance(Duration::from_secs(5)));
    let err = client.chat(MODEL).user("hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        err.http().unwrap().message.contains("under maintenance"),
        "{err}"
    );
    a.end_outage();
    client.chat(MODEL).user("hi").send().await.unwrap();
}

#[tokio::test]
async fn a_patient_policy_rides_out_an_overload_the_default_does_not() {
    let a = MockServer::start().await;
    let window = Duration::from_millis(1500);
    a.outage(Outage::overloaded(window));
    let default = gateway_a(&a)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(50),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = default.chat(MODEL).user("hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert_eq!(calls(&a), 3, "the default: two retries");

    let patient = gateway_a(&a)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(200),
            ..RetryPolicy::patient(Duration::from_secs(10))
        })
        .build()
        .unwrap();
    let done = patient.chat(MODEL).user("hi").send().await.unwrap();
    assert!(done.meta.attempts > 3, "{} attempts", done.meta.attempts);

    // Bounded by time: a window longer than the bound fails at the bound.
    a.outage(Outage::overloaded(Duration::from_secs(30)));
    let bounded = gateway_a(&a)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::patient(Duration::from_millis(800))
        })
        .build()
        .unwrap();
    let began = Instant::now();
    let err = bounded.chat(MODEL).user("hi").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Overloaded);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
}

#[tokio::test]
async fn a_fallback_with_fallbacks_of_its_own_is_a_configuration_error() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let err = gateway_a(&a)
        .fallback(gateway_b(&b).fallback(gateway_a(&a)))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let client = two_gateways(&a, &b);
    let health = client.gateways();
    assert_eq!(health.len(), 2);
    assert_eq!(health[0].name, "aimlapi");
    assert_eq!(health[1].name, "openrouter");
    // The key never shows in the client's Debug output.
    let debug = format!("{client:?}");
    assert!(!debug.contains(KEY_A) && !debug.contains(KEY_B), "{debug}");
}

/// The text a stream gave before it ended, and how it ended.
async fn read_text(mut stream: aimlapi::ChatStream) -> (String, Option<Error>) {
    use futures::StreamExt;
    let mut text = String::new();
    while let Some(delta) = stream.next().await {
        match delta {
            Ok(aimlapi::chat::StreamDelta::Text(t)) => text.push_str(&t),
            Ok(_) => {}
            Err(e) => return (text, Some(e)),
        }
    }
    (text, None)
}

#[tokio::test]
async fn a_stream_cut_after_three_deltas_goes_on_at_b_from_its_text_so_far() {
    use aimlapi_mock::Fault;
    const WHOLE: &str = "The quick brown fox jumps over the lazy dog.";
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    // What A gives before the cut: read once through A alone.
    a.push(Reply::text(WHOLE).fault(Fault::DropAfter(3)));
    let alone = gateway_a(&a).build().unwrap();
    let (before_cut, error) = read_text(alone.chat(MODEL).user("hi").stream().await.unwrap()).await;
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::UnexpectedEnd));
    assert!(!before_cut.is_empty() && WHOLE.starts_with(&before_cut) && before_cut != WHOLE);

    let client = two_gateways(&a, &b);
    for folded in [false, true] {
        a.push(Reply::text(WHOLE).fault(Fault::DropAfter(3)));
        // B is asked for the rest, after the prefill (its trailing space cut, as a prefill
        // may not end in white space): it answers with the rest, starting with that space.
        let prefill = before_cut.trim_end();
        b.push(Reply::text(&WHOLE[prefill.len()..]));
        let stream = client.chat(MODEL).user("hi").stream().await.unwrap();
        let text = match folded {
            false => {
                let (text, error) = read_text(stream).await;
                assert!(error.is_none(), "{error:?}");
                text
            }
            true => {
                let done = stream.completion().await.unwrap();
                assert_eq!(done.meta.moved_from.as_deref(), Some(a.base_url()));
                done.text().unwrap().to_string()
            }
        };
        assert_eq!(
            text, WHOLE,
            "folded {folded}: every piece once, none missing"
        );
        let seen = b.requests();
        let asked = &seen.last().unwrap().body;
        let messages = asked["messages"].as_array().unwrap();
        let last = messages.last().unwrap();
        assert_eq!(last["role"], "assistant", "{asked}");
        let prefilled = last["content"]
            .as_str()
            .map(str::to_string)
            .or_else(|| last["content"][0]["text"].as_str().map(str::to_string));
        assert_eq!(prefilled.as_deref(), Some(prefill), "{asked}");
    }
}

#[tokio::test]
async fn a_stream_with_thinking_is_not_continued_and_ends_with_its_error() {
    use aimlapi_mock::Fault;
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    let client = two_gateways(&a, &b);
    a.push(Reply::text("Some words that will be cut.").fault(Fault::DropAfter(3)));
    let stream = client
        .chat(MODEL)
        .user("hi")
        .max_tokens(4000)
        .thinking(2048)
        .stream()
        .await
        .unwrap();
    let (_, error) = read_text(stream).await;
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::UnexpectedEnd));
    assert_eq!(calls(&b), 0);
}

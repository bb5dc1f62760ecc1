//! Cassettes end to end: a service's calls recorded through the mock as a proxy in front of a
//! stand-in gateway (another mock, its key required), then replayed with the gateway gone; the
//! client reads the same answers, streams chunk for chunk, with the recorded timing when asked;
//! no key in the files; a request no cassette holds named with its closest; drift.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_mock::{Cassettes, DriftKind, MockServer, Mode, Outage, Reply};
use futures::StreamExt;

/// The stand-in gateway's key: long enough to be traced wherever it could be echoed.
const KEY: &str = "sk-live-7f3a9c2e41b8d6057e1f";
/// A cookie the service sends, and a body field it names as secret.
const COOKIE: &str = "session=c00k1e-v4lue-do-not-keep";
const USER: &str = "customer-4711-private";

/// A folder of its own under the system's temporary one, emptied first.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aimlapi-cassettes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn client(base: &str, provider: Provider, key: &str) -> Client {
    Client::builder()
        .provider(provider)
        .base_url(base)
        .api_key(key)
        .default_header(
            aimlapi::reqwest::header::HeaderName::from_static("cookie"),
            aimlapi::reqwest::header::HeaderValue::from_static(COOKIE),
        )
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn error(e: &aimlapi::Error) -> String {
    let http = e.http();
    format!(
        "error {:?} status {:?} retry-after {:?} message {:?}",
        e.kind(),
        e.status(),
        http.and_then(|h| h.retry_after),
        http.map(|h| h.message.clone()),
    )
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// What a service does, written down as it reads it: calls and streams of both endpoints,
/// a 429 and its retry, a stream that is overloaded inside, a batch, the account, the
/// catalogue, OpenRouter, and a refused key. `gateway` is the stand-in, to script (absent on
/// replay, where nothing is scripted: the answers come from the cassette).
async fn service(base: &str, gateway: Option<&MockServer>) -> (Vec<String>, Duration) {
    let aiml = client(base, Provider::AimlApi, KEY);
    let mut seen = Vec::new();
    let script = |reply: Reply| {
        if let Some(g) = gateway {
            g.push(reply)
        }
    };

    // A chat call, then a chat stream (the documented transcript, paced by the gateway).
    script(Reply::text("Paris.").usage(9, 2));
    let done = aiml
        .chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .user_id(USER)
        .send()
        .await
        .unwrap();
    seen.push(format!("chat {}", json(&done.value)));
    let started = Instant::now();
    let mut stream = aiml
        .chat("anthropic/claude-3-5-haiku")
        .user("Hi")
        .stream()
        .await
        .unwrap();
    while let Some(item) = stream.next().await {
        seen.push(format!(
            "chat chunk {:?}",
            item.map(|i| format!("{i:?}")).map_err(|e| error(&e))
        ));
    }
    let streamed = started.elapsed();

    // The Messages endpoint: a message, then a stream with thinking.
    script(Reply::text("Bonjour.").usage(5, 3));
    let done = aiml
        .chat("anthropic/claude-sonnet-5")
        .user("Greet me")
        .user_id(USER)
        .max_tokens(100)
        .send_message()
        .await
        .unwrap();
    seen.push(format!("message {}", json(&done.value)));
    script(
        Reply::text("No: 1001 = 7 x 11 x 13.")
            .thinking("Try 7.", "sig-1")
            .usage(12, 30),
    );
    let mut events = aiml
        .chat("anthropic/claude-sonnet-5")
        .user("Is 1001 a prime?")
        .max_tokens(4000)
        .thinking(2048)
        .stream_message()
        .await
        .unwrap();
    while let Some(event) = events.next().await {
        seen.push(format!(
            "event {:?}",
            event.map(|e| json(&e)).map_err(|e| error(&e))
        ));
    }

    // A 429 with retry-after, then the retry's answer.
    script(
        Reply::status(429)
            .header("retry-after", "1")
            .body(r#"{"error":{"message":"slow down"}}"#),
    );
    script(Reply::text("After the wait.").usage(4, 4));
    let done = aiml
        .chat("claude-sonnet-4-5")
        .user("Again?")
        .send()
        .await
        .unwrap();
    seen.push(format!("after 429 {}", json(&done.value)));

    // A stream whose first event is a 529 overload, three attempts in a row.
    if let Some(g) = gateway {
        g.outage(Outage::overloaded_in_stream(Duration::from_secs(60)));
    }
    let outcome = match aiml
        .chat("anthropic/claude-sonnet-5")
        .user("Busy?")
        .max_tokens(50)
        .stream_message()
        .await
    {
        Ok(mut events) => {
            let mut out = Vec::new();
            while let Some(event) = events.next().await {
                out.push(format!(
                    "{:?}",
                    event.map(|e| json(&e)).map_err(|e| error(&e))
                ));
            }
            out.join("; ")
        }
        Err(e) => error(&e),
    };
    seen.push(format!("overloaded stream {outcome}"));
    if let Some(g) = gateway {
        g.end_outage();
    }

    // A batch of two: made, polled until it ends, read.
    let mut batch = aiml.batch();
    for (id, q) in [("q-1", "One?"), ("q-2", "Two?")] {
        batch = batch.request(
            id,
            aiml.chat("anthropic/claude-sonnet-5")
                .user(q)
                .max_tokens(20),
        );
    }
    let batch = batch.submit().await.unwrap();
    let wait = aimlapi::batch::Wait::new()
        .interval(Duration::from_millis(60), Duration::from_millis(60))
        .deadline(Duration::from_secs(20));
    let ended = batch.wait(wait, |_| {}).await.unwrap();
    seen.push(format!("batch ended {:?} {:?}", ended.state, ended.counts));
    let mut results: Vec<String> = batch
        .results()
        .map(|item| {
            let (id, answer) = item.unwrap();
            format!(
                "{id} {:?}",
                answer.map(|a| json(&a.value)).map_err(|e| format!("{e:?}"))
            )
        })
        .collect()
        .await;
    results.sort();
    seen.extend(results);

    // The account, the catalogue.
    let account = aiml.account();
    seen.push(format!("key {}", json(&account.key().await.unwrap())));
    seen.push(format!(
        "balance {}",
        json(&account.balance().await.unwrap())
    ));
    let catalogue = aiml.models().send().await.unwrap();
    seen.push(format!("catalogue {}", json(&catalogue.models())));

    // OpenRouter's route, and a key the gateway refuses.
    script(Reply::text("Via OpenRouter.").usage(3, 3));
    let router = client(&format!("{base}/api"), Provider::open_router(), KEY);
    let done = router
        .chat("anthropic/claude-3-5-haiku")
        .user("Route me")
        .send()
        .await
        .unwrap();
    seen.push(format!("openrouter {}", json(&done.value)));
    let refused = client(base, Provider::AimlApi, "sk-wrong-0000000000000000");
    let e = refused
        .chat("claude-sonnet-4-5")
        .user("Let me in")
        .send()
        .await
        .unwrap_err();
    seen.push(format!("refused {}", error(&e)));
    (seen, streamed)
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn exchanges(dir: &Path) -> usize {
    files(dir)
        .iter()
        .map(|(_, text)| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            v["interactions"].as_array().unwrap().len()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_recorded_once_replays_offline_as_it_was() {
    let dir = folder("service");
    let gateway = MockServer::builder()
        .api_key(KEY)
        .pace(Duration::from_millis(15))
        .batch_delay(Duration::from_millis(250))
        .charge_delay(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let recorder = MockServer::builder()
        .cassettes(
            Cassettes::new(&dir)
                .mode(Mode::RecordAll)
                .upstream(gateway.base_url())
                .filter_field("user")
                .filter_field("user_id"),
        )
        .start()
        .await
        .unwrap();
    let (recorded, recorded_stream) = service(recorder.base_url(), Some(&gateway)).await;
    recorder.settle().await;
    drop(recorder);
    drop(gateway);

    // The cassette is named after this test, and holds every exchange.
    let written = files(&dir);
    assert_eq!(
        written.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["cassettes.a_service_recorded_once_replays_offline_as_it_was.json"]
    );
    let n = exchanges(&dir);
    assert!(n >= 20, "{n} exchanges recorded");
    let text = &written[0].1;
    for (what, secret) in [
        ("the key", KEY),
        ("the refused key", "sk-wrong-0000000000000000"),
        ("the cookie", "c00k1e-v4lue"),
        ("the user", USER),
    ] {
        assert!(!text.contains(secret), "{what} is in the cassette");
    }
    for wanted in [
        "\"status\": 429",
        "retry-after",
        "overloaded_error",
        "\"chunks\"",
        "/api/v1/chat/completions",
        "/v1/batches",
        "/v2/billing",
    ] {
        assert!(text.contains(wanted), "the cassette has no {wanted}");
    }

    // Nothing in what the stand-in sent is new to the bundled documents.
    let drift = aimlapi_mock::drift(&dir).unwrap();
    assert!(
        drift.is_empty(),
        "{}",
        drift
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The gateway is gone: the replay answers alone, as fast as it can.
    let replaying = MockServer::replay(&dir).await.unwrap();
    let (replayed, _) = service(replaying.base_url(), None).await;
    assert_eq!(replaying.cassette_misses(), Vec::<String>::new());
    assert_eq!(recorded.len(), replayed.len());
    for (a, b) in recorded.iter().zip(&replayed) {
        assert_eq!(a, b);
    }
    drop(replaying);

    // With the recorded timing, the paced stream takes as long as it did (within 10 %).
    let timed = MockServer::builder()
        .cassettes(Cassettes::new(&dir).timing(true))
        .start()
        .await
        .unwrap();
    let (again, timed_stream) = service(timed.base_url(), None).await;
    assert_eq!(again, recorded);
    let ratio = timed_stream.as_secs_f64() / recorded_stream.as_secs_f64();
    assert!(
        (0.9..=1.1).contains(&ratio),
        "recorded {recorded_stream:?}, replayed {timed_stream:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A stand-in gateway and a recorder in front of it, writing cassettes into `dir`.
async fn recording(dir: &Path, mode: Mode) -> (MockServer, MockServer) {
    let gateway = MockServer::builder().api_key(KEY).start().await.unwrap();
    let recorder = MockServer::builder()
        .cassettes(Cassettes::new(dir).mode(mode).upstream(gateway.base_url()))
        .start()
        .await
        .unwrap();
    (gateway, recorder)
}

#[tokio::test]
async fn an_unrecorded_request_is_told_the_closest_exchange_and_where_it_differs() {
    let dir = folder("miss");
    let (gateway, recorder) = recording(&dir, Mode::RecordAll).await;
    let aiml = client(recorder.base_url(), Provider::AimlApi, KEY);
    gateway.push(Reply::text("Paris."));
    aiml.chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .send()
        .await
        .unwrap();
    aiml.chat("claude-sonnet-4-5")
        .user("Capital of Italy?")
        .temperature(0.5)
        .send()
        .await
        .unwrap();
    drop((gateway, recorder));

    let replaying = MockServer::replay(&dir).await.unwrap();
    let aiml = client(replaying.base_url(), Provider::AimlApi, KEY);
    let e = aiml
        .chat("claude-sonnet-4-5")
        .user("Capital of Spain?")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404), "{e}");
    let message = e.http().unwrap().message.clone();
    let name = "cassettes.an_unrecorded_request_is_told_the_closest_exchange_and_where_it_differs";
    assert!(
        message.contains(&format!("closest: cassette `{name}` exchange 0")),
        "{message}"
    );
    assert!(
        message.contains(
            r#"body /messages/0/content: recorded "Capital of France?", sent "Capital of Spain?""#
        ),
        "{message}"
    );
    assert_eq!(replaying.cassette_misses(), [message]);
    // What was recorded still answers, once each.
    aiml.chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .send()
        .await
        .unwrap();
    let e = aiml
        .chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .send()
        .await
        .unwrap_err();
    assert!(e.http().unwrap().message.contains("played already"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A client whose requests name their cassette with the header.
fn client_naming_its_cassette(base: &str) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(base)
        .api_key(KEY)
        .default_header(
            aimlapi::reqwest::header::HeaderName::from_static(aimlapi_mock::CASSETTE_HEADER),
            aimlapi::reqwest::header::HeaderValue::from_static("checkout/answers"),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn record_missing_answers_what_it_holds_and_records_the_rest_under_the_header_s_name() {
    let dir = folder("missing");
    let (gateway, recorder) = recording(&dir, Mode::RecordMissing).await;
    let named = client_naming_its_cassette(recorder.base_url());
    named
        .chat("claude-sonnet-4-5")
        .user("One")
        .send()
        .await
        .unwrap();
    assert_eq!(gateway.requests().len(), 1);
    assert!(gateway.requests()[0]
        .header(aimlapi_mock::CASSETTE_HEADER)
        .is_none());
    drop(recorder);

    // A second server in the same mode: "One" from the file, "Two" from the gateway.
    let recorder = MockServer::builder()
        .cassettes(
            Cassettes::new(&dir)
                .mode(Mode::RecordMissing)
                .upstream(gateway.base_url()),
        )
        .start()
        .await
        .unwrap();
    let named = client_naming_its_cassette(recorder.base_url());
    named
        .chat("claude-sonnet-4-5")
        .user("One")
        .send()
        .await
        .unwrap();
    named
        .chat("claude-sonnet-4-5")
        .user("Two")
        .send()
        .await
        .unwrap();
    assert_eq!(gateway.requests().len(), 2);
    recorder.settle().await;
    let names: Vec<String> = files(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["checkout_answers.json"]);
    assert_eq!(exchanges(&dir), 2);
    assert!(!files(&dir)[0].1.contains("x-cassette"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn drift_reports_a_new_field_and_a_new_block_type_with_their_routes() {
    let dir = folder("drift");
    let (gateway, recorder) = recording(&dir, Mode::RecordAll).await;
    let aiml = client(recorder.base_url(), Provider::AimlApi, KEY);
    gateway.push(Reply::text("Bonjour."));
    aiml.chat("anthropic/claude-sonnet-5")
        .user("Greet me")
        .max_tokens(100)
        .send_message()
        .await
        .unwrap();
    let mut stream = aiml
        .chat("anthropic/claude-3-5-haiku")
        .user("Hi")
        .stream()
        .await
        .unwrap();
    while stream.next().await.is_some() {}
    recorder.settle().await;
    drop((gateway, recorder));
    assert_eq!(aimlapi_mock::drift(&dir).unwrap(), []);

    // The gateway starts sending a field, a block type and a value of an open enum the
    // documents do not name, and a field inside a stream's delta.
    let (name, text) = files(&dir).remove(0);
    let mut cassette: serde_json::Value = serde_json::from_str(&text).unwrap();
    let message = &mut cassette["interactions"][0]["response"]["body"]["json"];
    message["served_by"] = "edge-7".into();
    message["content"][0]["type"] = "hologram".into();
    message["type"] = "message_v2".into();
    let chunk = &mut cassette["interactions"][1]["response"]["chunks"][1]["text"];
    *chunk = chunk
        .as_str()
        .unwrap()
        .replacen(r#""delta":{"#, r#""delta":{"sparkle":true,"#, 1)
        .into();
    std::fs::write(
        dir.join(&name),
        serde_json::to_string_pretty(&cassette).unwrap(),
    )
    .unwrap();

    let found = aimlapi_mock::drift(&dir).unwrap();
    let shown: Vec<String> = found
        .iter()
        .map(|d| format!("{} | {:?} | {} | {:?}", d.route, d.kind, d.at, d.value))
        .collect();
    assert_eq!(
        shown,
        [
            "POST /v1/chat/completions (stream) | Field | choices[].delta.sparkle | None",
            "POST /v1/messages | Field | served_by | None",
            "POST /v1/messages | EnumValue | type | Some(\"message_v2\")",
            "POST /v1/messages | Type | content[] | Some(\"hologram\")",
        ],
        "{found:#?}"
    );
    assert!(found
        .iter()
        .all(|d| d.cassette == name.trim_end_matches(".json")));
    assert_eq!(found[1].kind, DriftKind::Field);
    let _ = std::fs::remove_dir_all(&dir);
}

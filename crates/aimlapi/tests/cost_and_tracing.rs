//! What a call cost (the vendor's figure first, the estimate marked as one), the client's running
//! total, and the `X-Client-Request-Id` every request carries; OpenRouter's fallbacks and
//! `reasoning` in the body.

use aimlapi::chat::ReasoningSettings;
use aimlapi::cost::CostSource;
use aimlapi::types::{ChatCompletion, ReasoningEffort};
use aimlapi::{Client, Completion, ErrorKind, Provider, RequestOptions};
use aimlapi_mock::{MockServer, Reply};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;

mod common;
use common::assert_valid_against;

/// A chat answer of the newer pages, with `meta.usage` (`usd_spent: 0.000946`) and usage
/// (`tests/fixtures/pages/new-claude-3-haiku.response-1.json`).
const WITH_META: &str =
    include_str!("../../../tests/fixtures/pages/new-claude-3-haiku.response-1.json");

fn client(mock: &MockServer, provider: Provider) -> Client {
    common::test_client(provider, mock.base_url())
}

async fn ask(client: &Client, model: &str) -> Completion<ChatCompletion> {
    client.chat(model).user("Hi").send().await.unwrap()
}

fn without(body: &str, field: &str) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    v.as_object_mut().unwrap().remove(field);
    v.to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn cost_prefers_the_vendor_s_figure_and_marks_the_estimate() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let model = "claude-3-5-haiku-latest"; // a model whose prices this crate knows

    // `meta.usage.usd_spent` in the body, even beside a header with another figure.
    mock.push(
        Reply::status(200)
            .body(WITH_META)
            .header("x-aimlapi-usd-spent", "0.5"),
    );
    let cost = ask(&aiml, model).await.cost().unwrap();
    assert_eq!(cost.source, CostSource::Body);
    assert!(close(cost.usd, 0.000946), "{cost:?}");

    // Only the header.
    mock.push(
        Reply::status(200)
            .body(without(WITH_META, "meta"))
            .header("x-aimlapi-usd-spent", "0.001240000"),
    );
    let cost = ask(&aiml, model).await.cost().unwrap();
    assert_eq!(cost.source, CostSource::Header);
    assert!(close(cost.usd, 0.00124), "{cost:?}");

    // Neither: the estimate from usage (256 in, 192 of them cached; 343 out), marked as one.
    mock.push(Reply::status(200).body(without(WITH_META, "meta")));
    let done = ask(&aiml, model).await;
    let cost = done.cost().unwrap();
    assert!(cost.is_estimate(), "{cost:?}");
    let expected = (64.0 * 0.8 + 192.0 * 0.08 + 343.0 * 4.0) / 1e6;
    assert!(close(cost.usd, expected), "{cost:?}");
    assert_eq!(done.estimated_cost(), Some(cost.usd));

    // A model this crate has no prices for, and no figure: no cost at all (a proxy's own id;
    // the mock does not check ids here).
    let proxy = MockServer::builder().validate(false).start().await.unwrap();
    proxy.push(Reply::status(200).body(without(WITH_META, "meta")));
    let done = ask(&client(&proxy, Provider::AimlApi), "claude-unknown-9").await;
    assert_eq!(done.cost(), None);

    // The running total: every figure above, once.
    let total = 0.000946 + 0.00124 + expected;
    assert!(close(aiml.spent(), total), "{} != {total}", aiml.spent());
}

#[tokio::test]
async fn openrouter_s_usage_cost_is_its_figure() {
    let mock = MockServer::start().await;
    let or = common::openrouter_client(mock.base_url());
    let mut body: Value = serde_json::from_str(&without(WITH_META, "meta")).unwrap();
    body["usage"]["cost"] = json!(0.00042);
    body["usage"]["cost_details"] = json!({"upstream_inference_cost": null});
    mock.push(Reply::status(200).body(body.to_string()));
    let done = or
        .chat("anthropic/claude-3.5-haiku")
        .user("Hi")
        .send()
        .await
        .unwrap();
    let cost = done.cost().unwrap();
    assert_eq!(cost.source, CostSource::OpenRouterUsage);
    assert!(close(cost.usd, 0.00042), "{cost:?}");
    assert_eq!(done.usage().unwrap().cache_read_tokens, 192);
}

#[tokio::test]
async fn every_request_carries_a_client_request_id() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    // Made up when the caller gives none: one per call, the same on the wire and in the meta.
    let a = ask(&aiml, "claude-sonnet-4-5").await;
    let b = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream()
        .await
        .unwrap();
    let ids: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.header("x-client-request-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert_eq!(a.meta.client_request_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(b.meta().client_request_id.as_deref(), Some(ids[1].as_str()));
    assert!(ids[0].starts_with("aimlapi-"), "{}", ids[0]);
    drop(b);

    // The caller's own, through the conversation API and through the typed path's options.
    let done = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .client_request_id("order-8f21c4")
        .send_message()
        .await
        .unwrap();
    assert_eq!(done.meta.client_request_id.as_deref(), Some("order-8f21c4"));
    assert_eq!(
        mock.requests()
            .last()
            .unwrap()
            .header("x-client-request-id"),
        Some("order-8f21c4")
    );
    let request: aimlapi::types::ChatCompletionRequest =
        serde_json::from_value(json!({"model": "claude-3-5-haiku-latest",
            "messages": [{"role": "user", "content": "Hi"}]}))
        .unwrap();
    let mut options = RequestOptions::default();
    options.headers.insert(
        HeaderName::from_static("x-client-request-id"),
        HeaderValue::from_static("job:42.a_b"),
    );
    aiml.chat_completion_with(&request, &options).await.unwrap();
    assert_eq!(
        mock.requests()
            .last()
            .unwrap()
            .header("x-client-request-id"),
        Some("job:42.a_b")
    );

    // One the API would drop is refused before sending, with a clear error.
    let sent = mock.requests().len();
    for bad in ["order 1", "ordér", &"x".repeat(129), ""] {
        let err = aiml
            .chat("claude-sonnet-4-5")
            .user("Hi")
            .client_request_id(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad:?}: {err}");
        assert!(err.to_string().contains("X-Client-Request-Id"), "{err}");
    }
    options.headers.insert(
        HeaderName::from_static("x-client-request-id"),
        HeaderValue::from_static("has space"),
    );
    let err = aiml
        .chat_completion_with(&request, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(mock.requests().len(), sent, "nothing was sent");

    // An HTTP error keeps the id its request carried.
    mock.push(Reply::status(429));
    let err = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .client_request_id("retry-me")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.http().unwrap().client_request_id.as_deref(),
        Some("retry-me")
    );
}

#[tokio::test]
async fn openrouter_fallbacks_and_reasoning_go_in_its_body() {
    let mock = MockServer::start().await;
    let or = common::openrouter_client(mock.base_url());
    let done = or
        .chat("anthropic/claude-3.5-haiku")
        .user("Hi")
        .fallback_models(["anthropic/claude-3.5-haiku", "openai/gpt-4o-mini"])
        .reasoning(ReasoningSettings::effort(ReasoningEffort::High))
        .send()
        .await
        .unwrap();
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(
        body["models"],
        json!(["anthropic/claude-3.5-haiku", "openai/gpt-4o-mini"])
    );
    assert_eq!(body["reasoning"], json!({"effort": "high"}));
    assert_valid_against("openrouter-claude-3-5-haiku", &body);
    assert!(done.model().is_some());

    let body = or
        .chat("anthropic/claude-3.5-haiku")
        .user("Hi")
        .reasoning(ReasoningSettings::max_tokens(2000).exclude())
        .body()
        .unwrap();
    assert_eq!(
        body["reasoning"],
        json!({"max_tokens": 2000, "exclude": true})
    );
    assert_valid_against("openrouter-claude-3-5-haiku", &body);

    // The AI/ML API's Sonnet 4.5 page takes neither.
    let aiml = client(&mock, Provider::AimlApi);
    let err = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .fallback_models(["claude-haiku-4-5"])
        .body()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.to_string().contains("`models`"), "{err}");
}

#[tokio::test]
async fn a_folded_stream_s_cost_is_its_final_chunk_s_meta() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    mock.push(Reply::text("Four.").usage(12, 3));
    let stream = aiml
        .chat("claude-sonnet-4-5")
        .user("2 + 2?")
        .stream()
        .await
        .unwrap();
    assert_eq!(stream.meta().usd_spent, None, "no cost header on a stream");
    let done = stream.completion().await.unwrap();
    let meta = done
        .value
        .meta
        .as_ref()
        .expect("the final chunk's meta, folded");
    let spent = meta.usage.as_ref().unwrap().usd_spent.unwrap();
    let cost = done.cost().unwrap();
    assert_eq!(cost.source, CostSource::Body);
    assert!(close(cost.usd, spent), "{cost:?}");
    assert!(close(aiml.spent(), spent));

    // Without a figure (the mock leaves it out), the folded stream's cost is the estimate.
    mock.push(Reply::text("Four.").usage(12, 3).without_cost());
    let done = aiml
        .chat("claude-3-5-haiku-latest")
        .user("2 + 2?")
        .stream()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap();
    let cost = done.cost().unwrap();
    assert!(cost.is_estimate(), "{cost:?}");
    assert!(close(cost.usd, (12.0 * 0.8 + 3.0 * 4.0) / 1e6), "{cost:?}");
}

#[tokio::test]
async fn openrouter_takes_cache_control_on_text_and_reads_reasoning_details() {
    use aimlapi::chat::Cache;
    let mock = MockServer::start().await;
    let or = common::openrouter_client(mock.base_url());
    let body = or
        .chat("anthropic/claude-3.5-haiku")
        .system("A long handbook.")
        .cache(Cache::FiveMinutes)
        .user("Chapter 2?")
        .cache(Cache::OneHour)
        .body()
        .unwrap();
    let marked = |text: &str, ttl: &str| json!([{"type": "text", "text": text, "cache_control": {"type": "ephemeral", "ttl": ttl}}]);
    assert_eq!(
        body["messages"][0]["content"],
        marked("A long handbook.", "5m")
    );
    assert_eq!(body["messages"][1]["content"], marked("Chapter 2?", "1h"));
    assert_valid_against("openrouter-claude-3-5-haiku", &body);

    // An answer whose reasoning is only in `reasoning_details`.
    let mut answer: Value = serde_json::from_str(&without(WITH_META, "meta")).unwrap();
    let message = answer["choices"][0]["message"].as_object_mut().unwrap();
    message.remove("reasoning");
    message.remove("reasoning_content");
    message.insert(
        "reasoning_details".into(),
        json!([{"type": "reasoning.text", "text": "First, ", "index": 0},
               {"type": "reasoning.summary", "summary": "then sum up.", "index": 1},
               {"type": "reasoning.encrypted", "data": "opaque", "index": 2}]),
    );
    mock.push(Reply::status(200).body(answer.to_string()));
    let done = or
        .chat("anthropic/claude-3.5-haiku")
        .user("Hi")
        .send()
        .await
        .unwrap();
    assert_eq!(done.reasoning().as_deref(), Some("First, then sum up."));
}

#[tokio::test]
async fn a_folded_messages_stream_is_a_completion_with_a_cost() {
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    mock.push(Reply::text("Four.").usage(12, 3));
    let done = aiml
        .chat("claude-3-5-haiku-latest")
        .user("2 + 2?")
        .max_tokens(100)
        .stream_message()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap();
    assert_eq!(done.text().as_deref(), Some("Four."));
    assert!(done.meta.client_request_id.is_some());
    let cost = done.cost().unwrap();
    assert!(cost.is_estimate(), "{cost:?}");
    let expected = (12.0 * 0.8 + 3.0 * 4.0) / 1e6;
    assert!(close(cost.usd, expected), "{cost:?}");
    assert!(close(aiml.spent(), expected), "{}", aiml.spent());
}

/// What `client.spent()` grows by while `read` runs.
async fn spent_by<F: std::future::Future<Output = ()>>(client: &Client, read: F) -> f64 {
    let before = client.spent();
    read.await;
    client.spent() - before
}

#[tokio::test]
async fn a_stream_read_item_by_item_counts_as_the_same_stream_folded() {
    use futures::StreamExt;
    let mock = MockServer::start().await;
    let aiml = client(&mock, Provider::AimlApi);
    let or = common::openrouter_client(mock.base_url());
    // With a span subscriber and without: the call's record and the plain tally agree.
    for traced in [false, true] {
        let _guard = traced.then(|| {
            tracing::subscriber::set_default(
                tracing_subscriber::registry()
                    .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)),
            )
        });
        for (client, model, messages) in [
            (&aiml, "claude-3-5-haiku-latest", false),
            (&aiml, "claude-3-5-haiku-latest", true),
            (&or, "anthropic/claude-3.5-haiku", false),
        ] {
            for reply in [
                Reply::text("Four.").usage(12, 3),
                Reply::text("Four.").usage(12, 3).without_cost(),
            ] {
                let chat = || client.chat(model).user("2 + 2?").max_tokens(100);
                mock.push(reply.clone());
                let folded = spent_by(client, async {
                    match messages {
                        true => drop(
                            chat()
                                .stream_message()
                                .await
                                .unwrap()
                                .completion()
                                .await
                                .unwrap(),
                        ),
                        false => drop(chat().stream().await.unwrap().completion().await.unwrap()),
                    }
                })
                .await;
                mock.push(reply);
                let by_item = spent_by(client, async {
                    match messages {
                        true => {
                            let mut s = chat().stream_message().await.unwrap();
                            while let Some(e) = s.next().await {
                                e.unwrap();
                            }
                        }
                        false => {
                            let mut s = chat().stream().await.unwrap();
                            while let Some(d) = s.next().await {
                                d.unwrap();
                            }
                        }
                    }
                })
                .await;
                let case = format!("{model}, messages {messages}, traced {traced}");
                assert!(folded > 0.0, "{case}: nothing counted");
                assert!(
                    close(folded, by_item),
                    "{case}: {folded} folded, {by_item} item by item"
                );
            }
        }
    }
    // A stream dropped before its end counts nothing (its usage never came).
    mock.push(Reply::text("Four.").usage(12, 3));
    let dropped = spent_by(&aiml, async {
        let mut s = aiml
            .chat("claude-sonnet-4-5")
            .user("hi")
            .stream()
            .await
            .unwrap();
        let _first = s.next().await;
    })
    .await;
    assert_eq!(dropped, 0.0);
}

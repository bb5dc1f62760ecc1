//! Message batches against the mock: the body a batch goes out as, its results in every answer
//! form the status route may give, waiting (progress, deadline, `Retry-After`, dropping),
//! resuming by a kept handle, cancels, the checks before sending, and splitting.

use std::time::{Duration, Instant};

use aimlapi::batch::BatchHandle;
use aimlapi::batch::{BatchError, BatchLimits, BatchState, Wait};
use aimlapi::catalogue::Section;
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::{BatchForm, BatchOutcome, MockServer, Reply};
use futures::StreamExt;
use serde_json::{json, Value};

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn mock(delay: Duration, form: BatchForm) -> MockServer {
    MockServer::builder()
        .batch_delay(delay)
        .batch_form(form)
        .start()
        .await
        .unwrap()
}

fn fast() -> Wait {
    Wait::new()
        .interval(Duration::from_millis(20), Duration::from_millis(50))
        .deadline(Duration::from_secs(10))
}

/// Three requests to three models, one of them known only by a chat page's dated id.
fn three(c: &Client) -> aimlapi::batch::BatchBuilder {
    c.batch()
        .request(
            "test-01",
            c.chat("claude-sonnet-4-20250514")
                .user("How to learn nestjs?")
                .max_tokens(1024),
        )
        .request(
            "test-02",
            c.chat("claude-sonnet-4-5-20250929")
                .user("How to learn Reactjs?")
                .max_tokens(1024),
        )
        .request(
            "test-03",
            c.chat("claude-3-5-haiku-latest")
                .system("Be brief.")
                .user("Name a prime.")
                .max_tokens(64)
                .temperature(0.2),
        )
}

#[tokio::test]
async fn three_requests_go_out_as_the_documented_body_and_validate() {
    let mock = mock(Duration::from_millis(50), BatchForm::Array).await;
    let c = client(&mock);
    let batch = three(&c).submit().await.unwrap();
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("POST", "/v1/batches")
    );
    // The first two are the vendor's documented example, byte for byte in meaning.
    let user = |text: &str| json!([{"role": "user", "content": text}]);
    let want = json!({"requests": [
        {"custom_id": "test-01", "params": {"model": "claude-sonnet-4-20250514",
            "max_tokens": 1024, "messages": user("How to learn nestjs?")}},
        {"custom_id": "test-02", "params": {"model": "claude-sonnet-4-5-20250929",
            "max_tokens": 1024, "messages": user("How to learn Reactjs?")}},
        {"custom_id": "test-03", "params": {"model": "claude-3-5-haiku-latest",
            "max_tokens": 64, "temperature": 0.2, "system": "Be brief.",
            "messages": user("Name a prime.")}},
    ]});
    assert_eq!(sent[0].body, want);
    // The same body the builder shows, valid against our batch document's request schema.
    assert_eq!(three(&c).body().unwrap(), want);
    let (_, schema) = aimlapi::types::REQUEST_SCHEMAS
        .iter()
        .find(|(stem, _)| *stem == "aimlapi-batches")
        .expect("the batch document's request schema");
    let schema: Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let problems: Vec<String> = validator
        .iter_errors(&want)
        .map(|e| e.to_string())
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(!validator.is_valid(&json!({"requests": []})));
    assert!(!validator.is_valid(&json!({"requests": [{"custom_id": "a", "params": {}}]})));
    assert_eq!(batch.ids().len(), 1);
    assert!(batch.ids()[0].starts_with("msgbatch_"));
}

/// Each answer form gives the same typed results, errored and expired ones beside the rest,
/// each answer with its usage and a cost at half the standard price.
#[tokio::test]
async fn results_come_back_typed_in_every_answer_form() {
    for form in [BatchForm::Array, BatchForm::Lines, BatchForm::Bare] {
        let mock = mock(Duration::from_millis(100), form).await;
        let c = client(&mock);
        // The catalogue's prices give the client facts for every model.
        c.models().include(Section::Pricing).send().await.unwrap();
        mock.script_batch(
            "test-01",
            BatchOutcome::Reply(Reply::text("Start with the docs.").usage(13, 400)),
        );
        mock.script_batch(
            "test-02",
            BatchOutcome::Reply(Reply::status(529).body("Overloaded")),
        );
        mock.script_batch("test-03", BatchOutcome::Expired);
        let batch = three(&c).submit().await.unwrap();
        let early = batch.results().next().await.unwrap().unwrap_err();
        assert!(
            early.to_string().contains("no results yet"),
            "{form:?}: {early}"
        );
        let status = batch.wait(fast(), |_| {}).await.unwrap();
        assert_eq!(status.state, BatchState::Ended, "{form:?}");
        // The wait stopped reading at the first result, as the status does; `counts` reads
        // them all.
        assert_eq!(status.counts, None);
        assert_eq!(batch.status().await.unwrap().counts, None);
        let counts = batch.counts().await.unwrap();
        assert_eq!(
            (counts.succeeded, counts.errored, counts.expired),
            (1, 1, 1)
        );
        let results = batch.results().collect_map().await.unwrap();
        assert_eq!(results.len(), 3, "{form:?}");
        let done = results["test-01"].as_ref().unwrap();
        assert_eq!(done.text().as_deref(), Some("Start with the docs."));
        assert_eq!(done.model(), Some("claude-sonnet-4-20250514"));
        let usage = done.usage().unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (13, 400));
        let tier = done.value.usage.as_ref().unwrap().service_tier.as_deref();
        assert_eq!(tier, Some("batch"));
        let cost = done.cost().unwrap();
        assert!(cost.is_estimate());
        let standard = c
            .model_facts(&aimlapi::Model::from_id("claude-sonnet-4-20250514"))
            .unwrap()
            .price(&usage);
        assert!(standard > 0.0);
        assert!(
            (cost.usd - standard / 2.0).abs() < 1e-12,
            "{} vs {standard}",
            cost.usd
        );
        assert_eq!(
            results["test-02"].as_ref().unwrap_err(),
            &BatchError::Errored {
                error_type: "overloaded_error".into(),
                message: "Overloaded".into()
            }
        );
        assert_eq!(
            results["test-03"].as_ref().unwrap_err(),
            &BatchError::Expired
        );
    }
}

#[tokio::test]
async fn wait_reports_progress_stops_at_its_deadline_and_honours_retry_after() {
    let mock = mock(Duration::from_millis(300), BatchForm::Array).await;
    let c = client(&mock);
    let batch = three(&c).submit().await.unwrap();
    let mut seen = Vec::new();
    let last = batch
        .wait(fast(), |s| seen.push((s.state.clone(), s.progress())))
        .await
        .unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert_eq!(seen[0], (BatchState::InProgress, None));
    assert_eq!(seen.last().unwrap(), &(BatchState::Ended, Some(1.0)));
    assert_eq!(last.state, BatchState::Ended);
    assert_eq!(batch.counts().await.unwrap().succeeded, 3);

    // A batch that never ends: the wait gives up at its deadline.
    let never = mock_never().await;
    let c = client(&never);
    let batch = three(&c).submit().await.unwrap();
    let started = Instant::now();
    let err = batch
        .wait(fast().deadline(Duration::from_millis(300)), |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(3));

    // A 429 asking for a second while polling: the next poll comes no sooner.
    never.push_batch_poll(Reply::status(429).header("Retry-After", "1"));
    let polls = || {
        never
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .count()
    };
    let before = polls();
    let started = Instant::now();
    let err = batch
        .wait(fast().deadline(Duration::from_millis(1_500)), |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // The 429, then after a second of waiting at most a few more polls, not dozens.
    let after = polls() - before;
    assert!((2..=12).contains(&after), "{after} polls");
    assert!(started.elapsed() >= Duration::from_millis(1_500));

    // Dropping the wait stops polling.
    let waiting = tokio::spawn({
        let batch = batch.clone();
        async move { batch.wait(fast(), |_| {}).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    waiting.abort();
    let _ = waiting.await;
    let stopped = polls();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(polls(), stopped);
}

async fn mock_never() -> MockServer {
    mock(Duration::from_secs(3600), BatchForm::Array).await
}

#[tokio::test]
async fn a_kept_handle_picks_the_batch_up_in_a_new_client() {
    let mock = mock(Duration::from_millis(50), BatchForm::Lines).await;
    let saved = {
        let c = client(&mock);
        let batch = three(&c).submit().await.unwrap();
        serde_json::to_string(batch.handle()).unwrap()
    };
    let read = |saved: String| {
        let c = client(&mock);
        async move {
            let handle: BatchHandle = serde_json::from_str(&saved).unwrap();
            let batch = c.resume_batch(handle);
            batch.wait(fast(), |_| {}).await.unwrap();
            let mut texts: Vec<(String, String)> = batch
                .results()
                .map(|r| {
                    let (id, answer) = r.unwrap();
                    (id, answer.unwrap().text().unwrap().into_owned())
                })
                .collect()
                .await;
            // The API promises no order (the mock sends the last request's first): the
            // results are matched by custom_id, not by position.
            let ids: Vec<&String> = texts.iter().map(|(id, _)| id).collect();
            assert_eq!(ids, ["test-03", "test-01", "test-02"]);
            texts.sort();
            texts
        }
    };
    let first = read(saved.clone()).await;
    assert_eq!(first.len(), 3);
    assert_eq!(read(saved).await, first);
}

#[tokio::test]
async fn cancels_and_the_cancel_of_an_ended_batch() {
    let mock = mock(Duration::from_millis(400), BatchForm::Array).await;
    let c = client(&mock);
    let batch = three(&c).submit().await.unwrap();
    let status = batch.cancel().await.unwrap();
    assert_eq!(status.state, BatchState::Canceling);
    assert!(status.batch.unwrap().cancel_initiated_at.is_some());
    let polled = batch.status().await.unwrap();
    assert_eq!(polled.state, BatchState::Canceling);
    assert_eq!(polled.batch.unwrap().status.as_deref(), Some("cancelled"));
    batch.wait(fast(), |_| {}).await.unwrap();
    let results = batch.results().collect_map().await.unwrap();
    assert!(results
        .values()
        .all(|r| r.as_ref().unwrap_err() == &BatchError::Canceled));

    let err = batch.cancel().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let http = err.http().unwrap();
    assert_eq!(http.status.as_u16(), 400);
    let upstream = http.upstream().expect("the upstream error");
    assert_eq!(upstream.error_type, "invalid_request_error");
    assert!(
        upstream.message.contains("has already finished processing"),
        "{upstream:?}"
    );
    assert!(upstream.request_id.unwrap().starts_with("req_"));

    let unknown = c.resume_batch(BatchHandle::from_id("msgbatch_nope"));
    assert_eq!(
        unknown.status().await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        unknown.cancel().await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn bad_batches_are_refused_before_sending() {
    let mock = mock(Duration::from_millis(50), BatchForm::Array).await;
    let c = client(&mock);
    let err = c.batch().submit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("empty batch"), "{err}");

    let err = c
        .batch()
        .request("a", c.chat("claude-sonnet-4-5").user("one"))
        .request("a", c.chat("claude-sonnet-4-5").user("two"))
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(
        err.to_string()
            .contains("custom_id `a` is in the batch twice"),
        "{err}"
    );

    let err = c
        .batch()
        .request("has space", c.chat("claude-sonnet-4-5").user("one"))
        .submit()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 to 64"), "{err}");

    // Claude Opus 4.7's page takes no `temperature`: refused as send_message refuses it.
    let refused = c.chat("claude-opus-4-7").user("one").temperature(0.5);
    let direct = refused.send_message().await.unwrap_err();
    let err = c
        .batch()
        .request("ok", c.chat("claude-sonnet-4-5").user("one"))
        .request("hot", refused)
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), direct.kind());
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let text = err.to_string();
    assert!(
        text.contains("request `hot`") && text.contains("temperature"),
        "{text}"
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn over_the_limits_submit_refuses_and_submit_all_splits() {
    let mock = mock(Duration::from_millis(400), BatchForm::Array).await;
    let c = client(&mock);
    let five = || {
        let mut b = c.batch().limits(BatchLimits {
            max_requests: 2,
            max_bytes: 256_000_000,
        });
        for i in 0..5 {
            b = b.request(
                format!("r{i}"),
                c.chat("claude-sonnet-4-5").user(format!("q{i}")),
            );
        }
        b
    };
    // Results asked for too early: one error, then the stream ends (not one per batch).
    let early = five().submit_all().await.unwrap();
    let items: Vec<_> = early.results().collect().await;
    assert_eq!(items.len(), 1);
    assert!(items[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("no results yet"));
    let submitted = mock.requests().len();
    assert_eq!(submitted, 3 + 1, "three creates and one status request");

    let err = five().submit().await.unwrap_err();
    assert!(
        err.to_string().contains("5 requests, over the limit of 2"),
        "{err}"
    );
    assert!(err.to_string().contains("submit_all"), "{err}");
    assert_eq!(mock.requests().len(), submitted, "nothing more was sent");

    let batch = five().submit_all().await.unwrap();
    assert_eq!(batch.ids().len(), 3);
    assert_eq!(batch.handle().requests, [2, 2, 1]);
    let bodies: Vec<usize> = mock.requests()[submitted..]
        .iter()
        .map(|r| r.body["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(bodies, [2, 2, 1]);
    batch.wait(fast(), |_| {}).await.unwrap();
    let status = batch.status().await.unwrap();
    assert_eq!(batch.counts().await.unwrap().succeeded, 5);
    assert_eq!(status.requests, Some(5));
    let mut ids: Vec<String> = batch.results().map(|r| r.unwrap().0).collect().await;
    ids.sort();
    assert_eq!(ids, ["r0", "r1", "r2", "r3", "r4"]);

    // By size: each request's item is about 120 bytes; 300 bytes hold two.
    let by_size = c
        .batch()
        .limits(BatchLimits {
            max_requests: 100,
            max_bytes: 300,
        })
        .requests((0..3).map(|i| (format!("s{i}"), c.chat("claude-sonnet-4-5").user("hello"))));
    let err = by_size.clone().submit().await.unwrap_err();
    assert!(
        err.to_string().contains("bytes, over the limit of 300"),
        "{err}"
    );
    assert_eq!(by_size.submit_all().await.unwrap().ids().len(), 2);
    let alone = c
        .batch()
        .limits(BatchLimits {
            max_requests: 100,
            max_bytes: 50,
        })
        .request("big", c.chat("claude-sonnet-4-5").user("hello"));
    let err = alone.submit_all().await.unwrap_err();
    assert!(
        err.to_string().contains("alone it is over a batch's limit"),
        "{err}"
    );
}

/// A body that is none of the forms is a `Decode` error saying what came.
#[tokio::test]
async fn an_answer_of_no_known_form_is_a_decode_error() {
    let mock = mock_never().await;
    let c = client(&mock);
    mock.push_batch_poll(Reply::status(200).body("<html>maintenance</html>"));
    let batch = c.resume_batch(BatchHandle::from_id("any"));
    let err = batch.status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("neither a JSON array"), "{err}");
    match err {
        aimlapi::Error::Decode { body, .. } => assert!(body.contains("maintenance"), "{body}"),
        other => panic!("{other}"),
    }
}

/// A split submission that fails part way says which batches were made, typed.
#[tokio::test]
async fn a_split_submission_that_fails_part_way_names_the_batches_made() {
    let mock = mock(Duration::from_millis(50), BatchForm::Array).await;
    let c = client(&mock);
    // The third request carries a body field the batch document refuses (`max_tokens` must be
    // a number): the client sends what it is told, the mock's validation refuses that batch.
    let mut bad = aimlapi::RequestOptions::default();
    bad.extra_body.insert("max_tokens".into(), json!("lots"));
    let batch = c
        .batch()
        .limits(BatchLimits {
            max_requests: 2,
            max_bytes: 256_000_000,
        })
        .request("a", c.chat("claude-sonnet-4-5").user("one"))
        .request("b", c.chat("claude-sonnet-4-5").user("two"))
        .request("c", c.chat("claude-sonnet-4-5").user("three").options(bad));
    let err = batch.submit_all().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    match &err {
        aimlapi::Error::PartlySubmitted { batch_ids, .. } => {
            assert_eq!(batch_ids.len(), 1);
            let made = c.resume_batch(BatchHandle {
                ids: batch_ids.clone(),
                requests: vec![],
            });
            made.wait(fast(), |_| {}).await.unwrap();
            assert_eq!(made.results().collect_map().await.unwrap().len(), 2);
        }
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("were submitted, then the next failed"),
        "{err}"
    );
}

#[tokio::test]
async fn a_batch_s_results_join_spent_as_they_are_read_and_a_budget_refuses_one_it_cannot_pay() {
    use aimlapi::budget::Budget;
    let mock = mock(Duration::from_millis(50), BatchForm::Array).await;
    let c = client(&mock);
    let batch = three(&c).submit().await.unwrap();
    batch.wait(fast(), |_| {}).await.unwrap();
    assert_eq!(c.spent(), 0.0, "nothing read yet");
    let results = batch.results().collect_map().await.unwrap();
    let costs: f64 = results
        .values()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|done| done.cost())
        .map(|cost| cost.usd)
        .sum();
    assert!(costs > 0.0);
    assert!(
        (c.spent() - costs).abs() < 1e-12,
        "{} vs {costs}",
        c.spent()
    );

    // A balance floor 5 cents under the balance: a batch estimated at more is refused unsent.
    let budgeted = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy::none())
        .budget(Budget::balance_floor(99.95))
        .build()
        .unwrap();
    let costly = (0..20).fold(budgeted.batch(), |b, i| {
        b.request(
            format!("essay-{i}"),
            budgeted
                .chat("claude-3-5-haiku-latest")
                .user("Write a long essay.")
                .max_tokens(100_000),
        )
    });
    let estimate = costly.estimated_cost().unwrap();
    // 20 × 100,000 output tokens at the batch price of $2 a million: $4, and some input.
    assert!((4.0..4.01).contains(&estimate), "{estimate}");
    let posts = |m: &MockServer| {
        m.requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/batches"))
            .count()
    };
    let before = posts(&mock);
    let err = costly.submit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BudgetExceeded, "{err}");
    assert_eq!(posts(&mock), before, "nothing sent");
    // A small one fits.
    budgeted
        .batch()
        .request(
            "short",
            budgeted
                .chat("claude-3-5-haiku-latest")
                .user("Hi")
                .max_tokens(10),
        )
        .submit()
        .await
        .unwrap();
    assert_eq!(posts(&mock), before + 1);
}

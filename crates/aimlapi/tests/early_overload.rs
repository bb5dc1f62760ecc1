//! An overload in a stream's first moments is retried as a failed request would be, as long as
//! nothing has reached the caller; after the first delta it ends the stream with the typed error,
//! and nothing is sent again.

use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::{Fault, MockServer, Reply};
use futures::StreamExt;
use std::time::Duration;

fn overloaded(after: usize) -> Reply {
    Reply::text("Hello there, from the model.").fault(Fault::ErrorChunkAfter {
        after,
        code: 529,
        message: "Overloaded".into(),
    })
}

fn client(mock: &MockServer, provider: Provider) -> Client {
    Client::builder()
        .provider(provider)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            jitter: 0.0,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn streams(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.body["stream"] == true)
        .count()
}

#[tokio::test]
async fn a_messages_stream_whose_first_event_is_an_overload_succeeds_on_the_retry() {
    let mock = MockServer::builder().start().await.unwrap();
    mock.push(overloaded(0));
    mock.push(Reply::text("Hello there, from the model."));
    let c = client(&mock, Provider::AimlApi);
    let stream = c
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream_message()
        .await
        .unwrap();
    let done = stream.completion().await.unwrap();
    assert_eq!(done.text().as_deref(), Some("Hello there, from the model."));
    assert_eq!(done.meta.attempts, 2);
    assert_eq!(streams(&mock), 2);
}

#[tokio::test]
async fn the_same_overload_after_a_delta_ends_the_stream_with_the_typed_error() {
    let mock = MockServer::builder().start().await.unwrap();
    // message_start, content_block_start, then a text delta, then the overload.
    mock.push(overloaded(3));
    mock.push(Reply::text("never sent"));
    let c = client(&mock, Provider::AimlApi);
    let mut stream = c
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream_message()
        .await
        .unwrap();
    let mut error = None;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            error = Some(e);
        }
    }
    let e = error.expect("the stream's error");
    // An overload inside a stream is still the stream's error, of the overload's kind.
    assert!(matches!(e, aimlapi::Error::Stream { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Overloaded, "{e}");
    assert!(e.to_string().contains("overloaded_error"), "{e}");
    assert_eq!(streams(&mock), 1, "never a silent restart");
}

#[tokio::test]
async fn an_openrouter_error_chunk_before_any_delta_is_retried_and_after_one_is_not() {
    let mock = MockServer::builder().start().await.unwrap();
    let openrouter = |after| {
        Reply::text("Hi from OpenRouter.").fault(Fault::ErrorChunkAfter {
            after,
            code: 502,
            message: "Provider returned error".into(),
        })
    };
    mock.push(openrouter(0));
    mock.push(Reply::text("Hi from OpenRouter."));
    let c = client(&mock, Provider::AimlApi);
    let model = "claude-3-5-haiku-latest";
    let done = c
        .chat(model)
        .user("Hi")
        .stream()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap();
    assert_eq!(done.text().as_deref(), Some("Hi from OpenRouter."));
    assert_eq!(done.meta.attempts, 2);
    assert_eq!(streams(&mock), 2);

    mock.push(openrouter(2));
    mock.push(Reply::text("never sent"));
    let e = c
        .chat(model)
        .user("Hi")
        .stream()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Stream, "{e}");
    assert_eq!(streams(&mock), 3, "one request for the second stream");
}

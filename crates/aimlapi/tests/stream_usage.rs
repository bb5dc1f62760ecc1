//! A stream asks for its usage (`stream_options.include_usage`) on the pages that take
//! `stream_options`, on both request paths; a caller's own `stream_options` goes out instead; a
//! page without it, or the Messages endpoint, gets none.

use aimlapi::types::ChatCompletionRequest;
use aimlapi::{Client, Provider, RequestOptions, RetryPolicy};
use aimlapi_mock::MockServer;
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

fn last_body(mock: &MockServer) -> Value {
    mock.requests().last().unwrap().body.clone()
}

#[tokio::test]
async fn streams_ask_for_their_usage_where_the_page_takes_it_and_the_caller_s_own_wins() {
    let mock = MockServer::builder().start().await.unwrap();
    let c = client(&mock);
    // The conversation path, an OpenAI-style page that takes stream_options.
    let done = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .stream()
        .await
        .unwrap();
    assert!(done.completion().await.unwrap().value.usage.is_some());
    assert_eq!(
        last_body(&mock)["stream_options"],
        json!({"include_usage": true})
    );

    // The caller's own goes out as it is.
    let mut options = RequestOptions::default();
    options
        .extra_body
        .insert("stream_options".into(), json!({"include_usage": false}));
    let mut s = c
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .options(options.clone())
        .stream()
        .await
        .unwrap();
    while s.next().await.is_some() {}
    assert_eq!(
        last_body(&mock)["stream_options"],
        json!({"include_usage": false})
    );

    // The typed path: asked for, unless the request or the options set it.
    let request: ChatCompletionRequest = serde_json::from_value(json!({
        "model": "claude-3-5-haiku-latest",
        "messages": [{"role": "user", "content": "Hello"}],
    }))
    .unwrap();
    let mut s = c
        .stream(&request, &RequestOptions::default())
        .await
        .unwrap();
    while s.next().await.is_some() {}
    assert_eq!(
        last_body(&mock)["stream_options"],
        json!({"include_usage": true})
    );
    let mut s = c.stream(&request, &options).await.unwrap();
    while s.next().await.is_some() {}
    assert_eq!(
        last_body(&mock)["stream_options"],
        json!({"include_usage": false})
    );

    // Not streaming, and a page without stream_options, and the Messages endpoint: none.
    c.chat("claude-3-5-haiku-latest")
        .user("Hello")
        .send()
        .await
        .unwrap();
    assert!(last_body(&mock).get("stream_options").is_none());
    let mut s = c
        .chat("claude-sonnet-4-5")
        .user("Hello")
        .stream()
        .await
        .unwrap();
    while s.next().await.is_some() {}
    assert!(last_body(&mock).get("stream_options").is_none());
    let mut s = c
        .chat("claude-sonnet-4-5")
        .user("Hello")
        .stream_message()
        .await
        .unwrap();
    while s.next().await.is_some() {}
    assert!(last_body(&mock).get("stream_options").is_none());
}

//! HTTP/2 without TLS (h2c, prior knowledge) against the mock, which serves it beside HTTP/1.1:
//! concurrent calls and streams share one connection, each answered whole.

use aimlapi::{Client, Provider, RequestOptions};
use aimlapi_mock::MockServer;
use futures::StreamExt;

/// The whole text of `stream`, read piece by piece.
async fn all_text(stream: aimlapi::ChatStream) -> String {
    let mut text = stream.text();
    let mut got = String::new();
    while let Some(piece) = text.next().await {
        got.push_str(&piece.unwrap());
    }
    got
}

/// Streams the text `want` (scripted) and checks it came whole.
async fn stream_text(client: &Client, want: String) {
    let stream = client
        .chat("claude-3-5-haiku-latest")
        .user("Hello")
        .options(scripted(&want))
        .stream()
        .await
        .unwrap();
    assert_eq!(all_text(stream).await, want);
}

fn scripted(text: &str) -> RequestOptions {
    let mut options = RequestOptions::default();
    options.headers.insert(
        "x-mock-reply",
        format!("text={text}; usage=5,40").parse().unwrap(),
    );
    options
}

#[tokio::test]
async fn concurrent_streams_and_calls_share_one_http2_connection() {
    let mock = MockServer::start().await;
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let streams = (0..20).map(|i| {
        let client = client.clone();
        async move { stream_text(&client, format!("stream {i} over one connection")).await }
    });
    let calls = (0..10).map(|i| {
        let client = client.clone();
        async move {
            let want = format!("call {i}");
            let done = client
                .chat("claude-3-5-haiku-latest")
                .user("Hello")
                .options(scripted(&want))
                .send()
                .await
                .unwrap();
            assert_eq!(done.text().as_deref(), Some(want.as_str()));
        }
    });
    futures::future::join(
        futures::future::join_all(streams),
        futures::future::join_all(calls),
    )
    .await;
    assert_eq!(mock.connections(), 1, "30 calls over one HTTP/2 connection");
}

#[tokio::test]
async fn without_prior_knowledge_plain_http_is_http1_one_connection_a_call() {
    let mock = MockServer::start().await;
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .build()
        .unwrap();
    // Five streams open at once (each opened, none read yet): over HTTP/1.1 each holds its
    // connection until it is read to the end.
    let chats: Vec<_> = (0..5)
        .map(|i| {
            client
                .chat("claude-3-5-haiku-latest")
                .user("Hello")
                .options(scripted(&format!("call {i}")))
        })
        .collect();
    let opened = futures::future::join_all(chats.iter().map(|chat| chat.stream())).await;
    for (i, stream) in opened.into_iter().enumerate() {
        assert_eq!(all_text(stream.unwrap()).await, format!("call {i}"));
    }
    assert_eq!(mock.connections(), 5);
}

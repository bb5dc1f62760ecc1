//! Streaming over loopback HTTP: typed chunks from the documented transcript, however the
//! network splits it; keep-alive comments only when asked for.

mod common;

use aimlapi::types::{Claude35HaikuRequest, KnownClaude35HaikuModelId, OpenRouterRequest};
use aimlapi::{Client, Provider, RequestOptions, StreamItem};
use common::{Reply, Server};
use futures::StreamExt;

/// Seed 003's streaming transcript.
const TRANSCRIPT: &str = include_str!("../../../tests/fixtures/seed-003-stream.txt");

fn haiku() -> Claude35HaikuRequest {
    Claude35HaikuRequest::builder()
        .model(KnownClaude35HaikuModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::user("Hi! What do you think about mankind?")])
        .try_into()
        .unwrap()
}

fn pieces(text: &str, size: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

#[tokio::test]
async fn the_documented_transcript_streams_as_typed_chunks_in_any_split() {
    for size in [1, 7, 64, 4096] {
        // Split on bytes: the transcript is ASCII, so every piece is valid text.
        let server = Server::start(vec![Reply::Stream {
            chunks: pieces(TRANSCRIPT, size),
            stall: false,
        }])
        .await;
        let client = Client::builder()
            .provider(Provider::AimlApi)
            .base_url(&server.base_url)
            .api_key("k")
            .build()
            .unwrap();
        let mut stream = client
            .stream(&haiku(), &RequestOptions::default())
            .await
            .unwrap();
        let mut text = String::new();
        let mut chunks = 0;
        let mut usage = None;
        while let Some(item) = stream.next().await {
            let StreamItem::Chunk(chunk) = item.unwrap() else {
                panic!("no comments were asked for")
            };
            chunks += 1;
            text.extend(
                chunk
                    .choices
                    .iter()
                    .filter_map(|c| c.delta.as_ref()?.content.clone()),
            );
            usage = usage.or(chunk.usage.clone());
        }
        assert_eq!(chunks, 38, "piece size {size}");
        assert!(
            text.starts_with("I want to be direct and balanced in my response.")
                && text.ends_with("What are your thoughts about humanity?"),
            "{text}"
        );
        let usage = usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (Some(16), Some(77), Some(93))
        );
        let sent = &server.seen()[0];
        assert_eq!(sent.body["stream"], true);
        assert_eq!(sent.body["model"], "anthropic/claude-3-5-haiku");
    }
}

#[tokio::test]
async fn keep_alive_comments_come_only_when_asked_for_and_done_ends_the_stream() {
    let body = ": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"anthropic/claude-3.5-haiku\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4,\"cost\":0.0000064}}\n\ndata: [DONE]\n\ndata: {\"this\":\"is never read\"}\n\n";
    let request: OpenRouterRequest = OpenRouterRequest::builder()
        .model(aimlapi::types::KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::user("Hello")])
        .try_into()
        .unwrap();
    for with_comments in [false, true] {
        let server = Server::start(vec![Reply::Stream {
            chunks: pieces(body, 5),
            stall: false,
        }])
        .await;
        let client = Client::builder()
            .provider(Provider::open_router())
            .base_url(&server.base_url)
            .api_key("k")
            .build()
            .unwrap();
        let stream = client
            .stream(&request, &RequestOptions::default())
            .await
            .unwrap();
        let stream = if with_comments {
            stream.with_comments()
        } else {
            stream
        };
        let items: Vec<_> = stream.map(Result::unwrap).collect().await;
        let comments = items
            .iter()
            .filter(|i| matches!(i, StreamItem::Comment(_)))
            .count();
        let chunks: Vec<_> = items
            .iter()
            .filter_map(|i| {
                if let StreamItem::Chunk(c) = i {
                    Some(c)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(comments, if with_comments { 2 } else { 0 });
        assert_eq!(chunks.len(), 1, "the stream ends at [DONE]");
        assert_eq!(chunks[0].usage.as_ref().unwrap().cost, Some(0.0000064));
    }
}

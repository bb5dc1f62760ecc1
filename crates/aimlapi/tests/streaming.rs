//! Streaming over loopback HTTP: typed chunks from the documented transcript, however the
//! network splits it; keep-alive comments only when asked for.

mod common;

use aimlapi::request::ChatRequest;
use aimlapi::sse::StreamItem;
use aimlapi::types::{ChatCompletionRequest, KnownModelId, OpenRouterRequest};
use aimlapi::{Client, Provider, RequestOptions};
use common::{Reply, Server};
use futures::StreamExt;

/// Seed 003's streaming transcript.
const TRANSCRIPT: &str = include_str!("../../mock/fixtures/seed-003-stream.txt");

fn haiku() -> ChatCompletionRequest {
    ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(
            "Hi! What do you think about mankind?",
        )])
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
        let (server, mut stream) = stream_of(TRANSCRIPT, size).await;
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
    for with_comments in [false, true] {
        let (_server, stream) =
            stream_from(Provider::open_router(), &openrouter_hello(), body, 5).await;
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

/// A server that streams `body` in pieces of `size` bytes, and the stream of `request` sent
/// to it through `provider`.
async fn stream_from<R: ChatRequest>(
    provider: Provider,
    request: &R,
    body: &str,
    size: usize,
) -> (Server, aimlapi::sse::ChunkStream<R::Chunk>) {
    let server = Server::start(vec![Reply::Stream {
        chunks: pieces(body, size),
        stall: false,
    }])
    .await;
    let client = Client::builder()
        .provider(provider)
        .base_url(&server.base_url)
        .api_key("k")
        .build()
        .unwrap();
    let stream = client
        .stream(request, &RequestOptions::default())
        .await
        .unwrap();
    (server, stream)
}

async fn stream_of(
    body: &str,
    size: usize,
) -> (
    Server,
    aimlapi::sse::ChunkStream<aimlapi::types::ChatCompletionChunk>,
) {
    stream_from(Provider::AimlApi, &haiku(), body, size).await
}

fn openrouter_hello() -> OpenRouterRequest {
    OpenRouterRequest::builder()
        .model(aimlapi::types::KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hello")])
        .try_into()
        .unwrap()
}

/// Seed 003's transcript in the format used before 2026-02-13: each chunk wrapped in `event`,
/// the usage in `state` with the old names.
fn legacy_transcript() -> String {
    let mut out = String::new();
    for line in TRANSCRIPT.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let mut chunk: serde_json::Value = serde_json::from_str(line).unwrap();
        let usage = chunk
            .as_object_mut()
            .unwrap()
            .remove("usage")
            .filter(|u| !u.is_null());
        let mut state = serde_json::json!({"generationId": "gen-legacy", "tools": []});
        if let Some(u) = usage {
            state["usage"] = serde_json::json!({"input_tokens": u["prompt_tokens"], "output_tokens": u["completion_tokens"], "cache_creation_input_tokens": 0});
        }
        out.push_str(&format!(
            "data: {}\n\n",
            serde_json::json!({"event": chunk, "state": state})
        ));
    }
    out
}

#[tokio::test]
async fn both_stream_formats_fold_to_the_same_completion() {
    let (_s, current) = stream_of(TRANSCRIPT, 13).await;
    let current = current.completion().await.unwrap().value;
    let (_s, legacy) = stream_of(&legacy_transcript(), 13).await;
    let legacy = legacy.completion().await.unwrap().value;
    let current = serde_json::to_value(&current).unwrap();
    assert_eq!(current, serde_json::to_value(&legacy).unwrap());
    assert_eq!(current["id"], "msg_01MuATe8QKEhnksWHddPGVMD");
    assert_eq!(
        current["usage"],
        serde_json::json!({"prompt_tokens": 16, "completion_tokens": 77, "total_tokens": 93})
    );
    assert_eq!(current["choices"][0]["finish_reason"], "stop");
    let text = current["choices"][0]["message"]["content"]
        .as_str()
        .unwrap();
    assert!(text.starts_with("I want to be direct and balanced in my response. I recognize humanity has tremendous potential"), "{text}");
}

#[tokio::test]
async fn text_deltas_yield_only_the_text() {
    let (_s, stream) = stream_of(TRANSCRIPT, 4096).await;
    let deltas: Vec<String> = stream.text_deltas().map(Result::unwrap).collect().await;
    assert_eq!(deltas.first().map(String::as_str), Some("I want"));
    assert_eq!(deltas.last().map(String::as_str), Some(" humanity?"));
    assert!(deltas.iter().all(|d| !d.is_empty()));
}

#[tokio::test]
async fn a_stream_cut_mid_body_is_an_unexpected_end() {
    // The first ten chunks only: no finish reason, no [DONE].
    let cut: String = TRANSCRIPT.split_inclusive("\n\n").take(10).collect();
    let (_s, stream) = stream_of(&cut, 50).await;
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 10);
    let last = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind(), aimlapi::ErrorKind::UnexpectedEnd, "{last}");
    // Folding it is an error too, never a short success.
    let (_s, stream) = stream_of(&cut, 50).await;
    assert_eq!(
        stream.completion().await.unwrap_err().kind(),
        aimlapi::ErrorKind::UnexpectedEnd
    );
}

#[tokio::test]
async fn an_openrouter_error_chunk_is_a_typed_error() {
    let body = "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"anthropic/claude-3.5-haiku\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"anthropic/claude-3.5-haiku\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n";
    let (_server, stream) =
        stream_from(Provider::open_router(), &openrouter_hello(), body, 9).await;
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2, "the error ends the stream");
    match &items[1] {
        Err(aimlapi::Error::Stream { code, message }) => {
            assert_eq!(code.as_deref(), Some("502"));
            assert_eq!(message, "Provider disconnected");
        }
        other => panic!("expected a stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_payload_that_is_not_json_is_a_decode_error_with_the_payload() {
    let body = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {not json\n\n";
    let (_s, stream) = stream_of(body, 7).await;
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 2);
    match &items[1] {
        Err(aimlapi::Error::Decode { body, .. }) => assert_eq!(body, "{not json"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// A transcript in the format used before 2026-02-13 as real ones look (written from the facts,
/// `tests/fixtures/README.md`): each chunk's own `usage` zeros, null or absent, the true counts
/// only in `state.usage`, `input_tokens` on the first chunk and the final `output_tokens` on the
/// chunk whose state has `finishReason`.
#[tokio::test]
async fn the_old_format_with_counts_only_in_its_state_folds_to_the_true_usage() {
    const LEGACY: &str = include_str!("../../../tests/fixtures/legacy-stream.txt");
    for size in [13, 4096] {
        let (_s, stream) = stream_of(LEGACY, size).await;
        let done = serde_json::to_value(stream.completion().await.unwrap().value).unwrap();
        assert_eq!(
            done["usage"],
            serde_json::json!({"prompt_tokens": 23, "completion_tokens": 41, "total_tokens": 64}),
            "piece size {size}"
        );
        assert_eq!(
            done["choices"][0]["message"]["content"],
            "The sky looks blue because air scatters short wavelengths of sunlight most."
        );
        assert_eq!(done["choices"][0]["finish_reason"], "end_turn");
        assert_eq!(done["id"], "msg_legacy_01");
    }
}

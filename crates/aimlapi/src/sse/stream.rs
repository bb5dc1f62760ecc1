//! [`ChunkStream`]: a [`ChunkDecoder`] driven over a response's [`ByteStream`].

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use super::chunks::{ChunkDecoder, StreamItem};
use crate::accumulate::{Accumulator, StreamChunk};
use crate::body::ByteStream;
use crate::error::Error;
use crate::meta::ResponseMeta;

/// Typed chunks from a streaming response, as they arrive.
///
/// Ends at `data: [DONE]`, or at the end of the body once a chunk has carried a finish reason;
/// a body that ends (or a connection that breaks) before either is [`Error::UnexpectedEnd`]. An error chunk (OpenRouter's) is
/// [`Error::Stream`]; a payload that is not a chunk is [`Error::Decode`] with the payload. Comment
/// lines are skipped unless [`with_comments`](Self::with_comments) asked for them.
pub struct ChunkStream<T> {
    meta: ResponseMeta,
    body: Option<ByteStream>,
    decoder: ChunkDecoder<T>,
    ended: bool,
}

// Nothing in a ChunkStream is pinned structurally: queued chunks live on the heap and are only
// moved out whole.
impl<T> Unpin for ChunkStream<T> {}

impl<T> std::fmt::Debug for ChunkStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("done", &self.body.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: StreamChunk> ChunkStream<T> {
    /// Typed chunks from a raw body.
    pub fn new(body: ByteStream) -> Self {
        ChunkStream {
            meta: body.meta().clone(),
            body: Some(body),
            decoder: ChunkDecoder::default(),
            ended: false,
        }
    }

    /// What came with the response: status, request id, headers, attempts; still there after
    /// the stream has ended.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Delivers comment lines too, as [`StreamItem::Comment`].
    pub fn with_comments(mut self) -> Self {
        self.decoder.comments = true;
        self
    }

    /// Reads the whole stream and folds it into the final completion.
    pub async fn collect_completion(mut self) -> Result<T::Completion, Error> {
        use futures::StreamExt;
        let mut acc = Accumulator::new();
        while let Some(item) = self.next().await {
            if let StreamItem::Chunk(c) = item? {
                acc.push(&c);
            }
        }
        acc.finish()
    }

    /// Only the text of the first choice, piece by piece as it arrives (empty pieces skipped).
    pub fn text_deltas(self) -> impl Stream<Item = Result<String, Error>> + Send {
        use futures::StreamExt;
        self.filter_map(|item| async move {
            match item {
                Err(e) => Some(Err(e)),
                Ok(StreamItem::Comment(_)) => None,
                Ok(StreamItem::Chunk(c)) => c
                    .first_text()
                    .filter(|t| !t.is_empty())
                    .map(|t| Ok(t.to_string())),
            }
        })
    }
}

impl<T: StreamChunk> Stream for ChunkStream<T> {
    type Item = Result<StreamItem<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.decoder.next_item() {
                return Poll::Ready(Some(item));
            }
            if this.decoder.is_done() {
                // `[DONE]` or an error, and every item before it delivered: drop the body, which
                // closes the connection.
                this.body = None;
                return Poll::Ready(None);
            }
            let Some(body) = this.body.as_mut() else {
                // The body ended without `[DONE]`: fine after a finish reason, an error before.
                if !this.decoder.is_finished() && !std::mem::replace(&mut this.ended, true) {
                    return Poll::Ready(Some(Err(Error::UnexpectedEnd)));
                }
                return Poll::Ready(None);
            };
            match Pin::new(body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.decoder.feed(bytes),
                // A connection that breaks mid-body ends the body: what was framed is delivered,
                // then, without a finish reason, `UnexpectedEnd`.
                Poll::Ready(Some(Err(Error::Connection(_)))) => {
                    this.decoder.finish();
                    this.body = None;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.body = None;
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.decoder.finish();
                    this.body = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 003's transcript cut after every byte, read through the whole stream path (the body
    /// of a response, the idle timer, framing, decoding, folding): the full completion when the
    /// cut leaves every chunk that matters closed by its blank line, `UnexpectedEnd` otherwise;
    /// never a decode error from half an event.
    #[tokio::test]
    async fn a_body_cut_at_any_byte_is_the_full_completion_or_an_unexpected_end() {
        use crate::types::{ChatCompletion, ChatCompletionChunk};
        const TRANSCRIPT: &[u8] = include_bytes!("../../../mock/fixtures/seed-003-stream.txt");
        let fold = |body: &'static [u8]| async move {
            let response = reqwest::Response::from(http::Response::new(reqwest::Body::from(body)));
            let meta = ResponseMeta::new(
                response.status(),
                response.headers().clone(),
                1,
                crate::Model::from_id("test"),
            );
            let stream = ByteStream::new(response, std::time::Duration::from_secs(5), meta);
            ChunkStream::<ChatCompletionChunk>::new(stream)
                .collect_completion()
                .await
                .map(|done| serde_json::to_value(done).unwrap())
        };
        let full = fold(TRANSCRIPT).await.unwrap();
        let (mut whole, mut ended) = (0, 0);
        for cut in 0..TRANSCRIPT.len() {
            match fold(&TRANSCRIPT[..cut]).await {
                Ok(done) => {
                    assert_eq!(done, full, "cut at {cut}");
                    whole += 1;
                }
                Err(Error::UnexpectedEnd) => ended += 1,
                Err(e) => panic!("cut at {cut}: {e:?}"),
            }
        }
        // The second-to-last event carries the finish reason and the usage: exactly the cuts at
        // or past its blank line fold to the whole completion.
        let body = TRANSCRIPT.len();
        let closed = memchr::memmem::rfind(&TRANSCRIPT[..body - 2], b"\n\n").unwrap() + 2;
        assert_eq!(
            (whole, ended),
            (body - closed, closed),
            "whole, unexpected ends"
        );
        let _: ChatCompletion = serde_json::from_value(full).unwrap();
    }
}

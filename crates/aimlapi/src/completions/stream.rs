//! The chat endpoint's streams: [`ChunkStream`] (typed chunks as they arrive) and [`ChatStream`]
//! (the conversation API's deltas, folded as they go so the whole [`Completion`] is there at the
//! end).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types as types;
use futures::Stream;

use crate::completion::Answer;
use crate::completion::Completion;
use crate::completions::decode::{ChunkDecoder, StreamChunk, StreamItem};
use crate::completions::fold::Accumulator;
use crate::error::Error;
use crate::http::body::ByteStream;
use crate::http::meta::ResponseMeta;
use crate::streaming::driver::Driver;
use crate::streaming::Fold;
use crate::usage::TokenUsage;

/// Typed chunks from a streaming response, as they arrive.
///
/// Ends at `data: [DONE]`, or at the end of the body once a chunk has carried a finish reason;
/// a body that ends (or a connection that breaks) before either is [`Error::UnexpectedEnd`]. An
/// error chunk (OpenRouter's) is [`Error::Stream`]; a payload that is not a chunk is
/// [`Error::Decode`] with the payload. Comment lines are skipped unless
/// [`with_comments`](Self::with_comments) asked for them. [`completion`](Self::completion) folds
/// the rest into the answer.
pub struct ChunkStream<T> {
    /// Boxed, as the Messages stream's: a caller's future or task that holds the stream is not
    /// sized for the driver's state (the response's metadata, the body, the decoder: over a
    /// kilobyte) for the stream's life.
    driver: Box<Driver<ChunkDecoder<T>>>,
}

// Nothing in a ChunkStream is pinned structurally: queued chunks live on the heap and are only
// moved out whole.
impl<T> Unpin for ChunkStream<T> {}

impl<T> std::fmt::Debug for ChunkStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("driver", &self.driver)
            .finish()
    }
}

impl<T: StreamChunk> ChunkStream<T> {
    /// Typed chunks from a raw body.
    pub fn new(body: ByteStream) -> Self {
        ChunkStream {
            driver: Box::new(Driver::new(body, ChunkDecoder::default())),
        }
    }

    /// The folded answer's cost joins `spend`.
    pub(crate) fn counting(mut self, spend: std::sync::Arc<crate::cost::Spend>) -> Self {
        self.driver.count_into(spend);
        self
    }

    /// What came with the response: status, request id, headers, attempts; still there after
    /// the stream has ended.
    pub fn meta(&self) -> &ResponseMeta {
        self.driver.meta()
    }

    /// Delivers comment lines too, as [`StreamItem::Comment`].
    pub fn with_comments(mut self) -> Self {
        self.driver.decoder.comments = true;
        self
    }

    /// Reads the rest of the stream and folds it into the whole answer, with the response's
    /// [`ResponseMeta`].
    pub async fn completion(self) -> Result<Completion<T::Completion>, Error>
    where
        T::Completion: Answer,
    {
        self.fold_rest(T::Fold::default()).await
    }

    /// Reads the rest of the stream into `fold` (which may hold what was read before).
    async fn fold_rest(self, fold: T::Fold) -> Result<Completion<T::Completion>, Error>
    where
        T::Completion: Answer,
    {
        self.driver.fold_rest(fold).await
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

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.driver.poll_item(cx)
    }
}

/// One piece of a streamed answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamDelta {
    /// More of the answer's text.
    Text(String),
    /// More of the model's reasoning (`reasoning_content`, OpenRouter's `reasoning`, or the
    /// text of `reasoning_details`).
    Reasoning(String),
    /// A piece of a tool call: its first piece has the id and name, the pieces after it more
    /// of the arguments' JSON text.
    ToolCall {
        /// Which call of the answer (the pieces of one call share it).
        index: u32,
        /// The call's id (first piece).
        id: Option<String>,
        /// The tool's name (first piece).
        name: Option<String>,
        /// More of the arguments' JSON text.
        arguments: String,
    },
    /// The token counts so far (the last one is the answer's).
    Usage(TokenUsage),
}

/// A streamed answer: a [`Stream`] of [`StreamDelta`]s (and `Unpin`, so
/// `while let Some(d) = stream.next().await` works), [`text`](Self::text) for the text alone,
/// [`completion`](Self::completion) for the whole answer. Dropping it closes the connection.
pub struct ChatStream(Box<Open>);

/// What a [`ChatStream`] holds, on the heap: the chunk stream (its driver boxed in turn), the
/// fold, the queue, a few hundred bytes, allocated once the stream is open, so that neither the
/// caller's task nor the stream's opening (boxed, and freed by then) is sized for it.
struct Open {
    chunks: ChunkStream<types::ChatCompletionChunk>,
    folded: Accumulator,
    ready: VecDeque<StreamDelta>,
    /// How the stream goes on at another gateway when it breaks (a failover client's); boxed,
    /// as only a stream over gateways has one.
    continuation: Option<Box<Continuation>>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("chunks", &self.0.chunks)
            .field("folded", &self.0.folded)
            .field("continues", &self.0.continuation.is_some())
            .finish_non_exhaustive()
    }
}

/// The rest of a broken stream being opened.
pub(crate) type Rest = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<ChunkStream<types::ChatCompletionChunk>, Error>>
            + Send,
    >,
>;

/// The rest of a broken stream, from its text so far (sent as the assistant's prefill).
pub(crate) type Reopen = Box<dyn Fn(String) -> Rest + Send + Sync>;

/// A stream's way on after a break: used at most once.
struct Continuation {
    reopen: Reopen,
    /// The rest being opened, and the error that broke the stream (given if it cannot go on).
    opening: Option<(Rest, Error)>,
    /// The white space cut from the end of the prefill (a prefill may not end in it), taken off
    /// the start of the rest's text so that the caller reads it once.
    cut: String,
    used: bool,
}

impl ChatStream {
    pub(crate) fn new(chunks: ChunkStream<types::ChatCompletionChunk>) -> Self {
        ChatStream(Box::new(Open {
            chunks,
            folded: Accumulator::new(),
            ready: VecDeque::new(),
            continuation: None,
        }))
    }

    /// The stream, going on through `reopen` when it breaks after its first text and before
    /// any tool call.
    pub(crate) fn continued_by(mut self, reopen: Reopen) -> Self {
        self.0.continuation = Some(Box::new(Continuation {
            reopen,
            opening: None,
            cut: String::new(),
            used: false,
        }));
        self
    }

    /// What came with the response: status, request id, headers, attempts.
    pub fn meta(&self) -> &ResponseMeta {
        self.0.chunks.meta()
    }

    /// Tool call `index` so far (see [`StreamDelta::ToolCall`]): its arguments as parsed JSON
    /// from the pieces read until now, a prefix read without error
    /// ([`parse_partial_json`](crate::chat::parse_partial_json)).
    pub fn tool_input(&self, index: u32) -> Option<serde_json::Value> {
        self.0.folded.tool_input(index)
    }

    /// The answer's text so far, as parsed JSON (a structured answer arriving as text):
    /// `null` before any.
    pub fn text_value(&self) -> serde_json::Value {
        crate::partial_json::parse_partial_json(self.0.folded.text())
    }

    /// Only the text, piece by piece (empty pieces skipped).
    pub fn text(self) -> TextStream {
        TextStream(self)
    }

    /// Reads the rest of the stream and returns the whole answer (what was already read
    /// included), with the stream's [`ResponseMeta`].
    pub async fn completion(mut self) -> Result<Completion<types::ChatCompletion>, Error> {
        if self.0.continuation.is_none() {
            let Open { chunks, folded, .. } = *self.0;
            return chunks.fold_rest(folded).await;
        }
        // Read here, delta by delta, so that a break goes on where it can.
        use futures::StreamExt;
        while let Some(delta) = self.next().await {
            delta?;
        }
        Ok(Completion {
            value: self.0.folded.finish()?,
            meta: self.0.chunks.meta().clone(),
        })
    }
}

impl Open {
    /// Whether `error`, after what was read so far, starts the continuation: it is then opening.
    fn continues_after(&mut self, error: Error) -> Result<(), Error> {
        let breaks = matches!(
            error.kind(),
            crate::error::ErrorKind::Overloaded
                | crate::error::ErrorKind::Server
                | crate::error::ErrorKind::Stream
                | crate::error::ErrorKind::UnexpectedEnd
                | crate::error::ErrorKind::Connection
                | crate::error::ErrorKind::Timeout
        );
        let text = self.folded.text();
        let Some(c) = self.continuation.as_mut().filter(|c| !c.used) else {
            return Err(error);
        };
        if !breaks || text.is_empty() || self.folded.has_tool_calls() {
            return Err(error);
        }
        let kept = text.trim_end();
        c.cut = text[kept.len()..].to_string();
        c.used = true;
        c.opening = Some(((c.reopen)(kept.to_string()), error));
        Ok(())
    }

    /// Takes the cut white space off the start of a continued stream's text.
    fn trim_continued(&mut self, chunk: &mut types::ChatCompletionChunk) {
        let Some(c) = self.continuation.as_mut().filter(|c| !c.cut.is_empty()) else {
            return;
        };
        let Some(content) = chunk
            .choices
            .iter_mut()
            .min_by_key(|c| c.index)
            .and_then(|c| c.delta.as_mut())
            .and_then(|d| d.content.as_mut())
            .filter(|t| !t.is_empty())
        else {
            return;
        };
        let same = content
            .chars()
            .zip(c.cut.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        content.drain(..same);
        c.cut.clear();
    }

    /// Queues `delta`, with room made for one more at a time while the queue is short: a
    /// chunk almost always gives one delta, and a queue grown the usual way holds room for four
    /// (320 bytes) for the rest of the stream.
    fn queue(&mut self, delta: StreamDelta) {
        let ready = &mut self.ready;
        if ready.len() == ready.capacity() {
            ready.reserve_exact(ready.len().max(1));
        }
        ready.push_back(delta);
    }

    /// Queues the deltas of `chunk` (its first choice).
    fn split(&mut self, chunk: &types::ChatCompletionChunk) {
        if let Some(delta) = chunk
            .choices
            .iter()
            .min_by_key(|c| c.index)
            .and_then(|c| c.delta.as_ref())
        {
            let reasoning = crate::completion::reasoning_text(
                delta.reasoning_content.as_deref(),
                delta.reasoning.as_deref(),
                delta.reasoning_details.as_deref(),
            );
            if let Some(r) = reasoning {
                self.queue(StreamDelta::Reasoning(r.into_owned()));
            }
            if let Some(t) = delta.content.as_deref().filter(|t| !t.is_empty()) {
                self.queue(StreamDelta::Text(t.to_string()));
            }
            for call in delta.tool_calls.iter().flatten() {
                let function = call.function.as_ref();
                self.queue(StreamDelta::ToolCall {
                    index: u32::try_from(call.index).unwrap_or(0),
                    id: call.id.clone(),
                    name: function.and_then(|f| f.name.clone()),
                    arguments: function
                        .and_then(|f| f.arguments.clone())
                        .unwrap_or_default(),
                });
            }
        }
        if let Some(u) = &chunk.usage {
            let usage = crate::usage::chat_usage(u);
            if usage.prompt_tokens > 0 || usage.completion_tokens > 0 {
                self.queue(StreamDelta::Usage(usage));
            }
        }
    }
}

impl Stream for ChatStream {
    type Item = Result<StreamDelta, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self.0;
        loop {
            if let Some(delta) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(delta)));
            }
            if let Some((opening, _)) = this.continuation.as_mut().and_then(|c| c.opening.as_mut())
            {
                let opened = match opening.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(opened) => opened,
                };
                let broke = this.continuation.as_mut().and_then(|c| c.opening.take());
                match (opened, broke) {
                    (Ok(rest), _) => this.chunks = rest,
                    // It could not go on: the break is the stream's error.
                    (Err(_), Some((_, error))) => return Poll::Ready(Some(Err(error))),
                    (Err(e), None) => return Poll::Ready(Some(Err(e))),
                }
            }
            match Pin::new(&mut this.chunks).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => match this.continues_after(e) {
                    Ok(()) => {}
                    Err(e) => return Poll::Ready(Some(Err(e))),
                },
                Poll::Ready(Some(Ok(StreamItem::Comment(_)))) => {}
                Poll::Ready(Some(Ok(StreamItem::Chunk(mut chunk)))) => {
                    this.trim_continued(&mut chunk);
                    if let Err(e) = this.folded.push(&chunk) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    this.split(&chunk);
                }
            }
        }
    }
}

/// The text of a streamed answer, piece by piece; `Unpin`.
#[derive(Debug)]
pub struct TextStream(ChatStream);

impl TextStream {
    /// What came with the response.
    pub fn meta(&self) -> &ResponseMeta {
        self.0.meta()
    }

    /// Reads the rest and returns the whole answer (what was already read included).
    pub async fn completion(self) -> Result<Completion<types::ChatCompletion>, Error> {
        self.0.completion().await
    }
}

impl Stream for TextStream {
    type Item = Result<String, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match Pin::new(&mut self.0).poll_next(cx) {
                Poll::Ready(Some(Ok(StreamDelta::Text(t)))) => return Poll::Ready(Some(Ok(t))),
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts a server may send, at the top of their range, fold without overflowing.
    #[tokio::test]
    async fn usage_counts_at_the_top_of_their_range_are_no_panic() {
        let max = i64::MAX;
        let body = format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\
             \"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"hi\"}},\"finish_reason\":\"stop\"}}],\
             \"usage\":{{\"prompt_tokens\":{max},\"completion_tokens\":{max},\
             \"cache_read_input_tokens\":{max},\"cache_creation_input_tokens\":{max}}}}}\n\n"
        );
        let response = reqwest::Response::from(http::Response::new(reqwest::Body::from(body)));
        let meta = ResponseMeta::new(
            response.status(),
            response.headers().clone(),
            1,
            crate::model::Model::from_id("m"),
        );
        let bytes =
            crate::http::body::ByteStream::new(response, std::time::Duration::from_secs(5), meta);
        let mut stream = ChatStream::new(ChunkStream::new(bytes));
        let mut usage = None;
        while let Some(delta) = futures::StreamExt::next(&mut stream).await {
            if let StreamDelta::Usage(u) = delta.unwrap() {
                usage = Some(u);
            }
        }
        let u = usage.expect("the usage delta");
        assert_eq!(u.prompt_tokens, u64::MAX);
        assert_eq!(u.total_tokens, u64::MAX);
    }

    /// Seed 003's transcript cut after every byte, read through the whole stream path (the body
    /// of a response, the idle timer, framing, decoding, folding): the full completion when the
    /// cut leaves every chunk that matters closed by its blank line, `UnexpectedEnd` otherwise;
    /// never a decode error from half an event.
    #[tokio::test]
    async fn a_body_cut_at_any_byte_is_the_full_completion_or_an_unexpected_end() {
        use aimlapi_types::{ChatCompletion, ChatCompletionChunk};
        const TRANSCRIPT: &[u8] = include_bytes!("../../../mock/fixtures/seed-003-stream.txt");
        let fold = |body: &'static [u8]| async move {
            let response = reqwest::Response::from(http::Response::new(reqwest::Body::from(body)));
            let meta = ResponseMeta::new(
                response.status(),
                response.headers().clone(),
                1,
                crate::model::Model::from_id("test"),
            );
            let stream = ByteStream::new(response, std::time::Duration::from_secs(5), meta);
            ChunkStream::<ChatCompletionChunk>::new(stream)
                .completion()
                .await
                .map(|done| serde_json::to_value(done.value).unwrap())
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

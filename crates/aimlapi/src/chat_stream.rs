//! [`ChatStream`]: a streamed answer as deltas (text, reasoning, tool-call pieces, usage), folded
//! as it goes so the whole [`Completion`] is there at the end.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types as types;
use futures::Stream;

use crate::accumulate::Accumulator;
use crate::completion::Completion;
use crate::error::Error;
use crate::meta::ResponseMeta;
use crate::request::TokenUsage;
use crate::sse::{ChunkStream, StreamItem};

/// One piece of a streamed answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delta {
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

/// A streamed answer: a [`Stream`] of [`Delta`]s (and `Unpin`, so
/// `while let Some(d) = stream.next().await` works), [`text`](Self::text) for the text alone,
/// [`completion`](Self::completion) for the whole answer. Dropping it closes the connection.
#[derive(Debug)]
pub struct ChatStream {
    chunks: ChunkStream<types::ChatCompletionChunk>,
    folded: Accumulator,
    ready: VecDeque<Delta>,
    /// The client's running total, which the folded answer's cost joins.
    spend: Option<std::sync::Arc<crate::cost::Spend>>,
}

impl ChatStream {
    pub(crate) fn new(chunks: ChunkStream<types::ChatCompletionChunk>) -> Self {
        ChatStream {
            chunks,
            folded: Accumulator::new(),
            ready: VecDeque::new(),
            spend: None,
        }
    }

    /// The folded answer's cost joins `spend`.
    pub(crate) fn counting(mut self, spend: std::sync::Arc<crate::cost::Spend>) -> Self {
        self.spend = Some(spend);
        self
    }

    /// What came with the response: status, request id, headers, attempts.
    pub fn meta(&self) -> &ResponseMeta {
        self.chunks.meta()
    }

    /// Only the text, piece by piece (empty pieces skipped).
    pub fn text(self) -> TextStream {
        TextStream(self)
    }

    /// Reads the rest of the stream and returns the whole answer (what was already read
    /// included), with the stream's [`ResponseMeta`].
    pub async fn completion(mut self) -> Result<Completion<types::ChatCompletion>, Error> {
        use futures::StreamExt;
        while let Some(delta) = self.next().await {
            delta?;
        }
        let done: Completion<types::ChatCompletion> = Completion {
            value: self.folded.finish()?,
            meta: self.chunks.meta().clone(),
        };
        if let Some(spend) = &self.spend {
            spend.count(done.cost());
        }
        Ok(done)
    }

    /// Queues the deltas of `chunk` (its first choice).
    fn split(&mut self, chunk: &types::ChatCompletionChunk) {
        if let Some(delta) = chunk
            .choices
            .iter()
            .min_by_key(|c| c.index)
            .and_then(|c| c.delta.as_ref())
        {
            let reasoning = crate::accumulate::reasoning_text(
                delta.reasoning_content.as_deref(),
                delta.reasoning.as_deref(),
                delta.reasoning_details.as_deref(),
            );
            if let Some(r) = reasoning {
                self.ready.push_back(Delta::Reasoning(r.into_owned()));
            }
            if let Some(t) = delta.content.as_deref().filter(|t| !t.is_empty()) {
                self.ready.push_back(Delta::Text(t.to_string()));
            }
            for call in delta.tool_calls.iter().flatten() {
                let function = call.function.as_ref();
                self.ready.push_back(Delta::ToolCall {
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
            let usage = crate::request::chat_usage(u);
            if usage.prompt_tokens > 0 || usage.completion_tokens > 0 {
                self.ready.push_back(Delta::Usage(usage));
            }
        }
    }
}

impl Stream for ChatStream {
    type Item = Result<Delta, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(delta) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(delta)));
            }
            match Pin::new(&mut this.chunks).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(StreamItem::Comment(_)))) => {}
                Poll::Ready(Some(Ok(StreamItem::Chunk(chunk)))) => {
                    this.folded.push(&chunk);
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
                Poll::Ready(Some(Ok(Delta::Text(t)))) => return Poll::Ready(Some(Ok(t))),
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
            crate::Model::from_id("m"),
        );
        let bytes = crate::body::ByteStream::new(response, std::time::Duration::from_secs(5), meta);
        let mut stream = ChatStream::new(ChunkStream::new(bytes));
        let mut usage = None;
        while let Some(delta) = futures::StreamExt::next(&mut stream).await {
            if let Delta::Usage(u) = delta.unwrap() {
                usage = Some(u);
            }
        }
        let u = usage.expect("the usage delta");
        assert_eq!(u.prompt_tokens, u64::MAX);
        assert_eq!(u.total_tokens, u64::MAX);
    }
}

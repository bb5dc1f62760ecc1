//! The Messages endpoint's event stream: [`MessageEventDecoder`] (typed events from the bytes of
//! a body, no I/O) and [`MessageEventStream`] (the same over a response, as it arrives).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types as types;
use aimlapi_types::{MessageResponse, MessageStreamEvent};
use futures::Stream;

use super::frame::{SseDecoder, SseRef, DEFAULT_MAX_LINE};
use crate::body::ByteStream;
use crate::completion::Completion;
use crate::error::Error;
use crate::message_fold::{stream_error, MessageAccumulator};
use crate::meta::ResponseMeta;

/// Typed Messages-endpoint events from the bytes of a body, in whatever pieces they come: feed
/// pieces, take events. Each event's `data` is decoded where the framing finds it (the `event:`
/// name repeats the payload's `type`, which is what is read). It is done after `message_stop`
/// or an `error` event (a typed [`Error::Stream`]); a body that ends before either is
/// [`Error::UnexpectedEnd`].
#[derive(Debug)]
pub struct MessageEventDecoder {
    sse: SseDecoder,
    ready: VecDeque<Result<MessageStreamEvent, Error>>,
    done: bool,
}

impl Default for MessageEventDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl MessageEventDecoder {
    /// A decoder that refuses lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        MessageEventDecoder {
            sse: SseDecoder::new(max_line),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Feeds one piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        if self.done {
            return;
        }
        let ready = &mut self.ready;
        let framed = self.sse.feed_with(piece, &mut |item| {
            if let SseRef::Event { data, .. } = item {
                if data.is_empty() {
                    return;
                }
                ready.push_back(parse_message_event(data));
            }
        });
        if let Err(e) = framed {
            self.ready.push_back(Err(e));
        }
    }

    /// The body ended: an event it did not close is dropped; without `message_stop` the next
    /// item is [`Error::UnexpectedEnd`].
    pub fn finish(&mut self) {
        self.sse.finish();
        if !self.done {
            self.ready.push_back(Err(Error::UnexpectedEnd));
        }
    }

    /// The next event, if one is complete. After `message_stop`, an `error` event (given as
    /// [`Error::Stream`]) or any other error, nothing more.
    pub fn next_event(&mut self) -> Option<Result<MessageStreamEvent, Error>> {
        if self.done {
            return None;
        }
        let item = self.ready.pop_front()?;
        match &item {
            Ok(MessageStreamEvent::MessageStopEvent(_)) => self.done = true,
            Ok(MessageStreamEvent::ErrorEvent(e)) => {
                self.done = true;
                return Some(Err(stream_error(e)));
            }
            Err(_) => self.done = true,
            Ok(_) => {}
        }
        Some(item)
    }

    /// Whether `message_stop`, an error, or the end of a body without it has been taken.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// The `type` of an event payload written as `{"type":"...",` (as the API writes it), read
/// without decoding; `None` for any other layout.
#[inline]
fn leading_type(data: &[u8]) -> Option<&[u8]> {
    let rest = data.strip_prefix(b"{\"type\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Some(&rest[..end])
}

/// One Messages-endpoint event from its `data` payload (a logged stream replayed, say), as the
/// decoder reads it: typed, an unknown kind kept as `OtherKind`; a payload that is not an
/// event is [`Error::Decode`].
///
/// ```
/// use aimlapi::types::MessageStreamEvent;
///
/// let event = aimlapi::sse::parse_message_event(br#"{"type":"content_block_stop","index":0}"#)?;
/// assert!(matches!(event, MessageStreamEvent::ContentBlockStopEvent(_)));
/// # Ok::<(), aimlapi::Error>(())
/// ```
pub fn parse_message_event(payload: &[u8]) -> Result<MessageStreamEvent, Error> {
    decode_event(payload).map_err(|e| Error::Decode {
        message: format!("a Messages event that is not one: {e}"),
        body: String::from_utf8_lossy(payload).into_owned(),
    })
}

/// One event payload, typed. The generated event type is an untagged union, which tries its
/// variants one after another on a buffered copy of the payload; a payload whose leading `type`
/// names a known event is decoded as that variant directly. Should that fail, the union decides
/// (it keeps what no variant takes as `OtherKind`), so the result is the union's either way.
fn decode_event(data: &[u8]) -> Result<MessageStreamEvent, serde_json::Error> {
    use serde_json::from_slice;
    use MessageStreamEvent as E;
    let direct = match leading_type(data) {
        Some(b"content_block_delta") => {
            from_slice::<types::ContentBlockDeltaEvent>(data).map(E::ContentBlockDeltaEvent)
        }
        Some(b"content_block_start") => {
            from_slice::<types::ContentBlockStartEvent>(data).map(E::ContentBlockStartEvent)
        }
        Some(b"content_block_stop") => {
            from_slice::<types::ContentBlockStopEvent>(data).map(E::ContentBlockStopEvent)
        }
        Some(b"message_delta") => {
            from_slice::<types::MessageDeltaEvent>(data).map(E::MessageDeltaEvent)
        }
        Some(b"message_start") => {
            from_slice::<types::MessageStartEvent>(data).map(E::MessageStartEvent)
        }
        Some(b"message_stop") => {
            from_slice::<types::MessageStopEvent>(data).map(E::MessageStopEvent)
        }
        Some(b"ping") => from_slice::<types::PingEvent>(data).map(E::PingEvent),
        Some(b"error") => from_slice::<types::ErrorEvent>(data).map(E::ErrorEvent),
        _ => return from_slice(data),
    };
    direct.or_else(|_| from_slice(data))
}

/// Typed Messages-endpoint events of a response as they arrive; ends after `message_stop`.
/// Pull-based (nothing runs unless polled), with the response's idle timeout; dropping it closes
/// the connection. [`collect_message`](Self::collect_message) folds the rest into the message,
/// [`completion`](Self::completion) into a [`Completion`] (its views, its cost).
#[derive(Debug)]
pub struct MessageEventStream {
    meta: ResponseMeta,
    body: Option<ByteStream>,
    decoder: MessageEventDecoder,
    ended: bool,
    /// The client's running total, which the folded message's cost joins.
    spend: Option<std::sync::Arc<crate::cost::Spend>>,
}

impl MessageEventStream {
    /// Events from a raw body.
    pub fn new(body: ByteStream) -> Self {
        MessageEventStream {
            meta: body.meta().clone(),
            body: Some(body),
            decoder: MessageEventDecoder::default(),
            ended: false,
            spend: None,
        }
    }

    /// The folded message's cost joins `spend`.
    pub(crate) fn counting(mut self, spend: std::sync::Arc<crate::cost::Spend>) -> Self {
        self.spend = Some(spend);
        self
    }

    /// What came with the response.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Reads the rest of the stream and folds it into the message.
    pub async fn collect_message(mut self) -> Result<MessageResponse, Error> {
        use futures::StreamExt;
        let mut fold = MessageAccumulator::new();
        while let Some(event) = self.next().await {
            fold.push(&event?)?;
        }
        fold.finish()
    }

    /// Reads the rest of the stream and returns the whole message with the response's
    /// [`ResponseMeta`]: a [`Completion`], with its text, reasoning, tool calls, usage and
    /// [`cost`](Completion::cost) (the vendor sends no figure with a stream: the estimate).
    pub async fn completion(mut self) -> Result<Completion<MessageResponse>, Error> {
        let meta = self.meta.clone();
        let spend = self.spend.take();
        let done = Completion {
            value: self.collect_message().await?,
            meta,
        };
        if let Some(spend) = spend {
            spend.count(done.cost());
        }
        Ok(done)
    }
}

impl Stream for MessageEventStream {
    type Item = Result<MessageStreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.decoder.next_event() {
                return Poll::Ready(Some(item));
            }
            if this.decoder.is_done() || this.ended {
                // Done: drop the body, which closes the connection.
                this.body = None;
                return Poll::Ready(None);
            }
            let Some(body) = this.body.as_mut() else {
                this.ended = true;
                continue;
            };
            match Pin::new(body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(piece))) => this.decoder.feed(&piece),
                // A broken connection ends the body: what was framed comes first.
                Poll::Ready(Some(Err(Error::Connection(_)))) | Poll::Ready(None) => {
                    this.decoder.finish();
                    this.body = None;
                }
                Poll::Ready(Some(Err(e))) => {
                    this.body = None;
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct decode gives what the union gives, for every event of the test transcript and
    /// for payloads the named variant does not take.
    #[test]
    fn the_direct_decode_is_the_union_s() {
        let transcript = include_str!("../../../../tests/fixtures/messages-stream.txt");
        let mut payloads: Vec<String> = transcript
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(String::from)
            .collect();
        payloads.extend(
            [
                r#"{"type":"content_block_delta","index":"first"}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"new_delta","x":1}}"#,
                r#"{"type":"message_start"}"#,
                r#"{"type":"ping","extra":true}"#,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                r#"{"type":"error","error":"text"}"#,
                r#"{"type":"brand_new_event","index":3}"#,
                r#"{ "type": "ping" }"#,
                r#"{"index":0,"type":"content_block_stop"}"#,
                r#"{"type":"message_stop"#,
            ]
            .map(String::from),
        );
        assert!(payloads.len() > 20);
        for p in &payloads {
            let direct = decode_event(p.as_bytes());
            let union = serde_json::from_slice::<MessageStreamEvent>(p.as_bytes());
            assert_eq!(
                format!("{:?}", direct.map_err(|e| e.to_string())),
                format!("{:?}", union.map_err(|e| e.to_string())),
                "{p}"
            );
        }
    }
}

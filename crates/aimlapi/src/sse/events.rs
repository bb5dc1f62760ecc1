//! The Messages endpoint's event stream: [`MessageEventDecoder`] (typed events from the bytes of
//! a body, no I/O) and [`MessageEventStream`] (the same over a response, as it arrives).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types::{MessageResponse, MessageStreamEvent};
use futures::Stream;

use super::frame::{SseDecoder, SseRef, DEFAULT_MAX_LINE};
use crate::body::ByteStream;
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
                ready.push_back(serde_json::from_slice(data).map_err(|e| Error::Decode {
                    message: format!("a Messages event that is not one: {e}"),
                    body: String::from_utf8_lossy(data).into_owned(),
                }));
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

/// Typed Messages-endpoint events of a response as they arrive; ends after `message_stop`.
/// Pull-based (nothing runs unless polled), with the response's idle timeout; dropping it closes
/// the connection. [`collect_message`](Self::collect_message) folds the rest into the message.
#[derive(Debug)]
pub struct MessageEventStream {
    meta: ResponseMeta,
    body: Option<ByteStream>,
    decoder: MessageEventDecoder,
    ended: bool,
}

impl MessageEventStream {
    /// Events from a raw body.
    pub fn new(body: ByteStream) -> Self {
        MessageEventStream {
            meta: body.meta().clone(),
            body: Some(body),
            decoder: MessageEventDecoder::default(),
            ended: false,
        }
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

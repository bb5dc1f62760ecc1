//! [`ByteStream`]: a streaming response's body as the network delivers it, with an idle timeout.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;

use crate::error::Error;
use crate::http::failure::transport_failure;
use crate::http::meta::ResponseMeta;

/// The raw body of a streaming response, chunk by chunk as the network delivers it, with an idle
/// timeout between chunks. Pull-based: nothing runs unless it is polled.
///
/// The idle time counts from when the stream starts waiting for the network (the first poll
/// that finds no piece ready) to the next piece. The clock is read once per wait, not per piece,
/// and the timer is re-armed only when it fires before the current wait's deadline.
pub struct ByteStream {
    meta: ResponseMeta,
    raw: RawBody,
}

/// A streaming response's body without what came with it: what a stream's driver reads, having
/// taken the metadata to keep (held once a stream, not beside a stand-in of it).
pub(crate) struct RawBody {
    /// Pieces already read (a stream's start, looked at before it was handed over), given
    /// before the rest of the body.
    unread: std::collections::VecDeque<Bytes>,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    idle: Duration,
    /// Fires no later than `deadline`.
    timer: Pin<Box<tokio::time::Sleep>>,
    /// When the current wait times out; meaningful while `waiting`.
    deadline: tokio::time::Instant,
    waiting: bool,
    done: bool,
    /// The record of the call this body answers, for the stream read from it to finish: only
    /// one that records (a subscriber, metrics), boxed, so that a stream nothing records does
    /// not carry its 500 bytes.
    call: Option<Box<crate::telemetry::Call>>,
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("meta", &self.meta)
            .field("idle", &self.raw.idle)
            .field("done", &self.raw.done)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    /// What came with the response: status, request id, headers, attempts. The AI/ML API's
    /// cost headers are not sent on streams.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    pub(crate) fn meta_mut(&mut self) -> &mut ResponseMeta {
        &mut self.meta
    }

    pub(crate) fn new(response: reqwest::Response, idle: Duration, meta: ResponseMeta) -> Self {
        let deadline = deadline_after(idle);
        ByteStream {
            meta,
            raw: RawBody {
                unread: Default::default(),
                body: Box::pin(response.bytes_stream()),
                idle,
                timer: Box::pin(tokio::time::sleep_until(deadline)),
                deadline,
                waiting: true,
                done: false,
                call: None,
            },
        }
    }

    /// `pieces` are given first, before the rest of the body.
    pub(crate) fn unread(mut self, pieces: Vec<Bytes>) -> Self {
        // The pieces' own buffer, freed once they are given (below).
        self.raw.unread = pieces.into();
        self
    }

    /// The body answers the call `call` records.
    pub(crate) fn with_call(mut self, call: Box<crate::telemetry::Call>) -> Self {
        self.raw.call = call.is_recording().then_some(call);
        self
    }

    /// What came with the response, and the body.
    pub(crate) fn into_parts(self) -> (ResponseMeta, RawBody) {
        (self.meta, self.raw)
    }
}

impl RawBody {
    /// The record of the call, for the stream that reads this body (which ends it).
    pub(crate) fn take_call(&mut self) -> Option<Box<crate::telemetry::Call>> {
        self.call.take()
    }
}

/// Now plus `idle`, or a deadline decades away when `idle` is too long to add (a caller may set
/// `Duration::MAX` to mean "never").
fn deadline_after(idle: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    tokio::time::Instant::from_std(crate::http::timeouts::later(now.into_std(), idle))
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.raw).poll_next(cx)
    }
}

impl Stream for RawBody {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(piece) = self.unread.pop_front() {
            if self.unread.is_empty() {
                // Not held for the rest of the stream.
                self.unread = Default::default();
            }
            // A piece given ends the wait, as one from the network does.
            self.waiting = false;
            return Poll::Ready(Some(Ok(piece)));
        }
        match self.body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.waiting = false;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                let idle = self.idle;
                Poll::Ready(Some(Err(transport_failure(e, idle).error)))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if !self.waiting {
                    // A new wait begins. The timer, armed for an earlier wait, fires early at
                    // worst; it is moved on then.
                    self.waiting = true;
                    self.deadline = deadline_after(self.idle);
                }
                loop {
                    match self.timer.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => {
                            let deadline = self.deadline;
                            if deadline > tokio::time::Instant::now() {
                                self.timer.as_mut().reset(deadline);
                                continue;
                            }
                            self.done = true;
                            return Poll::Ready(Some(Err(Error::Timeout {
                                after: self.idle,
                                waiting_for: "the next stream chunk",
                            })));
                        }
                    }
                }
            }
        }
    }
}

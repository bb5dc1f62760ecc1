//! The one stream driver: a decoder of either endpoint's stream run over a response's
//! [`ByteStream`], with one rule for a body that ends too early and one place where a folded
//! answer joins the client's running total.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;

use crate::completion::{Answer, Completion};
use crate::cost::Spend;
use crate::error::Error;
use crate::http::body::{ByteStream, RawBody};
use crate::http::meta::ResponseMeta;
use crate::telemetry::Call;

/// A decoder the [`Driver`] runs: typed items from the pieces of a body, without I/O.
pub(crate) trait Decode {
    /// What the stream yields.
    type Item;
    /// What a fold of the stream reads (an item may carry none: a comment line).
    type Event;

    /// Feeds one piece of the body.
    fn feed_piece(&mut self, piece: Bytes);
    /// The next item the pieces so far complete.
    fn next(&mut self) -> Option<Result<Self::Item, Error>>;
    /// The body ended: what it closed is still to be taken, a last unclosed event is dropped.
    fn body_ended(&mut self);
    /// Whether the stream's last item has been taken (its end marker, or an error).
    fn is_done(&self) -> bool;
    /// Whether the answer is whole, so that a body ending without the end marker is fine.
    fn is_whole(&self) -> bool;
    /// The part of `item` a fold reads.
    fn event(item: &Self::Item) -> Option<&Self::Event>;

    /// Adds what `event` tells of the response to a call's record.
    fn observe(event: &Self::Event, outcome: &mut crate::telemetry::Outcome);
}

/// A fold of a stream's events into the answer a non-streaming call returns: the same two
/// calls for both endpoints ([`Accumulator`](crate::sse::Accumulator) for chat chunks,
/// [`MessageAccumulator`](crate::sse::MessageAccumulator) for Messages events). Nothing the
/// server sent is dropped: a field the fold does not name is carried into the answer at the
/// level it came (a scalar's last value wins, objects are merged).
pub trait Fold: Default {
    /// What is folded: one chunk or event.
    type Event;
    /// What the fold gives: the answer.
    type Output;

    /// Folds one chunk or event in. An error the server reported inside the stream is
    /// [`Error::Stream`]; a tool call's input that is not JSON is [`Error::Decode`].
    fn push(&mut self, event: &Self::Event) -> Result<(), Error>;

    /// The answer. Before the stream's end (a finish reason, `message_stop`):
    /// [`Error::UnexpectedEnd`].
    fn finish(self) -> Result<Self::Output, Error>;
}

/// A decoder driven over a body: pull-based (nothing runs unless polled), with the body's idle
/// timeout; dropping it closes the connection.
pub(crate) struct Driver<D> {
    meta: ResponseMeta,
    body: Option<RawBody>,
    pub(crate) decoder: D,
    /// Whether the stream has ended for its reader (after an error of the body or the early end).
    ended: bool,
    /// The client's running total, which the stream's cost joins at its end (read item by item
    /// or folded).
    spend: Option<Arc<Spend>>,
    /// What the stream told of its cost so far, while no call record takes it.
    tally: Option<crate::telemetry::Outcome>,
    /// The call's record, while something reads it: ended (recorded) with the stream.
    call: Option<Box<Call>>,
}

impl<D> std::fmt::Debug for Driver<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("done", &self.body.is_none())
            .finish_non_exhaustive()
    }
}

impl<D: Decode> Driver<D> {
    pub(crate) fn new(body: ByteStream, decoder: D) -> Self {
        // Taken apart, not copied: the stream's headers, ids and gateway are held once (a copy
        // was about 1.5 KiB a stream, and a stand-in left in the body 368 bytes).
        let (meta, mut body) = body.into_parts();
        Driver {
            meta,
            call: body.take_call(),
            body: Some(body),
            decoder,
            ended: false,
            spend: None,
            tally: None,
        }
    }

    /// The stream's cost joins `spend` at its end.
    pub(crate) fn count_into(&mut self, spend: Arc<Spend>) {
        self.spend = Some(spend);
        self.tally = Some(Default::default());
    }

    pub(crate) fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// The next item. A body that ends, or a connection that breaks, before the answer is
    /// whole is [`Error::UnexpectedEnd`] once what was framed has been delivered.
    #[inline]
    pub(crate) fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<D::Item, Error>>> {
        let next = self.poll_next_item(cx);
        if self.call.is_some() || self.tally.is_some() {
            self.observe(&next);
        }
        next
    }

    /// What `next` tells the call's record and the running total: an item's event, an error,
    /// the end (the call's, and the stream's cost counted once).
    fn observe(&mut self, next: &Poll<Option<Result<D::Item, Error>>>) {
        match next {
            Poll::Ready(Some(Ok(item))) => {
                if let Some(event) = D::event(item) {
                    let outcome = match (&mut self.call, &mut self.tally) {
                        (Some(call), _) => Some(call.outcome()),
                        (None, tally) => tally.as_mut(),
                    };
                    if let Some(outcome) = outcome {
                        D::observe(event, outcome);
                    }
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(call) = &mut self.call {
                    call.failed(e);
                }
            }
            Poll::Ready(None) => {
                let tally = self.tally.take();
                let cost = match (self.call.take(), tally) {
                    // The stream's end is the call's.
                    (Some(mut call), _) => {
                        let cost = self
                            .spend
                            .as_ref()
                            .and(call.outcome().stream_cost(&self.meta));
                        call.ended(self.meta.facts);
                        cost
                    }
                    (None, Some(mut tally)) => tally.stream_cost(&self.meta),
                    (None, None) => None,
                };
                if let Some(spend) = self.spend.take() {
                    spend.count(cost);
                }
            }
            Poll::Pending => {}
        }
    }

    #[inline]
    fn poll_next_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<D::Item, Error>>> {
        loop {
            if let Some(item) = self.decoder.next() {
                return Poll::Ready(Some(item));
            }
            if self.decoder.is_done() {
                // The end marker or an error, and every item before it delivered: drop the
                // body, which closes the connection.
                self.body = None;
                return Poll::Ready(None);
            }
            let Some(body) = self.body.as_mut() else {
                if !self.decoder.is_whole() && !std::mem::replace(&mut self.ended, true) {
                    return Poll::Ready(Some(Err(Error::UnexpectedEnd)));
                }
                return Poll::Ready(None);
            };
            match Pin::new(body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(piece))) => self.decoder.feed_piece(piece),
                Poll::Ready(Some(Err(Error::Connection(_)))) | Poll::Ready(None) => {
                    self.decoder.body_ended();
                    self.body = None;
                }
                Poll::Ready(Some(Err(e))) => {
                    self.body = None;
                    self.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    /// Reads the rest of the stream into `fold` and gives the answer with the response's
    /// [`ResponseMeta`]; its cost joins the client's running total.
    pub(crate) async fn fold_rest<F>(mut self, mut fold: F) -> Result<Completion<F::Output>, Error>
    where
        F: Fold<Event = D::Event>,
        F::Output: Answer,
    {
        // The fold tells the record what the stream did: it is not told event by event too.
        let mut call = self.call.take();
        let folded = async {
            while let Some(item) = std::future::poll_fn(|cx| self.poll_item(cx)).await {
                let item = item?;
                if let Some(event) = D::event(&item) {
                    fold.push(event)?;
                }
            }
            fold.finish()
        }
        .await;
        let value = match folded {
            Ok(value) => value,
            Err(e) => {
                if let Some(call) = &mut call {
                    call.failed(&e);
                }
                return Err(e);
            }
        };
        let done = Completion {
            value,
            meta: self.meta,
        };
        let cost = done.cost();
        if let Some(call) = &mut call {
            call.answered(done.answered(cost.as_ref().map(|c| c.usd), call.records_contents()));
        }
        Ok(done)
    }
}

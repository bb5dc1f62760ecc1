//! [`MessageEventStream`]: the Messages endpoint's typed events of a response as they arrive.

use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types::{MessageResponse, MessageStreamEvent};
use futures::Stream;

use crate::completion::Completion;
use crate::error::Error;
use crate::http::body::ByteStream;
use crate::http::meta::ResponseMeta;
use crate::messages::decode::MessageEventDecoder;
use crate::messages::fold::MessageAccumulator;
use crate::streaming::driver::Driver;

/// Typed Messages-endpoint events of a response as they arrive; ends after `message_stop`.
/// Pull-based (nothing runs unless polled), with the response's idle timeout; dropping it closes
/// the connection. A body that ends (or a connection that breaks) before `message_stop` is
/// [`Error::UnexpectedEnd`]. [`completion`](Self::completion) folds the rest into a
/// [`Completion`] (its views, its cost).
#[derive(Debug)]
pub struct MessageEventStream {
    /// Boxed: a caller's future or task that holds the stream is not sized for the driver's
    /// state (the response's metadata, the body, the decoder: over a kilobyte) for the stream's
    /// life.
    driver: Box<Driver<MessageEventDecoder>>,
}

impl MessageEventStream {
    /// Events from a raw body.
    pub fn new(body: ByteStream) -> Self {
        MessageEventStream {
            driver: Box::new(Driver::new(body, MessageEventDecoder::default())),
        }
    }

    /// The folded message's cost joins `spend`.
    pub(crate) fn counting(mut self, spend: std::sync::Arc<crate::cost::Spend>) -> Self {
        self.driver.count_into(spend);
        self
    }

    /// What came with the response.
    pub fn meta(&self) -> &ResponseMeta {
        self.driver.meta()
    }

    /// Reads the rest of the stream and returns the whole message with the response's
    /// [`ResponseMeta`]: a [`Completion`], with its text, reasoning, tool calls, usage and
    /// [`cost`](Completion::cost) (the vendor sends no figure with a stream: the estimate).
    pub async fn completion(self) -> Result<Completion<MessageResponse>, Error> {
        self.driver.fold_rest(MessageAccumulator::new()).await
    }
}

impl Stream for MessageEventStream {
    type Item = Result<MessageStreamEvent, Error>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.driver.poll_item(cx)
    }
}

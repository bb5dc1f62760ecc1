//! Streams below the conversation API: server-sent event framing ([`SseDecoder`]); typed chat
//! chunks without I/O ([`ChunkDecoder`]) and from a response as they arrive ([`ChunkStream`]);
//! typed Messages events the same two ways ([`MessageEventDecoder`], [`MessageEventStream`]);
//! a response's raw body ([`ByteStream`]); and the two folds of a stream into its answer, one
//! [`Fold`] each ([`Accumulator`] for chat chunks, [`MessageAccumulator`] for Messages events).
//! One driver runs either decoder over a body.

pub(crate) mod driver;
pub(crate) mod frame;
pub(crate) mod merge;

pub(crate) use driver::Decode;
pub use driver::Fold;
pub use frame::{SseDecoder, SseEvent, SseItem, SseRef, DEFAULT_MAX_LINE};

pub use crate::completions::decode::{unwrap_legacy, ChunkDecoder, StreamChunk, StreamItem};
pub use crate::completions::fold::Accumulator;
pub use crate::completions::stream::ChunkStream;
pub use crate::http::body::ByteStream;
pub use crate::messages::decode::{parse_message_event, MessageEventDecoder};
pub use crate::messages::fold::MessageAccumulator;
pub use crate::messages::stream::MessageEventStream;

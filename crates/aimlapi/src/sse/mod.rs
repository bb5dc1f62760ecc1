//! Streams below the conversation API: server-sent event framing ([`SseDecoder`]), typed chunks
//! without I/O ([`ChunkDecoder`]), typed chunks from a response as they arrive ([`ChunkStream`])
//! over its raw body ([`ByteStream`]), and folding chunks into a completion ([`Accumulator`]) or
//! Messages-endpoint events into the message ([`MessageAccumulator`]).

mod chunks;
mod events;
mod frame;
mod stream;

pub use chunks::{ChunkDecoder, StreamItem};
pub use events::{parse_message_event, MessageEventDecoder, MessageEventStream};
pub use frame::{SseDecoder, SseEvent, SseItem, SseRef, DEFAULT_MAX_LINE};
pub use stream::ChunkStream;

pub use crate::accumulate::{unwrap_legacy, Accumulator, StreamChunk};
pub use crate::body::ByteStream;
pub use crate::message_fold::MessageAccumulator;

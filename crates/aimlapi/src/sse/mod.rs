//! Server-sent events: framing ([`SseDecoder`]), typed chunks without I/O ([`ChunkDecoder`]), and
//! typed chunks from a response as they arrive ([`ChunkStream`]).

mod chunks;
mod frame;
mod stream;

pub use chunks::{ChunkDecoder, StreamItem};
pub use frame::{SseDecoder, SseEvent, SseItem, SseRef, DEFAULT_MAX_LINE};
pub use stream::ChunkStream;

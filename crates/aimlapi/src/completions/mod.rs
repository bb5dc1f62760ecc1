//! The chat-completions endpoint (`POST /v1/chat/completions`): its stream's decoder, fold and
//! streams.

pub(crate) mod decode;
pub(crate) mod fold;
pub(crate) mod stream;

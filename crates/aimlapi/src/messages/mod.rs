//! Anthropic's Messages endpoint (`POST /v1/messages`): its stream's decoder, fold and stream.

pub(crate) mod decode;
pub(crate) mod fold;
pub(crate) mod stream;

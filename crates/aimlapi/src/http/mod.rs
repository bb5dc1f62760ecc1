//! The HTTP pieces under every call: failure classification, the body limit, a streamed body
//! ([`ByteStream`]), what came with a response ([`meta::ResponseMeta`]), client request ids,
//! the retry policy and timeouts. [`crate::transport`] sends with them.

pub(crate) mod admission;
pub(crate) mod body;
pub(crate) mod failure;
pub(crate) mod meta;
pub(crate) mod pace;
pub(crate) mod request_body;
pub(crate) mod retry;
pub(crate) mod timeouts;
pub(crate) mod trace_id;

pub(crate) use body::ByteStream;

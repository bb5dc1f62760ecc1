//! The crate-private transport under every call: [`Transport`] (send, retries, spans, the
//! running total), failure classification, the body limit, a streamed body ([`ByteStream`]),
//! what came with a response ([`ResponseMeta`]), client request ids, retry policy and timeouts.

pub(crate) mod body;
pub(crate) mod failure;
pub(crate) mod meta;
pub(crate) mod retry;
pub(crate) mod timeouts;
pub(crate) mod trace_id;
pub(crate) mod transport;

pub(crate) use body::ByteStream;
pub(crate) use transport::{Settings, Transport};

//! A Rust client for Anthropic's Claude models through OpenAI-compatible gateways: the AI/ML API
//! first, OpenRouter second.
//!
//! - [`Client`]: one client for every gateway ([`Provider`]), with keys, retries
//!   ([`RetryPolicy`]), [`Timeouts`], typed errors ([`Error`], [`ErrorKind`]) and tracing spans.
//! - [`Client::chat`]: one [`Conversation`] for every model, dialect and provider; the answer is
//!   a [`Completion`], streamed a [`ChatStream`] ([`chat`] has the whole vocabulary).
//! - [`Model`] and the model table ([`model`]): every id of every bundled page, the request type
//!   and properties each page takes, the id each provider expects, the facts this crate knows.
//! - [`Client::batch`]: message batches, half-price bulk work ([`batch`]).
//! - [`types`]: the request, response and stream-chunk types generated from `schema/`, sent with
//!   [`Client::chat_completion`] ([`request`]); [`client`]: the generated low-level clients.
#![deny(missing_docs)]
#![doc = ""]
#![doc = include_str!("../README.md")]

pub mod account;
mod api;
pub mod batch;
pub mod budget;
pub mod catalogue;
mod catalogue_state;
pub mod chat;
mod completion;
mod completions;
pub mod cost;
pub mod error;
pub mod failover;
mod http;
mod indexed;
mod json;
mod messages;
pub mod model;
mod openrouter;
mod partial_json;
mod poll;
pub mod provider;
pub mod rate_limits;
pub mod request;
mod streaming;
mod telemetry;
mod time;
#[cfg(feature = "tools")]
mod tool_loop;
#[cfg(feature = "tools")]
mod tool_spec;
mod transport;
mod usage;
mod window;

pub use aimlapi_client as client;
pub use aimlapi_client::RequestOptions;
pub use aimlapi_types as types;

pub use api::{Client, ClientBuilder};
pub use chat::Chat;
pub use chat::{Content, Conversation};
pub use completion::{Answer, Completion};
pub use completions::stream::ChatStream;
pub use error::{Error, ErrorKind};
pub use http::admission::Admission;
pub use http::meta::ResponseMeta;
pub use http::retry::RetryPolicy;
pub use http::timeouts::Timeouts;
pub use model::Model;
pub use provider::Provider;
/// The HTTP client crate this one sends with, for [`ClientBuilder::http_client`]: the same
/// version, so a `reqwest::Client` built from it fits.
pub use reqwest;
#[cfg(feature = "tools")]
pub use schemars;

pub mod sse {
    //! Streams below the conversation API: server-sent event framing ([`SseDecoder`]); typed chat
    //! chunks without I/O ([`ChunkDecoder`]) and from a response as they arrive ([`ChunkStream`]);
    //! typed Messages events the same two ways ([`MessageEventDecoder`], [`MessageEventStream`]); a
    //! response's raw body ([`ByteStream`]); and the two folds of a stream into its answer, one
    //! [`Fold`] each ([`Accumulator`] for chat chunks, [`MessageAccumulator`] for Messages events).
    //! One driver runs either decoder over a body.

    pub use crate::completions::decode::{unwrap_legacy, ChunkDecoder, StreamChunk, StreamItem};
    pub use crate::completions::fold::Accumulator;
    pub use crate::completions::stream::ChunkStream;
    pub use crate::http::body::ByteStream;
    pub use crate::messages::decode::{parse_message_event, MessageEventDecoder};
    pub use crate::messages::fold::MessageAccumulator;
    pub use crate::messages::stream::MessageEventStream;
    pub use crate::streaming::driver::Fold;
    pub use crate::streaming::frame::{SseDecoder, SseEvent, SseItem, SseRef, DEFAULT_MAX_LINE};
}

/// Tools and structured outputs from Rust types: specs, handlers, the tool loop, typed parsing.
#[cfg(feature = "tools")]
pub mod tools {
    pub use crate::tool_loop::{ConversationRun, ToolLoop, ToolRun};
    pub use crate::tool_spec::{
        parse_arguments, parse_content, parse_tool_use, response_format, ToolCallRecord,
        ToolRequest, ToolSpec, Toolbox,
    };
}

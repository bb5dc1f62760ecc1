//! A Rust client for Anthropic's Claude models through OpenAI-compatible gateways: the AI/ML API
//! first, OpenRouter second.
//!
//! - [`Client`]: one client for every gateway ([`Provider`]), with keys, retries
//!   ([`RetryPolicy`]), [`Timeouts`], typed errors ([`Error`], [`ErrorKind`]) and tracing spans.
//! - [`Model`] and the model table [`MODEL_PAGES`]: every id of every bundled page, the request
//!   type and properties each page takes, the id each provider expects, the facts this crate
//!   knows (context, output limit, prices).
//! - [`types`]: the request, response and stream-chunk types generated from `schema/`;
//!   [`client`]: the generated low-level clients.
#![deny(missing_docs)]
#![doc = ""]
#![doc = include_str!("../README.md")]

mod accumulate;
mod api;
mod body;
mod chat;
mod chat_stream;
mod completion;
mod conversation;
mod error;
mod failure;
mod meta;
mod model;
mod provider;
mod request;
mod retry;
pub mod sse;
mod timeouts;
#[cfg(feature = "tools")]
mod tool_loop;
#[cfg(feature = "tools")]
mod tools;
mod wire;

pub use aimlapi_client as client;
pub use aimlapi_client::RequestOptions;
pub use aimlapi_types as types;

pub use accumulate::{unwrap_legacy, Accumulator, StreamChunk};
pub use api::{Client, ClientBuilder, DEFAULT_MAX_RESPONSE_BODY};
pub use body::ByteStream;
pub use chat::Chat;
pub use chat_stream::{ChatStream, Delta, TextStream};
pub use completion::{Completion, FinishReason};
pub use conversation::{Content, Conversation, Image, Part, ToolCall, Turn};
pub use error::{Error, ErrorKind, HttpError};
pub use meta::ResponseMeta;
pub use model::{Model, ModelFacts, ModelPage, MODEL_PAGES};
pub use provider::{ApiKey, Provider, ProviderKind};
pub use request::{ChatRequest, ChatResponse, Dialect, TokenUsage};
pub use retry::RetryPolicy;
#[cfg(feature = "tools")]
pub use schemars;
pub use sse::{ChunkStream, StreamItem};
pub use timeouts::Timeouts;
#[cfg(feature = "tools")]
pub use tool_loop::{ToolLoop, ToolRun};
#[cfg(feature = "tools")]
pub use tools::{
    parse_arguments, parse_content, parse_tool_use, response_format, ToolCallRecord, ToolRequest,
    ToolSpec, Toolbox,
};
pub use wire::{Sampling, Unsupported};

/// A user message with plain text, in the OpenAI-style dialect.
pub fn user(text: impl Into<String>) -> types::Message {
    types::Message::UserMessage(types::UserMessage {
        content: types::UserContent::String(text.into()),
        name: None,
        role: types::UserMessageRole::User,
    })
}

/// A system message with plain text, in the OpenAI-style dialect.
pub fn system(text: impl Into<String>) -> types::Message {
    types::Message::SystemMessage(types::SystemMessage {
        content: types::SystemContent::String(text.into()),
        name: None,
        role: types::SystemMessageRole::System,
    })
}

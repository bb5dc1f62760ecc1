//! The conversation API: what [`Client::chat`](crate::Client::chat) takes and gives back. A
//! [`Chat`] holds a [`Conversation`] and its settings; before it is sent, it is checked against
//! what the pages of its endpoint take, then written in the dialect of its page.

mod builder;
mod check;
pub(crate) mod conversation;
#[cfg(feature = "tools")]
mod output;
mod server_tools;
pub(crate) mod settings;
pub(crate) mod shape;
mod tool_choice;
pub(crate) mod write;

pub use self::builder::Chat;
pub use self::conversation::{Cache, Content, Conversation, Image, Part, ToolUse, Turn};
#[cfg(feature = "tools")]
pub use self::output::{Outcome, Output, Structured, StructuredStream};
pub use self::server_tools::{ServerTool, UserLocation, WebFetch, WebSearch};
pub use self::settings::{
    McpServer, Plugin, ReasoningSettings, Sampling, SearchFilters, ThinkingDisplay, ThinkingMode,
    Unsupported,
};
pub use self::tool_choice::ToolChoice;
pub use crate::completion::{Completion, StopReason};
pub use crate::completions::stream::{ChatStream, StreamDelta, TextStream};
pub use crate::partial_json::parse_partial_json;
pub use crate::usage::TokenUsage;

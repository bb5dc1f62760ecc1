//! The conversation API: what [`Client::chat`](crate::Client::chat) takes and gives back. A
//! [`Chat`] holds a [`Conversation`] and its settings; [`check`] decides what the pages of its
//! endpoint take; [`write`] writes it in each dialect.

mod builder;
mod check;
pub(crate) mod conversation;
mod settings;
pub(crate) mod shape;
pub(crate) mod write;

pub use self::builder::Chat;
pub use self::conversation::{Cache, Content, Conversation, Image, Part, ToolUse, Turn};
pub use self::settings::{ReasoningSettings, Sampling, ThinkingDisplay, ThinkingMode, Unsupported};
pub use crate::completion::{Completion, StopReason};
pub use crate::completions::stream::{ChatStream, StreamDelta, TextStream};
pub use crate::partial_json::parse_partial_json;
pub use crate::usage::TokenUsage;

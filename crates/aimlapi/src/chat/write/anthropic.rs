//! The Anthropic-style dialect (the Messages endpoint, and the chat pages that write blocks): a
//! top-level `system`, `user` and `assistant` turns of content blocks, tool calls as `tool_use`
//! blocks and results as `tool_result` blocks in a user turn.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{call_input, element, last_written, only_text, Marks, TextBlock};
use crate::chat::conversation::{Cache, Image, Part, ToolUse, Turn};

struct AnthropicDocument<'a> {
    media_type: &'a str,
    data: &'a str,
}

impl Serialize for AnthropicDocument<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Source<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            media_type: &'a str,
            data: &'a str,
        }
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "document")?;
        map.serialize_entry(
            "source",
            &Source {
                kind: "base64",
                media_type: self.media_type,
                data: self.data,
            },
        )?;
        map.end()
    }
}

pub(super) struct AnthropicMessages<'a>(pub(super) Marks<'a>);

/// A turn with its breakpoint.
type MarkedTurn<'a> = (&'a Turn, Option<Cache>);

/// One Anthropic-style message: consecutive user turns and tool results make one `user` message
/// (the dialect alternates roles, and tool results go in a user turn).
enum AnthropicMessage<'a> {
    User(Vec<MarkedTurn<'a>>),
    Assistant(&'a [Part], &'a [ToolUse], Option<Cache>),
}

impl Serialize for AnthropicMessages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        self.elements(&mut seq)?;
        seq.end()
    }
}

impl AnthropicMessages<'_> {
    /// Writes the messages into `seq`.
    pub(super) fn elements<Q: SerializeSeq>(&self, seq: &mut Q) -> Result<(), Q::Error> {
        let marks = self.0;
        let mut messages: Vec<AnthropicMessage<'_>> = Vec::new();
        for (index, turn) in marks.conversation.turns().iter().enumerate() {
            let ttl = marks.turn(index);
            match turn {
                Turn::Assistant {
                    content,
                    tool_calls,
                } => messages.push(AnthropicMessage::Assistant(content, tool_calls, ttl)),
                // Written in the top-level `system` (see `SystemBlocks`).
                Turn::System(_) => {}
                _ => match messages.last_mut() {
                    Some(AnthropicMessage::User(turns)) => turns.push((turn, ttl)),
                    _ => messages.push(AnthropicMessage::User(vec![(turn, ttl)])),
                },
            }
        }
        messages.iter().try_for_each(|m| seq.serialize_element(m))
    }
}

impl Serialize for AnthropicMessage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            AnthropicMessage::User(turns) => {
                map.serialize_entry("role", "user")?;
                match turns.as_slice() {
                    [(Turn::User(parts), None)] if only_text(parts).is_some() => {
                        map.serialize_entry("content", &only_text(parts))?
                    }
                    _ => map.serialize_entry("content", &AnthropicUserBlocks(turns))?,
                }
            }
            AnthropicMessage::Assistant(content, calls, ttl) => {
                map.serialize_entry("role", "assistant")?;
                match (only_text(content), calls.is_empty() && ttl.is_none()) {
                    (Some(text), true) => map.serialize_entry("content", text)?,
                    _ => map.serialize_entry(
                        "content",
                        &AnthropicAssistantBlocks(content, calls, *ttl),
                    )?,
                }
            }
        }
        map.end()
    }
}

struct AnthropicUserBlocks<'a, 'b>(&'b [MarkedTurn<'a>]);

impl Serialize for AnthropicUserBlocks<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for (turn, mark) in self.0 {
            match turn {
                Turn::User(parts) => {
                    let last = last_written(parts);
                    for (i, part) in parts.iter().enumerate() {
                        let ttl = mark.filter(|_| Some(i) == last);
                        match part {
                            Part::Text(text) => element(&mut seq, &TextBlock { text }, ttl)?,
                            Part::Image(image) => element(&mut seq, &AnthropicImage(image), ttl)?,
                            Part::Document { media_type, data } => {
                                element(&mut seq, &AnthropicDocument { media_type, data }, ttl)?
                            }
                            Part::Block(block) => element(&mut seq, block, ttl)?,
                            Part::Thinking { .. }
                            | Part::RedactedThinking { .. }
                            | Part::ReasoningDetails(_) => {}
                        }
                    }
                }
                Turn::ToolResult {
                    call_id,
                    content,
                    is_error,
                } => element(
                    &mut seq,
                    &ToolResultBlock {
                        call_id,
                        content,
                        is_error: *is_error,
                    },
                    *mark,
                )?,
                Turn::Assistant { .. } | Turn::System(_) => {}
            }
        }
        seq.end()
    }
}

struct AnthropicImage<'a>(&'a Image);

impl Serialize for AnthropicImage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Source<'a> {
            Url { url: &'a str },
            Base64 { media_type: &'a str, data: &'a str },
        }
        let source = match self.0 {
            Image::Url(url) => Source::Url { url },
            Image::Base64 { media_type, data } => Source::Base64 { media_type, data },
        };
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "image")?;
        map.serialize_entry("source", &source)?;
        map.end()
    }
}

struct ToolResultBlock<'a> {
    call_id: &'a str,
    content: &'a str,
    is_error: bool,
}

impl Serialize for ToolResultBlock<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", "tool_result")?;
        map.serialize_entry("tool_use_id", self.call_id)?;
        map.serialize_entry("content", self.content)?;
        if self.is_error {
            map.serialize_entry("is_error", &true)?;
        }
        map.end()
    }
}

/// An assistant turn's blocks; the last (its last tool call, else its last part) carries the
/// turn's breakpoint.
struct AnthropicAssistantBlocks<'a>(&'a [Part], &'a [ToolUse], Option<Cache>);

impl Serialize for AnthropicAssistantBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let last_part = self
            .0
            .iter()
            .rposition(|p| !matches!(p, Part::ReasoningDetails(_)))
            .filter(|_| self.1.is_empty());
        for (i, part) in self.0.iter().enumerate() {
            let ttl = self.2.filter(|_| Some(i) == last_part);
            match part {
                Part::Text(text) => element(&mut seq, &TextBlock { text }, ttl)?,
                Part::Thinking { text, signature } => {
                    #[derive(Serialize)]
                    struct ThinkingBlock<'a> {
                        #[serde(rename = "type")]
                        kind: &'static str,
                        thinking: &'a str,
                        signature: &'a str,
                    }
                    seq.serialize_element(&ThinkingBlock {
                        kind: "thinking",
                        thinking: text,
                        signature: signature.as_deref().unwrap_or_default(),
                    })?
                }
                Part::RedactedThinking { data } => {
                    #[derive(Serialize)]
                    struct RedactedBlock<'a> {
                        #[serde(rename = "type")]
                        kind: &'static str,
                        data: &'a str,
                    }
                    seq.serialize_element(&RedactedBlock {
                        kind: "redacted_thinking",
                        data,
                    })?
                }
                Part::Image(image) => element(&mut seq, &AnthropicImage(image), ttl)?,
                Part::Document { media_type, data } => {
                    element(&mut seq, &AnthropicDocument { media_type, data }, ttl)?
                }
                // As it came: the model's server tool calls and results, cited text, types
                // not named here.
                Part::Block(block) => element(&mut seq, block, ttl)?,
                Part::ReasoningDetails(_) => {}
            }
        }
        for (i, call) in self.1.iter().enumerate() {
            let ttl = self.2.filter(|_| i + 1 == self.1.len());
            let input = call_input(&call.arguments);
            #[derive(Serialize)]
            struct ToolUseBlock<'a> {
                #[serde(rename = "type")]
                kind: &'static str,
                id: &'a str,
                name: &'a str,
                input: serde_json::Map<String, Value>,
            }
            element(
                &mut seq,
                &ToolUseBlock {
                    kind: "tool_use",
                    id: &call.id,
                    name: &call.name,
                    input,
                },
                ttl,
            )?;
        }
        seq.end()
    }
}

/// The top-level `system` when the conversation has system messages among its turns: the
/// prompt (with its breakpoint), then each of them, as text blocks.
pub(super) struct SystemBlocks<'a>(pub(super) Marks<'a>);

impl Serialize for SystemBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0.conversation;
        let mut seq = s.serialize_seq(None)?;
        if let Some(prompt) = c.system_prompt() {
            element(&mut seq, &TextBlock { text: prompt }, self.0.system())?;
        }
        for text in c.system_messages() {
            seq.serialize_element(&TextBlock { text })?;
        }
        seq.end()
    }
}

//! The OpenAI-style dialect: `system`, `user`, `assistant` and `tool` messages, content parts,
//! tool calls as `function` calls with their arguments as text.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{
    call_arguments, element, joined_text, last_written, only_text, Marks, TextBlock, TextContent,
    Url,
};
use crate::chat::conversation::{Cache, Image, Part, ToolUse, Turn};

/// The messages, and whether assistant messages carry `reasoning_details`.
pub(super) struct OpenAiMessages<'a>(pub(super) Marks<'a>, pub(super) bool);

impl Serialize for OpenAiMessages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        self.elements(&mut seq)?;
        seq.end()
    }
}

impl OpenAiMessages<'_> {
    /// Writes the messages into `seq`.
    pub(super) fn elements<Q: SerializeSeq>(&self, seq: &mut Q) -> Result<(), Q::Error> {
        let marks = self.0;
        let c = marks.conversation;
        #[derive(Serialize)]
        struct System<'a> {
            role: &'static str,
            content: TextContent<'a>,
        }
        if let Some(system) = c.system_prompt() {
            seq.serialize_element(&System {
                role: "system",
                content: TextContent(system, marks.system()),
            })?;
        }
        for (index, turn) in c.turns().iter().enumerate() {
            let ttl = marks.turn(index);
            match turn {
                Turn::User(parts) => seq.serialize_element(&OpenAiUser(parts, ttl))?,
                Turn::System(text) => seq.serialize_element(&System {
                    role: "system",
                    content: TextContent(text, ttl),
                })?,
                Turn::Assistant {
                    content,
                    tool_calls,
                } => seq.serialize_element(&OpenAiAssistant {
                    content,
                    tool_calls,
                    ttl,
                    details: self.1,
                })?,
                Turn::ToolResult {
                    call_id, content, ..
                } => seq.serialize_element(&OpenAiToolResult {
                    call_id,
                    content,
                    ttl,
                })?,
            }
        }
        Ok(())
    }
}

struct OpenAiUser<'a>(&'a [Part], Option<Cache>);

impl Serialize for OpenAiUser<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("role", "user")?;
        match only_text(self.0).filter(|_| self.1.is_none()) {
            Some(text) => map.serialize_entry("content", text)?,
            None => map.serialize_entry("content", &OpenAiParts(self.0, self.1))?,
        }
        map.end()
    }
}

/// User content parts; the last written one carries the turn's breakpoint.
struct OpenAiParts<'a>(&'a [Part], Option<Cache>);

impl Serialize for OpenAiParts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let last = last_written(self.0);
        for (i, part) in self.0.iter().enumerate() {
            let ttl = self.1.filter(|_| Some(i) == last);
            match part {
                Part::Text(text) => element(&mut seq, &TextBlock { text }, ttl)?,
                Part::Image(image) => element(&mut seq, &OpenAiImage(image), ttl)?,
                Part::Document { media_type, data } => {
                    element(&mut seq, &OpenAiFile { media_type, data }, ttl)?
                }
                Part::Block(block) => element(&mut seq, block, ttl)?,
                Part::Thinking { .. }
                | Part::RedactedThinking { .. }
                | Part::ReasoningDetails(_) => {}
            }
        }
        seq.end()
    }
}

struct OpenAiImage<'a>(&'a Image);

impl Serialize for OpenAiImage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let url = match self.0 {
            Image::Url(url) => std::borrow::Cow::Borrowed(url.as_str()),
            Image::Base64 { media_type, data } => {
                std::borrow::Cow::Owned(format!("data:{media_type};base64,{data}"))
            }
        };
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "image_url")?;
        map.serialize_entry("image_url", &Url { url: &url })?;
        map.end()
    }
}

struct OpenAiFile<'a> {
    media_type: &'a str,
    data: &'a str,
}

impl Serialize for OpenAiFile<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct File {
            file_data: String,
        }
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "file")?;
        map.serialize_entry(
            "file",
            &File {
                file_data: format!("data:{};base64,{}", self.media_type, self.data),
            },
        )?;
        map.end()
    }
}

struct OpenAiAssistant<'a> {
    content: &'a [Part],
    tool_calls: &'a [ToolUse],
    ttl: Option<Cache>,
    /// Whether `reasoning_details` are written.
    details: bool,
}

impl Serialize for OpenAiAssistant<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", "assistant")?;
        // No text beside tool calls: no `content` (the pages' schemas take no `null` there).
        match joined_text(self.content) {
            Some(text) => map.serialize_entry("content", &TextContent(&text, self.ttl))?,
            None if self.tool_calls.is_empty() => map.serialize_entry("content", "")?,
            None => {}
        }
        if !self.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &OpenAiToolCalls(self.tool_calls))?;
        }
        // OpenRouter's reasoning, with its signatures, as it came.
        if self.details {
            let details: Vec<&serde_json::Value> = self
                .content
                .iter()
                .filter_map(|p| match p {
                    Part::ReasoningDetails(d) => Some(d),
                    _ => None,
                })
                .flatten()
                .collect();
            if !details.is_empty() {
                map.serialize_entry("reasoning_details", &details)?;
            }
        }
        map.end()
    }
}

struct OpenAiToolCalls<'a>(&'a [ToolUse]);

impl Serialize for OpenAiToolCalls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: std::borrow::Cow<'a, str>,
        }
        #[derive(Serialize)]
        struct Call<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            function: Function<'a>,
        }
        s.collect_seq(self.0.iter().map(|c| Call {
            id: &c.id,
            kind: "function",
            function: Function {
                name: &c.name,
                arguments: call_arguments(&c.arguments),
            },
        }))
    }
}

struct OpenAiToolResult<'a> {
    call_id: &'a str,
    content: &'a str,
    ttl: Option<Cache>,
}

impl Serialize for OpenAiToolResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("role", "tool")?;
        map.serialize_entry("tool_call_id", self.call_id)?;
        map.serialize_entry("content", &TextContent(self.content, self.ttl))?;
        map.end()
    }
}

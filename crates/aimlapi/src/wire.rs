//! A [`Conversation`] written as a request body, in the shape the model's page takes: OpenAI-style
//! chat messages, or Anthropic-style content blocks on the chat endpoint. Serialized straight to
//! the body, without an intermediate JSON value.

use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::conversation::{Conversation, Image, Part, ToolCall, Turn};
use crate::error::Error;
use crate::model::Model;
use crate::provider::ProviderKind;

/// How a body writes messages, tools and sampling options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `system`/`user`/`assistant`/`tool` messages; `stop`.
    OpenAi,
    /// A top-level `system`; `user`/`assistant` turns of content blocks; `stop_sequences`,
    /// `top_k`, `thinking`.
    Anthropic,
    /// The Anthropic shape sent to the Messages endpoint (which takes images by URL too).
    Messages,
}

impl Shape {
    /// The shape `model`'s page takes on `provider`: OpenRouter's own body there; the page's
    /// request type on the AI/ML API (the hybrid body in its Anthropic form); the OpenAI-style
    /// chat shape for a model no page lists.
    pub(crate) fn of(model: &Model, provider: ProviderKind) -> Shape {
        if provider == ProviderKind::OpenRouter {
            return Shape::OpenAi;
        }
        match model.page().and_then(|p| p.request) {
            Some("AnthropicChatRequest" | "HybridChatRequest") => Shape::Anthropic,
            _ => Shape::OpenAi,
        }
    }

    /// The property the stop sequences go in.
    fn stop_property(self) -> &'static str {
        match self {
            Shape::OpenAi => "stop",
            Shape::Anthropic | Shape::Messages => "stop_sequences",
        }
    }

    /// Whether images can go by URL (the Anthropic-style chat pages take base64 only).
    fn takes_image_urls(self, model: &Model) -> bool {
        match self {
            Shape::OpenAi => true,
            Shape::Anthropic => model.page().and_then(|p| p.request) == Some("HybridChatRequest"),
            Shape::Messages => true,
        }
    }
}

/// Sampling and length settings of a request; each is sent only when set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sampling {
    /// `temperature`.
    pub temperature: Option<f64>,
    /// `top_p`.
    pub top_p: Option<f64>,
    /// `top_k` (Anthropic-style pages).
    pub top_k: Option<u64>,
    /// `max_tokens`.
    pub max_tokens: Option<u64>,
    /// Stop sequences: `stop` (OpenAI style) or `stop_sequences` (Anthropic style).
    pub stop: Vec<String>,
    /// Extended thinking with this budget of tokens: `thinking: {type: "enabled", budget_tokens}`.
    pub thinking_budget: Option<u64>,
}

impl Sampling {
    /// Each setting that is set, by the property name it has in `shape`.
    fn set(&self, shape: Shape) -> impl Iterator<Item = &'static str> + '_ {
        let stop = shape.stop_property();
        [
            ("temperature", self.temperature.is_some()),
            ("top_p", self.top_p.is_some()),
            ("top_k", self.top_k.is_some()),
            ("max_tokens", self.max_tokens.is_some()),
            (stop, !self.stop.is_empty()),
            ("thinking", self.thinking_budget.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
    }

    fn clear(&mut self, property: &str) {
        match property {
            "temperature" => self.temperature = None,
            "top_p" => self.top_p = None,
            "top_k" => self.top_k = None,
            "max_tokens" => self.max_tokens = None,
            "stop" | "stop_sequences" => self.stop.clear(),
            "thinking" => self.thinking_budget = None,
            _ => {}
        }
    }
}

/// What to do with a setting the model's page does not take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unsupported {
    /// Refuse the request before sending ([`Error::Unsupported`]). The default.
    #[default]
    Refuse,
    /// Leave the setting out and send the rest.
    Drop,
    /// Send it anyway (the page may be wrong).
    Send,
}

/// A request body: a conversation in a shape, with the model id as it goes out.
pub(crate) struct Body<'a> {
    pub(crate) model: &'a str,
    pub(crate) conversation: &'a Conversation,
    pub(crate) sampling: &'a Sampling,
    pub(crate) tools: &'a [Value],
    pub(crate) shape: Shape,
    pub(crate) stream: bool,
}

/// Checks what `shape` can carry and what the model's page takes; returns the sampling to send
/// (a copy only when settings are dropped).
pub(crate) fn checked<'s>(
    model: &Model,
    shape: Shape,
    conversation: &Conversation,
    sampling: &'s Sampling,
    unsupported: Unsupported,
) -> Result<std::borrow::Cow<'s, Sampling>, Error> {
    let cannot = |what: String| Error::CannotWrite {
        model: model.id().to_string(),
        what,
    };
    for turn in conversation.turns() {
        match turn {
            Turn::User(parts) => {
                for part in parts {
                    if let Part::Image(Image::Url(_)) = part {
                        if !shape.takes_image_urls(model) {
                            return Err(cannot(
                                "an image by URL: its page takes images as base64 only".into(),
                            ));
                        }
                    }
                }
            }
            Turn::Assistant { tool_calls, .. } if shape != Shape::OpenAi => {
                for call in tool_calls {
                    if serde_json::from_str::<serde_json::Map<String, Value>>(&call.arguments)
                        .is_err()
                    {
                        return Err(cannot(format!(
                            "the arguments of tool call `{}`: they are not a JSON object",
                            call.id
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(budget) = sampling.thinking_budget {
        // Anthropic's bounds: at least 1,024 tokens, and fewer than `max_tokens`.
        if budget < 1024 {
            return Err(Error::InvalidRequest(format!(
                "thinking needs a budget of at least 1024 tokens, not {budget}"
            )));
        }
        if let Some(max) = sampling.max_tokens.filter(|max| budget >= *max) {
            return Err(Error::InvalidRequest(format!(
                "the thinking budget ({budget} tokens) must be below max_tokens ({max})"
            )));
        }
    }
    let Some(page) = model.page().filter(|_| unsupported != Unsupported::Send) else {
        return Ok(std::borrow::Cow::Borrowed(sampling));
    };
    // `thinking` goes as `{type: "enabled", budget_tokens}`: the page must take that variant.
    let takes = |p: &str| match p {
        "thinking" => page.accepts(p) && page.thinking.contains(&"enabled"),
        _ => page.accepts(p),
    };
    let refused: Vec<&str> = sampling.set(shape).filter(|p| !takes(p)).collect();
    match (refused.first(), unsupported) {
        (None, _) => Ok(std::borrow::Cow::Borrowed(sampling)),
        (Some(property), Unsupported::Refuse) => Err(Error::Unsupported {
            model: model.id().to_string(),
            property: property.to_string(),
            page: page.page,
        }),
        _ => {
            let mut kept = sampling.clone();
            for property in refused {
                kept.clear(property);
            }
            Ok(std::borrow::Cow::Owned(kept))
        }
    }
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        let c = self.conversation;
        match self.shape {
            Shape::OpenAi => map.serialize_entry("messages", &OpenAiMessages(c))?,
            Shape::Anthropic | Shape::Messages => {
                if let Some(system) = c.system_prompt() {
                    map.serialize_entry("system", system)?;
                }
                map.serialize_entry("messages", &AnthropicMessages(c))?;
            }
        }
        let o = self.sampling;
        if let Some(v) = o.temperature {
            map.serialize_entry("temperature", &v)?;
        }
        if let Some(v) = o.top_p {
            map.serialize_entry("top_p", &v)?;
        }
        if let Some(v) = o.top_k {
            map.serialize_entry("top_k", &v)?;
        }
        if let Some(v) = o.max_tokens {
            map.serialize_entry("max_tokens", &v)?;
        }
        if !o.stop.is_empty() {
            map.serialize_entry(self.shape.stop_property(), &o.stop)?;
        }
        if let Some(budget) = o.thinking_budget {
            map.serialize_entry("thinking", &Thinking(budget))?;
        }
        if !self.tools.is_empty() {
            map.serialize_entry("tools", self.tools)?;
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
        }
        map.end()
    }
}

struct Thinking(u64);

impl Serialize for Thinking {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "enabled")?;
        map.serialize_entry("budget_tokens", &self.0)?;
        map.end()
    }
}

/// The text parts of `parts`, joined, when there is any.
fn joined_text(parts: &[Part]) -> Option<String> {
    let mut texts = parts.iter().filter_map(|p| match p {
        Part::Text(t) => Some(t.as_str()),
        _ => None,
    });
    let first = texts.next()?;
    Some(texts.fold(first.to_string(), |mut all, t| {
        all.push_str(t);
        all
    }))
}

/// A single text part, which both dialects write as a plain string.
fn only_text(parts: &[Part]) -> Option<&str> {
    match parts {
        [Part::Text(t)] => Some(t),
        _ => None,
    }
}

struct OpenAiMessages<'a>(&'a Conversation);

impl Serialize for OpenAiMessages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut seq = s.serialize_seq(None)?;
        if let Some(system) = c.system_prompt() {
            seq.serialize_element(&Message {
                role: "system",
                content: system,
            })?;
        }
        for turn in c.turns() {
            match turn {
                Turn::User(parts) => seq.serialize_element(&OpenAiUser(parts))?,
                Turn::Assistant {
                    content,
                    tool_calls,
                } => seq.serialize_element(&OpenAiAssistant {
                    content,
                    tool_calls,
                })?,
                Turn::ToolResult {
                    call_id, content, ..
                } => seq.serialize_element(&OpenAiToolResult { call_id, content })?,
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

struct OpenAiUser<'a>(&'a [Part]);

impl Serialize for OpenAiUser<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("role", "user")?;
        match only_text(self.0) {
            Some(text) => map.serialize_entry("content", text)?,
            None => map.serialize_entry("content", &OpenAiParts(self.0))?,
        }
        map.end()
    }
}

struct OpenAiParts<'a>(&'a [Part]);

impl Serialize for OpenAiParts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for part in self.0 {
            match part {
                Part::Text(text) => seq.serialize_element(&TextBlock { text })?,
                Part::Image(image) => seq.serialize_element(&OpenAiImage(image))?,
                Part::Document { media_type, data } => {
                    seq.serialize_element(&OpenAiFile { media_type, data })?
                }
                Part::Thinking { .. } | Part::RedactedThinking { .. } => {}
            }
        }
        seq.end()
    }
}

struct TextBlock<'a> {
    text: &'a str,
}

impl Serialize for TextBlock<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "text")?;
        map.serialize_entry("text", self.text)?;
        map.end()
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

#[derive(Serialize)]
struct Url<'a> {
    url: &'a str,
}

struct OpenAiAssistant<'a> {
    content: &'a [Part],
    tool_calls: &'a [ToolCall],
}

impl Serialize for OpenAiAssistant<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", "assistant")?;
        // No text beside tool calls: no `content` (the pages' schemas take no `null` there).
        match joined_text(self.content) {
            Some(text) => map.serialize_entry("content", &text)?,
            None if self.tool_calls.is_empty() => map.serialize_entry("content", "")?,
            None => {}
        }
        if !self.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &OpenAiToolCalls(self.tool_calls))?;
        }
        map.end()
    }
}

struct OpenAiToolCalls<'a>(&'a [ToolCall]);

impl Serialize for OpenAiToolCalls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: &'a str,
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
                arguments: &c.arguments,
            },
        }))
    }
}

struct OpenAiToolResult<'a> {
    call_id: &'a str,
    content: &'a str,
}

impl Serialize for OpenAiToolResult<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("role", "tool")?;
        map.serialize_entry("tool_call_id", self.call_id)?;
        map.serialize_entry("content", self.content)?;
        map.end()
    }
}

struct AnthropicMessages<'a>(&'a Conversation);

/// One Anthropic-style message: consecutive user turns and tool results make one `user` message
/// (the dialect alternates roles, and tool results go in a user turn).
enum AnthropicMessage<'a> {
    User(Vec<&'a Turn>),
    Assistant(&'a [Part], &'a [ToolCall]),
}

impl Serialize for AnthropicMessages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut messages: Vec<AnthropicMessage<'_>> = Vec::new();
        for turn in self.0.turns() {
            match turn {
                Turn::Assistant {
                    content,
                    tool_calls,
                } => messages.push(AnthropicMessage::Assistant(content, tool_calls)),
                _ => match messages.last_mut() {
                    Some(AnthropicMessage::User(turns)) => turns.push(turn),
                    _ => messages.push(AnthropicMessage::User(vec![turn])),
                },
            }
        }
        s.collect_seq(messages)
    }
}

impl Serialize for AnthropicMessage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            AnthropicMessage::User(turns) => {
                map.serialize_entry("role", "user")?;
                match turns.as_slice() {
                    [Turn::User(parts)] if only_text(parts).is_some() => {
                        map.serialize_entry("content", &only_text(parts))?
                    }
                    _ => map.serialize_entry("content", &AnthropicUserBlocks(turns))?,
                }
            }
            AnthropicMessage::Assistant(content, calls) => {
                map.serialize_entry("role", "assistant")?;
                match (only_text(content), calls.is_empty()) {
                    (Some(text), true) => map.serialize_entry("content", text)?,
                    _ => {
                        map.serialize_entry("content", &AnthropicAssistantBlocks(content, calls))?
                    }
                }
            }
        }
        map.end()
    }
}

struct AnthropicUserBlocks<'a, 'b>(&'b [&'a Turn]);

impl Serialize for AnthropicUserBlocks<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for turn in self.0 {
            match turn {
                Turn::User(parts) => {
                    for part in parts {
                        match part {
                            Part::Text(text) => seq.serialize_element(&TextBlock { text })?,
                            Part::Image(image) => seq.serialize_element(&AnthropicImage(image))?,
                            Part::Document { media_type, data } => {
                                seq.serialize_element(&AnthropicDocument { media_type, data })?
                            }
                            Part::Thinking { .. } | Part::RedactedThinking { .. } => {}
                        }
                    }
                }
                Turn::ToolResult {
                    call_id,
                    content,
                    is_error,
                } => seq.serialize_element(&ToolResultBlock {
                    call_id,
                    content,
                    is_error: *is_error,
                })?,
                Turn::Assistant { .. } => {}
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

struct AnthropicAssistantBlocks<'a>(&'a [Part], &'a [ToolCall]);

impl Serialize for AnthropicAssistantBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for part in self.0 {
            match part {
                Part::Text(text) => seq.serialize_element(&TextBlock { text })?,
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
                Part::Image(image) => seq.serialize_element(&AnthropicImage(image))?,
                Part::Document { media_type, data } => {
                    seq.serialize_element(&AnthropicDocument { media_type, data })?
                }
            }
        }
        for call in self.1 {
            let input: serde_json::Map<String, Value> =
                serde_json::from_str(&call.arguments).map_err(S::Error::custom)?;
            #[derive(Serialize)]
            struct ToolUse<'a> {
                #[serde(rename = "type")]
                kind: &'static str,
                id: &'a str,
                name: &'a str,
                input: serde_json::Map<String, Value>,
            }
            seq.serialize_element(&ToolUse {
                kind: "tool_use",
                id: &call.id,
                name: &call.name,
                input,
            })?;
        }
        seq.end()
    }
}

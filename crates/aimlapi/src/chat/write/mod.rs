//! A [`Conversation`] written as a request body, in the shape its endpoint and the model's page
//! take: OpenAI-style chat messages ([`openai`]), or Anthropic-style content blocks
//! ([`anthropic`]) on the chat endpoint and the Messages endpoint. Serialized straight to the
//! body, without an intermediate JSON value. What both dialects share is here.

mod anthropic;
mod openai;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use self::anthropic::AnthropicMessages;
use self::openai::OpenAiMessages;
use super::conversation::{Cache, CacheControl, Conversation, Part};
use super::settings::{Sampling, ThinkingDisplay, ThinkingMode};
use super::shape::{stop_property, writes_blocks};
use aimlapi_types::WireShape;

/// Whether a stream in `shape` to `model` asks for its usage: on a chat page that takes
/// `stream_options`, unless the caller sets `stream_options` (theirs goes out instead). The AI/ML
/// API sends usage anyway; an OpenAI-compatible proxy in front of it sends none unless asked.
pub(crate) fn asks_stream_usage(
    shape: WireShape,
    model: &crate::model::Model,
    options: &aimlapi_client::RequestOptions,
) -> bool {
    !shape.is_messages()
        && !options.extra_body.contains_key("stream_options")
        && model.page().is_some_and(|p| p.accepts("stream_options"))
}

/// `{"include_usage": true}`: the `stream_options` a stream asks for its usage with.
pub(crate) fn include_usage() -> Value {
    serde_json::json!({"include_usage": true})
}

/// A request body: a conversation in a shape, with the model id as it goes out.
pub(crate) struct Body<'a> {
    pub(crate) model: &'a str,
    pub(crate) conversation: &'a Conversation,
    pub(crate) sampling: &'a Sampling,
    pub(crate) tools: &'a [Value],
    pub(crate) shape: WireShape,
    pub(crate) stream: bool,
    /// Whether the conversation's cache breakpoints are written (not when they are dropped).
    pub(crate) cache: bool,
    /// Whether `stream_options: {include_usage: true}` is written (a stream to a page that
    /// takes it).
    pub(crate) ask_usage: bool,
}

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        let c = self.conversation;
        let marks = Marks {
            conversation: c,
            on: self.cache,
        };
        if writes_blocks(self.shape) {
            if c.system_messages().next().is_some() {
                map.serialize_entry("system", &anthropic::SystemBlocks(marks))?;
            } else if let Some(system) = c.system_prompt() {
                map.serialize_entry("system", &TextContent(system, marks.system()))?;
            }
            map.serialize_entry("messages", &AnthropicMessages(marks))?;
        } else {
            let details = takes_reasoning_details(self.shape);
            map.serialize_entry("messages", &OpenAiMessages(marks, details))?;
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
            map.serialize_entry(stop_property(self.shape), &o.stop)?;
        }
        if let Some(thinking) = o.thinking {
            map.serialize_entry(
                "thinking",
                &ThinkingObject {
                    thinking,
                    display: o.thinking_display,
                },
            )?;
        }
        if !o.fallback_models.is_empty() {
            map.serialize_entry("models", &o.fallback_models)?;
        }
        if let Some(reasoning) = &o.reasoning {
            map.serialize_entry("reasoning", reasoning)?;
        }
        if !self.tools.is_empty() {
            map.serialize_entry("tools", self.tools)?;
        }
        if let Some(choice) = &o.tool_choice {
            let blocks = writes_blocks(self.shape);
            map.serialize_entry("tool_choice", &choice.written(blocks))?;
            if !blocks && !choice.is_parallel() {
                map.serialize_entry("parallel_tool_calls", &false)?;
            }
        }
        for (name, value) in &o.properties {
            map.serialize_entry(name, value)?;
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
        }
        if self.ask_usage {
            map.serialize_entry("stream_options", &include_usage())?;
        }
        map.end()
    }
}

struct ThinkingObject {
    thinking: ThinkingMode,
    display: Option<ThinkingDisplay>,
}

impl Serialize for ThinkingObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", self.thinking.kind())?;
        if let ThinkingMode::Enabled { budget_tokens } = self.thinking {
            map.serialize_entry("budget_tokens", &budget_tokens)?;
        }
        if let Some(display) = self.display {
            map.serialize_entry("display", display.as_str())?;
        }
        map.end()
    }
}

/// A conversation with the cache breakpoints to write (none when they are dropped).
#[derive(Clone, Copy)]
struct Marks<'a> {
    conversation: &'a Conversation,
    on: bool,
}

impl Marks<'_> {
    fn system(self) -> Option<Cache> {
        self.conversation.system_cache().filter(|_| self.on)
    }

    fn turn(self, index: usize) -> Option<Cache> {
        self.conversation.turn_cache(index).filter(|_| self.on)
    }
}

/// A block with a cache breakpoint: the block's fields, then `cache_control`.
struct Marked<'a, T> {
    block: &'a T,
    ttl: Cache,
}

impl<'a, T> Marked<'a, T> {
    fn new(block: &'a T, ttl: Cache) -> Self {
        Marked { block, ttl }
    }
}

impl<T: Serialize> Serialize for Marked<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a, T> {
            #[serde(flatten)]
            block: &'a T,
            cache_control: CacheControl,
        }
        Out {
            block: self.block,
            cache_control: CacheControl(self.ttl),
        }
        .serialize(s)
    }
}

/// Writes `block` into `seq`, with `cache_control` when `ttl` is set.
pub(crate) fn element<Q: SerializeSeq, T: Serialize>(
    seq: &mut Q,
    block: &T,
    ttl: Option<Cache>,
) -> Result<(), Q::Error> {
    match ttl {
        Some(ttl) => seq.serialize_element(&Marked::new(block, ttl)),
        None => seq.serialize_element(block),
    }
}

/// The index of the last part a content array writes (thinking is left out of user content).
pub(crate) fn last_written(parts: &[Part]) -> Option<usize> {
    parts.iter().rposition(|p| {
        !matches!(
            p,
            Part::Thinking { .. } | Part::RedactedThinking { .. } | Part::ReasoningDetails(_)
        )
    })
}

/// The text parts of `parts`, joined, when there is any.
pub(crate) fn joined_text(parts: &[Part]) -> Option<String> {
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
pub(crate) fn only_text(parts: &[Part]) -> Option<&str> {
    match parts {
        [Part::Text(t)] => Some(t),
        _ => None,
    }
}

/// Content that is one text: a string, or, with a breakpoint, one marked text block.
struct TextContent<'a>(&'a str, Option<Cache>);

impl Serialize for TextContent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Some(ttl) => [Marked::new(&TextBlock { text: self.0 }, ttl)].serialize(s),
            None => s.serialize_str(self.0),
        }
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

#[derive(Serialize)]
struct Url<'a> {
    url: &'a str,
}

/// The messages of `conversation` as `shape` writes them, without cache breakpoints, into `seq`:
/// the tool rounds a typed request's loop appends to the request's own messages, written as the
/// conversation path writes them.
#[cfg(feature = "tools")]
pub(crate) fn write_messages<Q: SerializeSeq>(
    seq: &mut Q,
    shape: WireShape,
    conversation: &Conversation,
) -> Result<(), Q::Error> {
    let marks = Marks {
        conversation,
        on: false,
    };
    if writes_blocks(shape) {
        AnthropicMessages(marks).elements(seq)
    } else {
        OpenAiMessages(marks, takes_reasoning_details(shape)).elements(seq)
    }
}

/// Whether an OpenAI-style body of `shape` carries `reasoning_details` on assistant messages:
/// OpenRouter's and the OpenRouter-style pages' (the OpenAI-style pages close their assistant
/// message to fields they do not list).
fn takes_reasoning_details(shape: WireShape) -> bool {
    matches!(shape, WireShape::OpenRouter | WireShape::OpenRouterStyle)
}

/// A tool call's arguments as the object the next request carries: the JSON object the model
/// wrote; `{}` for none (an empty string, which servers send for a tool without parameters);
/// anything else, which is not an object, kept as text under `arguments`. One rule for every
/// dialect and both request paths.
pub(crate) fn call_input(arguments: &str) -> serde_json::Map<String, Value> {
    if arguments.trim().is_empty() {
        return serde_json::Map::new();
    }
    match serde_json::from_str(arguments) {
        Ok(Value::Object(input)) => input,
        _ => serde_json::Map::from_iter([("arguments".to_string(), Value::from(arguments))]),
    }
}

/// A tool call's arguments as OpenAI-style text: as the model wrote them when they are a JSON
/// object, else the text of [`call_input`]'s object.
pub(crate) fn call_arguments(arguments: &str) -> std::borrow::Cow<'_, str> {
    match serde_json::from_str::<serde::de::IgnoredAny>(arguments) {
        Ok(_) if arguments.trim_start().starts_with('{') => std::borrow::Cow::Borrowed(arguments),
        _ => std::borrow::Cow::Owned(Value::Object(call_input(arguments)).to_string()),
    }
}

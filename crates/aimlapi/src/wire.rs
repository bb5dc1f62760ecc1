//! A [`Conversation`] written as a request body, in the shape the model's page takes: OpenAI-style
//! chat messages, or Anthropic-style content blocks on the chat endpoint. Serialized straight to
//! the body, without an intermediate JSON value.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::conversation::{Cache, CacheControl, Conversation, Image, Part, ToolUse, Turn};
use crate::error::Error;
use crate::model::Model;
use crate::provider::ProviderKind;
use crate::types::{ModelPage, WireShape};

/// The shape of `model`'s chat-completions body on `provider`: OpenRouter's own there; on the
/// AI/ML API its page's (a page of the Messages endpoint says nothing of the chat body); the
/// OpenAI shape for a model no page lists.
pub(crate) fn chat_shape(model: &Model, provider: ProviderKind) -> WireShape {
    if provider == ProviderKind::OpenRouter {
        return WireShape::OpenRouter;
    }
    match model.page().map(|p| p.shape) {
        None | Some(WireShape::Messages) => WireShape::OpenAi,
        Some(shape) => shape,
    }
}

/// Whether `shape` writes Anthropic-style turns: a top-level `system`, `user`/`assistant` turns
/// of content blocks, `stop_sequences`, `top_k`, `thinking` (the hybrid pages take both forms and
/// are written in this one).
pub(crate) fn writes_blocks(shape: WireShape) -> bool {
    !matches!(
        shape,
        WireShape::OpenAi | WireShape::OpenRouter | WireShape::OpenRouterStyle
    )
}

/// The property the stop sequences go in.
fn stop_property(shape: WireShape) -> &'static str {
    if writes_blocks(shape) {
        "stop_sequences"
    } else {
        "stop"
    }
}

/// Whether images can go by URL (the Anthropic-style chat pages take base64 only).
fn takes_image_urls(shape: WireShape) -> bool {
    shape != WireShape::Anthropic
}

/// The settings of a request beside its conversation (sampling, length, thinking, OpenRouter's
/// fallbacks and reasoning); each is sent only when set.
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
    /// Extended thinking: `thinking: {type, budget_tokens?}`.
    pub thinking: Option<ThinkingMode>,
    /// Whether thinking is shown or omitted: `thinking.display`.
    pub thinking_display: Option<ThinkingDisplay>,
    /// Models to fall back on, in order (OpenRouter's `models`).
    pub fallback_models: Vec<String>,
    /// OpenRouter's `reasoning` object.
    pub reasoning: Option<ReasoningSettings>,
}

/// OpenRouter's `reasoning` request object: an effort or a budget of tokens, whether to leave
/// the reasoning out of the answer, or reasoning turned on or off.
///
/// ```
/// use aimlapi::chat::ReasoningSettings;
/// use aimlapi::types::ReasoningEffort;
///
/// let r = ReasoningSettings::effort(ReasoningEffort::High).exclude();
/// assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!({"effort": "high", "exclude": true}));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReasoningSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    effort: Option<aimlapi_types::ReasoningEffort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    exclude: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

impl ReasoningSettings {
    /// Reason with this effort (`effort`).
    pub fn effort(effort: aimlapi_types::ReasoningEffort) -> Self {
        ReasoningSettings {
            effort: Some(effort),
            ..Self::default()
        }
    }

    /// Reason with at most this many tokens (`max_tokens`).
    pub fn max_tokens(tokens: u64) -> Self {
        ReasoningSettings {
            max_tokens: Some(tokens),
            ..Self::default()
        }
    }

    /// Reasoning on, at the default effort, or off (`enabled`).
    pub fn enabled(on: bool) -> Self {
        ReasoningSettings {
            enabled: Some(on),
            ..Self::default()
        }
    }

    /// Reason, but leave the reasoning out of the answer (`exclude: true`).
    pub fn exclude(mut self) -> Self {
        self.exclude = true;
        self
    }
}

/// Extended thinking: the reasoning the model does before it answers (`thinking`). A budget of
/// tokens converts into [`ThinkingMode::Enabled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThinkingMode {
    /// `{type: "enabled", budget_tokens}`: think, spending at most this many tokens (at least
    /// 1,024, and fewer than `max_tokens`).
    Enabled {
        /// The most tokens the model may spend thinking.
        budget_tokens: u64,
    },
    /// `{type: "adaptive"}`: the model decides how much to think.
    Adaptive,
    /// `{type: "disabled"}`: no thinking.
    Disabled,
}

impl ThinkingMode {
    /// The `type` as the API writes it: `enabled`, `adaptive` or `disabled`.
    pub fn kind(self) -> &'static str {
        match self {
            ThinkingMode::Enabled { .. } => "enabled",
            ThinkingMode::Adaptive => "adaptive",
            ThinkingMode::Disabled => "disabled",
        }
    }
}

impl From<u64> for ThinkingMode {
    fn from(budget_tokens: u64) -> Self {
        ThinkingMode::Enabled { budget_tokens }
    }
}

/// How the answer shows the model's thinking (`thinking.display`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThinkingDisplay {
    /// A summary of the thinking (`summarized`, the API's default).
    Summarized,
    /// No thinking text: the blocks come back empty, with their signatures (`omitted`).
    Omitted,
}

impl ThinkingDisplay {
    /// The value as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkingDisplay::Summarized => "summarized",
            ThinkingDisplay::Omitted => "omitted",
        }
    }
}

impl Sampling {
    /// Each setting that is set, by the property name it has in `shape`.
    fn set(&self, shape: WireShape) -> impl Iterator<Item = &'static str> + '_ {
        let stop = stop_property(shape);
        [
            ("temperature", self.temperature.is_some()),
            ("top_p", self.top_p.is_some()),
            ("top_k", self.top_k.is_some()),
            ("max_tokens", self.max_tokens.is_some()),
            (stop, !self.stop.is_empty()),
            ("thinking", self.thinking.is_some()),
            ("thinking.display", self.thinking_display.is_some()),
            ("models", !self.fallback_models.is_empty()),
            ("reasoning", self.reasoning.is_some()),
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
            "thinking" => {
                self.thinking = None;
                self.thinking_display = None;
            }
            "thinking.display" => self.thinking_display = None,
            "models" => self.fallback_models.clear(),
            "reasoning" => self.reasoning = None,
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

/// What [`checked`] lets through: the sampling to send (a copy only when settings are dropped)
/// and where cache breakpoints are written.
pub(crate) struct Checked<'s> {
    pub(crate) sampling: std::borrow::Cow<'s, Sampling>,
    /// The conversation's breakpoints (system prompt and turns).
    pub(crate) cache_conversation: bool,
    /// The tools' breakpoints.
    pub(crate) cache_tools: bool,
}

/// Anthropic's limit of cache breakpoints in one request.
const MAX_CACHE_POINTS: usize = 4;

/// Checks what `shape` can carry and what the model's page takes (the Messages page that lists
/// it on that endpoint, else its chat page); `cached_tools` is how many tools carry a cache
/// breakpoint.
pub(crate) fn checked<'s>(
    model: &Model,
    shape: WireShape,
    conversation: &Conversation,
    sampling: &'s Sampling,
    cached_tools: usize,
    unsupported: Unsupported,
) -> Result<Checked<'s>, Error> {
    let cannot = |what: String| Error::CannotWrite {
        model: model.id().to_string(),
        what,
    };
    check_cache_points(model, conversation, cached_tools, shape)?;
    let image_url = |turn: &Turn| match turn {
        Turn::User(parts) => parts
            .iter()
            .any(|p| matches!(p, Part::Image(Image::Url(_)))),
        _ => false,
    };
    if !takes_image_urls(shape) && conversation.turns().iter().any(image_url) {
        return Err(cannot(
            "an image by URL: its page takes images as base64 only".into(),
        ));
    }
    check_thinking(sampling)?;
    let Some(page) = Pages::of(model, shape).filter(|_| unsupported != Unsupported::Send) else {
        return Ok(Checked {
            sampling: std::borrow::Cow::Borrowed(sampling),
            cache_conversation: true,
            cache_tools: true,
        });
    };
    // `thinking` goes as `{type, ...}`: the page must take that variant.
    let takes = |p: &str| match p {
        "thinking" => {
            page.accepts(p)
                && sampling
                    .thinking
                    .is_some_and(|t| page.thinks(t.kind()))
        }
        "thinking.display" => page.accepts("thinking") && page.shows_thinking(),
        _ => page.accepts(p),
    };
    let mut refused: Vec<&str> = sampling.set(shape).filter(|p| !takes(p)).collect();
    // Where the breakpoints go: the system prompt is a top-level `system` in the Anthropic
    // shapes and a message in the OpenAI one.
    let system_place = match shape {
        s if writes_blocks(s) => "system",
        _ => "messages",
    };
    let mut cache_conversation = true;
    for (at, _) in conversation.cache_points() {
        let (place, property) = match at {
            0 => (system_place, "system.cache_control"),
            _ => ("messages", "messages.cache_control"),
        };
        if !page.caches(place) {
            cache_conversation = false;
            refused.push(property);
        }
    }
    let cache_tools = cached_tools == 0 || page.caches("tools");
    if !cache_tools {
        refused.push("tools.cache_control");
    }
    match (refused.first(), unsupported) {
        (None, _) => Ok(Checked {
            sampling: std::borrow::Cow::Borrowed(sampling),
            cache_conversation,
            cache_tools,
        }),
        (Some(property), Unsupported::Refuse) => Err(Error::Unsupported {
            model: model.id().to_string(),
            // A page with `thinking` but not this mode: name the mode.
            property: match sampling.thinking {
                Some(t) if *property == "thinking" && page.accepts("thinking") => {
                    format!("thinking.type: {}", t.kind())
                }
                _ => property.to_string(),
            },
            page: page.name(),
        }),
        _ => {
            let mut kept = sampling.clone();
            for property in refused {
                kept.clear(property);
            }
            Ok(Checked {
                sampling: std::borrow::Cow::Owned(kept),
                cache_conversation,
                cache_tools,
            })
        }
    }
}

/// The pages a request is checked against: on the chat endpoint the model's page; on the
/// Messages endpoint the Messages shape (every Messages page and the batch page, together), its
/// model's Messages page and its chat page when that one writes the same blocks, a property
/// taken when any of them takes it. `None` for a model no page lists: nothing is checked.
#[derive(Clone, Copy)]
pub(crate) struct Pages {
    /// The page a refusal names first.
    first: &'static ModelPage,
    also: [Option<&'static ModelPage>; 2],
}

impl Pages {
    pub(crate) fn of(model: &Model, shape: WireShape) -> Option<Pages> {
        let chat = model.page()?;
        if !shape.is_messages() {
            return Some(Pages {
                first: chat,
                also: [None, None],
            });
        }
        let own = model.messages_page();
        Some(Pages {
            first: own.unwrap_or(&crate::types::MESSAGES_SHAPE),
            also: [
                Some(&crate::types::MESSAGES_SHAPE),
                Some(chat).filter(|p| writes_blocks(p.shape)),
            ],
        })
    }

    fn each(&self) -> impl Iterator<Item = &'static ModelPage> + '_ {
        std::iter::once(self.first).chain(self.also.iter().flatten().copied())
    }

    /// The page's name, for a refusal.
    pub(crate) fn name(&self) -> &'static str {
        self.first.page
    }

    /// Whether a page takes the top-level property `name`.
    pub(crate) fn accepts(&self, name: &str) -> bool {
        self.each().any(|p| p.accepts(name))
    }

    /// Whether a page takes a `cache_control` marker under `name`.
    pub(crate) fn caches(&self, name: &str) -> bool {
        self.each().any(|p| p.caches(name))
    }

    /// Whether a page takes the thinking mode `kind`.
    fn thinks(&self, kind: &str) -> bool {
        self.each().any(|p| p.thinking.contains(&kind))
    }

    /// Whether a page takes `thinking.display`.
    fn shows_thinking(&self) -> bool {
        self.each().any(|p| p.thinking_display)
    }
}

/// Where the conversation's and the tools' cache breakpoints go: each after something, at
/// most four in all, on a block that can carry one.
fn check_cache_points(
    model: &Model,
    conversation: &Conversation,
    cached_tools: usize,
    shape: WireShape,
) -> Result<(), Error> {
    let points = conversation.cache_points();
    if points.len() + cached_tools > MAX_CACHE_POINTS {
        return Err(Error::InvalidRequest(format!(
            "{} cache breakpoints: a request takes at most {MAX_CACHE_POINTS}",
            points.len() + cached_tools
        )));
    }
    for (at, _) in points {
        let Some(index) = at.checked_sub(1) else {
            if conversation.system_prompt().is_none() {
                return Err(Error::InvalidRequest(
                    "a cache breakpoint before any system prompt or turn".into(),
                ));
            }
            continue;
        };
        let carries = match conversation.turns().get(index) {
            None => false,
            // The serializers mark the last part a user turn writes (thinking is left out).
            Some(Turn::User(parts)) => last_written(parts).is_some(),
            Some(Turn::ToolResult { .. }) => true,
            Some(Turn::Assistant {
                content,
                tool_calls,
            }) => {
                if writes_blocks(shape) {
                    !tool_calls.is_empty()
                        || content.last().is_some_and(|p| {
                            !matches!(p, Part::Thinking { .. } | Part::RedactedThinking { .. })
                        })
                } else {
                    // OpenAI-style assistant messages carry it on a text part only.
                    joined_text(content).is_some()
                }
            }
        };
        if !carries {
            return Err(Error::CannotWrite {
                model: model.id().to_string(),
                what: format!(
                    "a cache breakpoint after turn {index}: the turn has no block that can carry one (thinking cannot)"
                ),
            });
        }
    }
    Ok(())
}

/// Anthropic's bounds on `thinking`: a budget of at least 1,024 tokens and fewer than
/// `max_tokens`; `display` only beside thinking that is on.
fn check_thinking(sampling: &Sampling) -> Result<(), Error> {
    if let (None | Some(ThinkingMode::Disabled), Some(display)) =
        (sampling.thinking, sampling.thinking_display)
    {
        return Err(Error::InvalidRequest(format!(
            "thinking display `{}` needs thinking enabled or adaptive",
            display.as_str()
        )));
    }
    if let Some(ThinkingMode::Enabled {
        budget_tokens: budget,
    }) = sampling.thinking
    {
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
    Ok(())
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
            if let Some(system) = c.system_prompt() {
                map.serialize_entry("system", &TextContent(system, marks.system()))?;
            }
            map.serialize_entry("messages", &AnthropicMessages(marks))?;
        } else {
            map.serialize_entry("messages", &OpenAiMessages(marks))?;
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
fn element<Q: SerializeSeq, T: Serialize>(
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
fn last_written(parts: &[Part]) -> Option<usize> {
    parts
        .iter()
        .rposition(|p| !matches!(p, Part::Thinking { .. } | Part::RedactedThinking { .. }))
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

struct OpenAiMessages<'a>(Marks<'a>);

impl Serialize for OpenAiMessages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        self.elements(&mut seq)?;
        seq.end()
    }
}

impl OpenAiMessages<'_> {
    /// Writes the messages into `seq`.
    fn elements<Q: SerializeSeq>(&self, seq: &mut Q) -> Result<(), Q::Error> {
        let marks = self.0;
        let c = marks.conversation;
        if let Some(system) = c.system_prompt() {
            #[derive(Serialize)]
            struct System<'a> {
                role: &'static str,
                content: TextContent<'a>,
            }
            seq.serialize_element(&System {
                role: "system",
                content: TextContent(system, marks.system()),
            })?;
        }
        for (index, turn) in c.turns().iter().enumerate() {
            let ttl = marks.turn(index);
            match turn {
                Turn::User(parts) => seq.serialize_element(&OpenAiUser(parts, ttl))?,
                Turn::Assistant {
                    content,
                    tool_calls,
                } => seq.serialize_element(&OpenAiAssistant {
                    content,
                    tool_calls,
                    ttl,
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
    tool_calls: &'a [ToolUse],
    ttl: Option<Cache>,
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

struct AnthropicMessages<'a>(Marks<'a>);

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
    fn elements<Q: SerializeSeq>(&self, seq: &mut Q) -> Result<(), Q::Error> {
        let marks = self.0;
        let mut messages: Vec<AnthropicMessage<'_>> = Vec::new();
        for (index, turn) in marks.conversation.turns().iter().enumerate() {
            let ttl = marks.turn(index);
            match turn {
                Turn::Assistant {
                    content,
                    tool_calls,
                } => messages.push(AnthropicMessage::Assistant(content, tool_calls, ttl)),
                _ => match messages.last_mut() {
                    Some(AnthropicMessage::User(turns)) => turns.push((turn, ttl)),
                    _ => messages.push(AnthropicMessage::User(vec![(turn, ttl)])),
                },
            }
        }
        messages.iter().try_for_each(|m| seq.serialize_element(m))
    }
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
        OpenAiMessages(marks).elements(seq)
    }
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
fn call_arguments(arguments: &str) -> std::borrow::Cow<'_, str> {
    match serde_json::from_str::<serde::de::IgnoredAny>(arguments) {
        Ok(_) if arguments.trim_start().starts_with('{') => std::borrow::Cow::Borrowed(arguments),
        _ => std::borrow::Cow::Owned(Value::Object(call_input(arguments)).to_string()),
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
                            Part::Thinking { .. } | Part::RedactedThinking { .. } => {}
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

/// An assistant turn's blocks; the last (its last tool call, else its last part) carries the
/// turn's breakpoint.
struct AnthropicAssistantBlocks<'a>(&'a [Part], &'a [ToolUse], Option<Cache>);

impl Serialize for AnthropicAssistantBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        let last_part = self.0.len().checked_sub(1).filter(|_| self.1.is_empty());
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

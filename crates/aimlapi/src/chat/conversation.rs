//! [`Conversation`]: one vocabulary for a conversation, whatever the model's dialect. The client
//! writes it in the request shape of the model's page when it sends it.

/// A conversation: an optional system prompt and the turns so far.
///
/// ```
/// use aimlapi::{Content, Conversation};
///
/// let conversation = Conversation::new()
///     .system("Be brief.")
///     .user(Content::text("What is in this picture?").image_url("https://example.com/cat.png"))
///     .assistant("A cat.")
///     .user("What colour is it?");
/// assert_eq!(conversation.turns().len(), 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversation {
    system: Option<String>,
    turns: Vec<Turn>,
    /// Cache breakpoints: the number of turns there were when each was set (0: the system
    /// prompt), with its lifetime.
    cache_points: Vec<(usize, Cache)>,
}

/// How long the API keeps a cached prompt prefix (Anthropic's prompt caching:
/// `cache_control: {type: "ephemeral", ttl}`). A cache breakpoint caches everything before it:
/// tools, the system prompt, the turns so far. Writing the cache costs more than plain input
/// (1.25 times for five minutes, twice for an hour); reading it costs a tenth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cache {
    /// Five minutes (`ttl: "5m"`), refreshed each time the prefix is read. The default.
    #[default]
    FiveMinutes,
    /// One hour (`ttl: "1h"`).
    OneHour,
}

/// A breakpoint as the API writes it: `cache_control: {type: "ephemeral", ttl}` (on a block, a
/// part or a tool).
pub(crate) struct CacheControl(pub(crate) Cache);

impl serde::Serialize for CacheControl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("type", "ephemeral")?;
        map.serialize_entry("ttl", self.0.ttl())?;
        map.end()
    }
}

impl Cache {
    /// The `ttl` as the API writes it: `5m` or `1h`.
    pub fn ttl(self) -> &'static str {
        match self {
            Cache::FiveMinutes => "5m",
            Cache::OneHour => "1h",
        }
    }
}

/// One turn of a [`Conversation`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Turn {
    /// What the user said: text and images.
    User(Vec<Part>),
    /// What the model said: thinking, text, and the tools it called.
    Assistant {
        /// Thinking and text, in order.
        content: Vec<Part>,
        /// The tool calls it made, in order.
        tool_calls: Vec<ToolUse>,
    },
    /// A system message where the conversation has it: in place in the OpenAI-style dialects;
    /// after the system prompt, in the top-level `system`, in the Anthropic-style ones (which
    /// carry system text nowhere else).
    System(String),
    /// The result of one tool call, for the model to read.
    ToolResult {
        /// The id of the call ([`ToolUse::id`]).
        call_id: String,
        /// What the tool returned, as text (JSON for a structured result).
        content: String,
        /// Whether the tool failed (the content says how).
        is_error: bool,
    },
}

/// A piece of a turn.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text(String),
    /// An image.
    Image(Image),
    /// A document (a PDF or plain text), inline: Anthropic-style pages take it as a `document`
    /// block, OpenAI-style ones as a `file` part. A page without documents (Claude 3.x Sonnet)
    /// refuses it when it arrives.
    Document {
        /// The MIME type: `application/pdf` or `text/plain`.
        media_type: String,
        /// The base64 text.
        data: String,
    },
    /// The model's thinking, kept to be sent back unchanged in the next turn. Dialects without
    /// thinking blocks leave it out.
    Thinking {
        /// The thinking text.
        text: String,
        /// The signature the API gave it, which it checks when the block comes back.
        signature: Option<String>,
    },
    /// Thinking the model keeps hidden (encrypted), kept to be sent back unchanged.
    RedactedThinking {
        /// The encrypted reasoning, as the API gave it.
        data: String,
    },
    /// A content block as it came or as the caller wrote it, sent unchanged: what the model
    /// sent beside text, thinking and tool calls (a server tool's call and its result, text
    /// with `citations`, a type this crate does not name), or a block of the caller's own (a
    /// document by URL, a search result). The dialects that write blocks send it in place; the
    /// OpenAI-style one sends a user's block as a content part and leaves an assistant's out.
    Block(serde_json::Value),
    /// OpenRouter's `reasoning_details` (with their signatures), as they came: sent back on the
    /// assistant message to OpenRouter and the OpenRouter-style pages, left out elsewhere.
    ReasoningDetails(Vec<serde_json::Value>),
}

/// An image, by URL or inline.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Image {
    /// An `https:` (or `data:`) URL the API fetches.
    Url(String),
    /// The image's bytes, base64-encoded, with their MIME type (`image/png`, `image/jpeg`,
    /// `image/gif`, `image/webp`).
    Base64 {
        /// The MIME type.
        media_type: String,
        /// The base64 text.
        data: String,
    },
}

/// A tool call the model made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolUse {
    /// The call's id; the result names it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as JSON text (as the model wrote them).
    pub arguments: String,
}

/// The content of a user or assistant turn: text and images. A `&str` or `String` is one text
/// part.
///
/// ```
/// use aimlapi::Content;
///
/// let content = Content::text("Compare these two.")
///     .image_url("https://example.com/a.png")
///     .image_base64("image/png", "iVBORw0KGgo=");
/// assert_eq!(content.parts().len(), 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Content(Vec<Part>);

impl Content {
    /// Content that starts with `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Content(vec![Part::Text(text.into())])
    }

    /// Adds text.
    pub fn and_text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Part::Text(text.into()));
        self
    }

    /// Adds an image by URL.
    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.0.push(Part::Image(Image::Url(url.into())));
        self
    }

    /// Adds an image inline: its MIME type and its base64 text.
    pub fn image_base64(mut self, media_type: impl Into<String>, data: impl Into<String>) -> Self {
        self.0.push(Part::Image(Image::Base64 {
            media_type: media_type.into(),
            data: data.into(),
        }));
        self
    }

    /// Adds a document inline: its MIME type (`application/pdf`, `text/plain`) and its base64
    /// text.
    pub fn document_base64(
        mut self,
        media_type: impl Into<String>,
        data: impl Into<String>,
    ) -> Self {
        self.0.push(Part::Document {
            media_type: media_type.into(),
            data: data.into(),
        });
        self
    }

    /// Adds a content block as written (see [`Part::Block`]): a document by URL
    /// (`{"type": "document", "source": {"type": "url", "url": ...}}`), a search result, ...
    pub fn block(mut self, block: serde_json::Value) -> Self {
        self.0.push(Part::Block(block));
        self
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[Part] {
        &self.0
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::text(text)
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::text(text)
    }
}

impl From<Vec<Part>> for Content {
    fn from(parts: Vec<Part>) -> Self {
        Content(parts)
    }
}

impl Conversation {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the system prompt.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.system = Some(text.into());
        self
    }

    /// Adds a user turn.
    pub fn user(mut self, content: impl Into<Content>) -> Self {
        self.push(Turn::User(content.into().0));
        self
    }

    /// Adds an assistant turn (an earlier answer).
    pub fn assistant(mut self, content: impl Into<Content>) -> Self {
        self.push(Turn::Assistant {
            content: content.into().0,
            tool_calls: Vec::new(),
        });
        self
    }

    /// Adds a tool call to the last assistant turn, or a new assistant turn with it. `arguments`
    /// is the arguments as JSON.
    pub fn tool_call(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: &serde_json::Value,
    ) -> Self {
        let call = ToolUse {
            id: id.into(),
            name: name.into(),
            arguments: arguments.to_string(),
        };
        match self.turns.last_mut() {
            Some(Turn::Assistant { tool_calls, .. }) => tool_calls.push(call),
            _ => self.push(Turn::Assistant {
                content: Vec::new(),
                tool_calls: vec![call],
            }),
        }
        self
    }

    /// Adds a system message here, between the turns (the prompt set by
    /// [`system`](Self::system) stays first).
    pub fn system_message(mut self, text: impl Into<String>) -> Self {
        self.push(Turn::System(text.into()));
        self
    }

    /// The system messages among the turns, in order.
    pub(crate) fn system_messages(&self) -> impl Iterator<Item = &str> {
        self.turns.iter().filter_map(|t| match t {
            Turn::System(text) => Some(text.as_str()),
            _ => None,
        })
    }

    /// Adds the result of the tool call `call_id`.
    pub fn tool_result(mut self, call_id: impl Into<String>, content: impl Into<String>) -> Self {
        self.push(Turn::ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error: false,
        });
        self
    }

    /// Adds the result of the tool call `call_id` that failed; `content` says how.
    pub fn tool_error(mut self, call_id: impl Into<String>, content: impl Into<String>) -> Self {
        self.push(Turn::ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error: true,
        });
        self
    }

    /// Adds a turn.
    pub fn push(&mut self, turn: Turn) {
        self.turns.push(turn);
    }

    /// Sets a cache breakpoint after what the conversation holds so far: its last turn, or the
    /// system prompt when it has no turns yet. The next request that repeats this prefix reads
    /// it from the cache. Pages that take no `cache_control` there refuse it by default (see
    /// [`Unsupported`](crate::chat::Unsupported)); at most four breakpoints (tools included) go
    /// in one request.
    ///
    /// ```
    /// use aimlapi::chat::Cache;
    /// use aimlapi::Conversation;
    ///
    /// let conversation = Conversation::new()
    ///     .system("You answer questions about the attached handbook: ...")
    ///     .cache(Cache::OneHour)
    ///     .user("What does chapter 2 say?");
    /// assert_eq!(conversation.system_cache(), Some(Cache::OneHour));
    /// ```
    pub fn cache(mut self, ttl: Cache) -> Self {
        self.mark_cache(ttl);
        self
    }

    /// [`cache`](Self::cache) on a conversation held by reference.
    pub fn mark_cache(&mut self, ttl: Cache) {
        let at = self.turns.len();
        self.cache_points.retain(|(point, _)| *point != at);
        self.cache_points.push((at, ttl));
    }

    /// The cache breakpoint on the system prompt, if one is set.
    pub fn system_cache(&self) -> Option<Cache> {
        self.cache_at(0)
    }

    /// The cache breakpoint after turn `index` (counting from 0), if one is set.
    pub fn turn_cache(&self, index: usize) -> Option<Cache> {
        self.cache_at(index.checked_add(1)?)
    }

    fn cache_at(&self, point: usize) -> Option<Cache> {
        self.cache_points
            .iter()
            .find(|(p, _)| *p == point)
            .map(|(_, ttl)| *ttl)
    }

    /// The cache breakpoints: the number of turns before each (0: the system prompt).
    pub(crate) fn cache_points(&self) -> &[(usize, Cache)] {
        &self.cache_points
    }

    /// The system prompt.
    pub fn system_prompt(&self) -> Option<&str> {
        self.system.as_deref()
    }

    /// The turns, in order.
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }
}

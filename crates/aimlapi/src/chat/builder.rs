//! [`Chat`]: a conversation on its way to one model, with sampling settings and options; the
//! front door for every model, dialect and provider (`client.chat(model)`).

use aimlapi_client::RequestOptions;
use aimlapi_types as types;
use reqwest::header::{HeaderName, HeaderValue};

use super::check::{checked, Checked};
use super::settings::{Sampling, ThinkingDisplay, ThinkingMode, Unsupported};
use super::write::Body;
use crate::chat::conversation::{Cache, Content, Conversation, Turn};
use crate::completion::Completion;
use crate::completions::stream::ChatStream;
use crate::completions::stream::ChunkStream;
use crate::error::Error;
use crate::messages::stream::MessageEventStream;
use crate::model::Model;
use crate::telemetry::Operation;
use crate::transport::Transport;
use crate::types::WireShape;

/// A conversation for one model: build it, then [`send`](Self::send) or
/// [`stream`](Self::stream) it. The client writes it in the request shape of the model's page
/// (OpenAI-style messages, Anthropic-style content blocks, OpenRouter's body) and reads every
/// answer as one [`Completion`].
///
/// ```no_run
/// # async fn run() -> Result<(), aimlapi::Error> {
/// let client = aimlapi::Client::from_env()?;
/// let done = client.chat("claude-sonnet-4-5").system("Be brief.").user("Hello").send().await?;
/// println!("{}", done.text().unwrap_or_default());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a chat does nothing until it is sent"]
pub struct Chat {
    transport: Transport,
    model: Model,
    conversation: Conversation,
    sampling: Sampling,
    unsupported: Unsupported,
    options: RequestOptions,
    /// A caller's `X-Client-Request-Id` that no header can carry, refused when sent.
    unsendable_id: Option<String>,
    #[cfg(feature = "tools")]
    tools: Vec<crate::tool_spec::ToolSpec>,
}

impl Chat {
    pub(crate) fn new(transport: Transport, model: Model) -> Self {
        Chat {
            transport,
            model,
            conversation: Conversation::new(),
            sampling: Sampling::default(),
            unsupported: Unsupported::default(),
            options: RequestOptions::default(),
            unsendable_id: None,
            #[cfg(feature = "tools")]
            tools: Vec::new(),
        }
    }

    /// Sets the system prompt.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.conversation = self.conversation.system(text);
        self
    }

    /// Adds a user turn: text (`&str`, `String`) or [`Content`] with images.
    pub fn user(mut self, content: impl Into<Content>) -> Self {
        self.conversation = self.conversation.user(content);
        self
    }

    /// Adds an assistant turn (an earlier answer).
    pub fn assistant(mut self, content: impl Into<Content>) -> Self {
        self.conversation = self.conversation.assistant(content);
        self
    }

    /// Adds a turn (for example [`Completion::turn`], the model's last answer).
    pub fn turn(mut self, turn: Turn) -> Self {
        self.conversation.push(turn);
        self
    }

    /// Replaces the conversation with `conversation` (one kept by the caller, sent to any model).
    pub fn conversation(mut self, conversation: Conversation) -> Self {
        self.conversation = conversation;
        self
    }

    /// Sets `temperature`.
    pub fn temperature(mut self, t: f64) -> Self {
        self.sampling.temperature = Some(t);
        self
    }

    /// Sets `top_p`.
    pub fn top_p(mut self, p: f64) -> Self {
        self.sampling.top_p = Some(p);
        self
    }

    /// Sets `top_k` (Anthropic-style pages take it).
    pub fn top_k(mut self, k: u64) -> Self {
        self.sampling.top_k = Some(k);
        self
    }

    /// Sets `max_tokens`.
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.sampling.max_tokens = Some(n);
        self
    }

    /// Sets the stop sequences.
    pub fn stop<S: Into<String>>(mut self, sequences: impl IntoIterator<Item = S>) -> Self {
        self.sampling.stop = sequences.into_iter().map(Into::into).collect();
        self
    }

    /// Sets extended thinking where the model's page takes it: a budget of tokens (at least
    /// 1,024 and below `max_tokens`) turns it on, or a [`ThinkingMode`] mode (adaptive, disabled).
    /// The page must take that mode; it is checked before sending.
    pub fn thinking(mut self, thinking: impl Into<ThinkingMode>) -> Self {
        self.sampling.thinking = Some(thinking.into());
        self
    }

    /// Whether the answer shows the thinking as a summary or omits it (`thinking.display`, on
    /// pages that take it; it needs thinking enabled or adaptive).
    pub fn thinking_display(mut self, display: ThinkingDisplay) -> Self {
        self.sampling.thinking_display = Some(display);
        self
    }

    /// Models to fall back on, in order, when the first cannot answer (OpenRouter's `models`);
    /// the answer's [`model`](Completion::model) says which one did.
    pub fn fallback_models<S: Into<String>>(mut self, models: impl IntoIterator<Item = S>) -> Self {
        self.sampling.fallback_models = models.into_iter().map(Into::into).collect();
        self
    }

    /// OpenRouter's `reasoning`: an effort or a token budget, excluded from the answer or not
    /// (pages that take no `reasoning` refuse it by default).
    pub fn reasoning(mut self, reasoning: super::settings::ReasoningSettings) -> Self {
        self.sampling.reasoning = Some(reasoning);
        self
    }

    /// Sets a cache breakpoint after what the chat holds so far: its last turn, or the system
    /// prompt (see [`Conversation::cache`]).
    pub fn cache(mut self, ttl: Cache) -> Self {
        self.conversation.mark_cache(ttl);
        self
    }

    /// What to do with a setting the model's page does not take: refuse the request (the
    /// default), drop the setting, or send it anyway.
    pub fn unsupported(mut self, what: Unsupported) -> Self {
        self.unsupported = what;
        self
    }

    /// Adds a header to this request.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.options.headers.insert(name, value);
        self
    }

    /// Sets the request's `X-Client-Request-Id` (1 to 128 characters of `A-Z a-z 0-9 . _ : -`;
    /// anything else is refused when sent, since the API would drop it silently). Without one,
    /// the client makes one up; either way it is in [`ResponseMeta::client_request_id`] and the
    /// call's tracing span.
    ///
    /// [`ResponseMeta::client_request_id`]: crate::ResponseMeta::client_request_id
    pub fn client_request_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        match HeaderValue::from_str(&id) {
            Ok(value) => {
                self.options
                    .headers
                    .insert(crate::http::trace_id::HEADER, value);
                self.unsendable_id = None;
            }
            Err(_) => self.unsendable_id = Some(id),
        }
        self
    }

    /// Per-request options: headers, extra body fields (provider-specific parameters), a timeout.
    pub fn options(mut self, options: RequestOptions) -> Self {
        let id = self.options.headers.remove(&crate::http::trace_id::HEADER);
        self.options = options;
        if let Some(id) = id {
            // A client request id set before stays, unless these options set their own.
            self.options
                .headers
                .entry(crate::http::trace_id::HEADER)
                .or_insert(id);
        }
        self
    }

    /// Offers the tools in `tools` to the model (each written in the model's dialect).
    #[cfg(feature = "tools")]
    pub fn tools(mut self, tools: &crate::tool_spec::Toolbox) -> Self {
        self.tools = tools.specs().to_vec();
        self
    }

    /// `options` over this chat's own: headers added, body fields added, a timeout or the
    /// switch to send unsupported settings when `options` sets them.
    #[cfg(feature = "tools")]
    pub(crate) fn with_options(mut self, options: &RequestOptions) -> Self {
        for (name, value) in &options.headers {
            self.options.headers.insert(name.clone(), value.clone());
        }
        for (k, v) in &options.extra_body {
            self.options.extra_body.insert(k.clone(), v.clone());
        }
        self.options.timeout = options.timeout.or(self.options.timeout);
        self.options.send_unsupported |= options.send_unsupported;
        self
    }

    /// Takes the conversation out, leaving an empty one.
    #[cfg(feature = "tools")]
    pub(crate) fn take_conversation(&mut self) -> Conversation {
        std::mem::take(&mut self.conversation)
    }

    /// The conversation so far.
    pub fn history(&self) -> &Conversation {
        &self.conversation
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Sends the conversation and returns the model's answer.
    pub async fn send(&self) -> Result<Completion<types::ChatCompletion>, Error> {
        self.answer(self.target()).await
    }

    /// Sends the conversation with `stream: true` and returns the answer as it arrives: deltas,
    /// the text alone ([`ChatStream::text`]), the whole answer at the end
    /// ([`ChatStream::completion`]).
    pub async fn stream(&self) -> Result<ChatStream, Error> {
        let bytes = self.open(self.target()).await?;
        Ok(ChatStream::new(
            ChunkStream::new(bytes).counting(self.transport.spend().clone()),
        ))
    }

    /// Sends the conversation to Anthropic's Messages endpoint (`POST /v1/messages`), in its
    /// native shape, and returns the message: thinking blocks with their signatures, text, tool
    /// calls ([`Completion::turn`] keeps them all for the next turn).
    pub async fn send_message(&self) -> Result<Completion<types::MessageResponse>, Error> {
        self.answer(self.messages_target()).await
    }

    /// Sends the conversation to the Messages endpoint with `stream: true` and returns its
    /// events as they arrive ([`MessageEventStream::completion`] folds them into the answer).
    pub async fn stream_message(&self) -> Result<MessageEventStream, Error> {
        let bytes = self.open(self.messages_target()).await?;
        Ok(MessageEventStream::new(bytes).counting(self.transport.spend().clone()))
    }

    /// Sends the body for `target` (non-streaming) and reads the answer as `T`.
    async fn answer<T>(&self, target: (WireShape, String)) -> Result<Completion<T>, Error>
    where
        T: serde::de::DeserializeOwned + crate::completion::Answer,
    {
        let p = self.prepare(target)?;
        let call = self
            .transport
            .call(Operation::Chat { stream: false }, &p.id);
        call.request(&p.sampling);
        self.transport
            .complete(
                p.shape,
                &p.body(false),
                self.model.clone(),
                &self.options,
                call,
            )
            .await
    }

    /// Sends the body for `target` with `stream: true` and returns the body as it arrives.
    async fn open(&self, target: (WireShape, String)) -> Result<crate::http::ByteStream, Error> {
        let p = self.prepare(target)?;
        let call = self.transport.call(Operation::Chat { stream: true }, &p.id);
        call.request(&p.sampling);
        self.transport
            .open_stream(
                p.shape,
                &p.body(true),
                self.model.clone(),
                &self.options,
                call,
            )
            .await
    }

    /// The Messages endpoint's shape and the id as given.
    fn messages_target(&self) -> (WireShape, String) {
        (WireShape::Messages, self.model.id().to_string())
    }

    /// Runs a tool loop on this conversation, for any model in its dialect: offers `tools`,
    /// sends, runs the calls the model makes (concurrently), adds its turn and the results to
    /// the conversation, and repeats until the model answers without tool calls or
    /// `settings.max_steps` requests were sent ([`Error::StepLimit`]). With `settings.streaming`
    /// each answer is streamed and folded; `settings.options` apply to every request (over this
    /// chat's own). A tool that fails, is unknown or gets arguments it cannot read answers with
    /// an error result, which the model sees.
    #[cfg(feature = "tools")]
    pub async fn run_tools(
        self,
        tools: &crate::tool_spec::Toolbox,
        settings: &crate::tool_loop::ToolLoop,
    ) -> Result<crate::tool_loop::ConversationRun, Error> {
        self.run_loop(tools, settings, |chat, streaming| {
            Box::pin(async move {
                match streaming {
                    true => chat.stream().await?.completion().await,
                    false => chat.send().await,
                }
            })
        })
        .await
    }

    /// [`run_tools`](Self::run_tools) over Anthropic's Messages endpoint: each answer's
    /// thinking blocks go back with their signatures, unchanged, beside its tool calls and
    /// the results (which a tool-using conversation with thinking on requires).
    #[cfg(feature = "tools")]
    pub async fn run_message_tools(
        self,
        tools: &crate::tool_spec::Toolbox,
        settings: &crate::tool_loop::ToolLoop,
    ) -> Result<crate::tool_loop::ConversationRun<types::MessageResponse>, Error> {
        self.run_loop(tools, settings, |chat, streaming| {
            Box::pin(async move {
                match streaming {
                    true => chat.stream_message().await?.completion().await,
                    false => chat.send_message().await,
                }
            })
        })
        .await
    }

    /// A tool loop on this conversation: `ask` sends the chat once (streamed or not) to its
    /// endpoint; the chat offers `tools`, with the loop's options over its own.
    #[cfg(feature = "tools")]
    async fn run_loop<T: crate::completion::Answer>(
        self,
        tools: &crate::tool_spec::Toolbox,
        settings: &crate::tool_loop::ToolLoop,
        ask: fn(Chat, bool) -> crate::tool_loop::Asked<T>,
    ) -> Result<crate::tool_loop::ConversationRun<T>, Error> {
        let mut chat = self.tools(tools).with_options(&settings.options);
        let conversation = chat.take_conversation();
        let streaming = settings.streaming;
        crate::tool_loop::run_conversation(conversation, tools, settings.max_steps, |turns| {
            ask(chat.clone().conversation(turns), streaming)
        })
        .await
    }

    /// The Messages endpoint's body for one request of a batch: as [`send_message`] writes and
    /// checks it, without `stream`, with the options' extra body fields.
    ///
    /// [`send_message`]: Self::send_message
    pub(crate) fn batch_params(&self) -> Result<Vec<u8>, Error> {
        let p = self.prepare(self.messages_target())?;
        let cannot = |e: serde_json::Error| Error::CannotWrite {
            model: self.model.id().to_string(),
            what: e.to_string(),
        };
        if self.options.extra_body.is_empty() {
            return serde_json::to_vec(&p.body(false)).map_err(cannot);
        }
        let mut body = match serde_json::to_value(p.body(false)).map_err(cannot)? {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        for (k, v) in &self.options.extra_body {
            body.insert(k.clone(), v.clone());
        }
        serde_json::to_vec(&body).map_err(cannot)
    }

    /// The body as it would be sent to the chat endpoint, as JSON (for logs and tests).
    pub fn body(&self) -> Result<serde_json::Value, Error> {
        let p = self.prepare(self.target())?;
        serde_json::to_value(p.body(false)).map_err(|e| Error::CannotWrite {
            model: self.model.id().to_string(),
            what: e.to_string(),
        })
    }

    /// The chat endpoint's body as the bytes that go out.
    #[cfg(all(test, feature = "tools"))]
    pub(crate) fn body_text(&self) -> String {
        let p = self.prepare(self.target()).unwrap();
        serde_json::to_string(&p.body(false)).unwrap()
    }

    /// What a body for `endpoint` needs: the shape and the id (on the chat endpoint, a known
    /// model's id as its provider spells it; on the Messages endpoint, as given), the settings
    /// checked against the model's page, the tools in the shape's form.
    fn prepare(&self, (shape, id): (WireShape, String)) -> Result<Prepared<'_>, Error> {
        if let Some(id) = &self.unsendable_id {
            crate::http::trace_id::check(id)?;
        }
        let checked = self.checked(shape)?;
        Ok(Prepared {
            ask_usage: super::write::asks_stream_usage(shape, &self.model, &self.options),
            sampling: checked.sampling,
            tools: self.tool_json(shape, checked.cache_tools),
            cache: checked.cache_conversation,
            conversation: &self.conversation,
            shape,
            id,
        })
    }

    /// The shape to write and the id to send: a known model's id as its provider spells it.
    fn target(&self) -> (WireShape, String) {
        let kind = self.transport.provider().kind();
        let id = match kind {
            crate::provider::ProviderKind::OpenRouter => self.model.id_for(kind).into_owned(),
            _ => self.model.id().to_string(),
        };
        (super::shape::chat_shape(&self.model, kind), id)
    }

    fn checked(&self, shape: WireShape) -> Result<Checked<'_>, Error> {
        let unsupported = if self.options.send_unsupported || !self.transport.checks_properties() {
            Unsupported::Send
        } else {
            self.unsupported
        };
        checked(
            &self.model,
            shape,
            &self.conversation,
            &self.sampling,
            self.cached_tools(),
            unsupported,
        )
    }

    #[cfg(feature = "tools")]
    fn cached_tools(&self) -> usize {
        self.tools
            .iter()
            .filter(|t| t.cache_point().is_some())
            .count()
    }

    #[cfg(not(feature = "tools"))]
    fn cached_tools(&self) -> usize {
        0
    }

    /// The tools in `shape`'s form, without their breakpoints unless `cache`.
    #[cfg(feature = "tools")]
    fn tool_json(&self, shape: WireShape, cache: bool) -> Vec<serde_json::Value> {
        self.tools
            .iter()
            .map(|t| {
                let mut json = t.json_for(shape);
                if let (false, Some(tool)) = (cache, json.as_object_mut()) {
                    tool.remove("cache_control");
                }
                json
            })
            .collect()
    }

    #[cfg(not(feature = "tools"))]
    fn tool_json(&self, _: WireShape, _: bool) -> Vec<serde_json::Value> {
        Vec::new()
    }
}

/// A chat's body, ready to be written (see [`Chat::prepare`]).
struct Prepared<'a> {
    id: String,
    shape: WireShape,
    conversation: &'a Conversation,
    sampling: std::borrow::Cow<'a, Sampling>,
    tools: Vec<serde_json::Value>,
    cache: bool,
    /// Whether a stream asks for its usage (`stream_options.include_usage`).
    ask_usage: bool,
}

impl Prepared<'_> {
    fn body(&self, stream: bool) -> Body<'_> {
        Body {
            ask_usage: stream && self.ask_usage,
            model: &self.id,
            conversation: self.conversation,
            sampling: &self.sampling,
            tools: &self.tools,
            shape: self.shape,
            stream,
            cache: self.cache,
        }
    }
}

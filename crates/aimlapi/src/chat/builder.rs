//! [`Chat`]: a conversation on its way to one model, with sampling settings and options; the
//! front door for every model, dialect and provider (`client.chat(model)`).

use aimlapi_client::RequestOptions;
use aimlapi_types as types;
use reqwest::header::{HeaderName, HeaderValue};

use super::check::{checked, Checked, Offered};
use super::server_tools::ServerTool;
use super::settings::{Sampling, ThinkingDisplay, ThinkingMode, Unsupported};
use super::tool_choice::ToolChoice;
use super::write::Body;
use crate::chat::conversation::{Cache, Content, Conversation, Turn};
use crate::completion::Completion;
use crate::completions::stream::ChatStream;
use crate::completions::stream::ChunkStream;
use crate::error::Error;
use crate::failover::{Pin, Route};
use crate::http::request_body::Written;
use crate::messages::stream::MessageEventStream;
use crate::model::Model;
use crate::telemetry::Operation;
use crate::transport::Transport;
use aimlapi_types::WireShape;

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
    server_tools: Vec<ServerTool>,
    /// The client's gateways, when it has fallbacks.
    route: Option<std::sync::Arc<Route>>,
    /// The gateway this conversation went to, shared with its clones.
    pin: Pin,
}

impl Chat {
    pub(crate) fn new(transport: Transport, model: Model) -> Self {
        Chat {
            route: None,
            pin: Pin::default(),
            transport,
            model,
            conversation: Conversation::new(),
            sampling: Sampling::default(),
            unsupported: Unsupported::default(),
            options: RequestOptions::default(),
            unsendable_id: None,
            #[cfg(feature = "tools")]
            tools: Vec::new(),
            server_tools: Vec::new(),
        }
    }

    /// The chat over `route`'s gateways (its transport is the first's).
    pub(crate) fn with_route(mut self, route: Option<std::sync::Arc<Route>>) -> Self {
        if route.is_some() {
            self.pin = Pin::new();
        }
        self.route = route;
        self
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

    /// Adds a system message here, between the turns (see [`Conversation::system_message`]).
    pub fn system_message(mut self, text: impl Into<String>) -> Self {
        self.conversation = self.conversation.system_message(text);
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

    /// Sets a property by its wire name, as its typed setter wrote it.
    fn property(mut self, name: &'static str, value: impl serde::Serialize) -> Self {
        self.sampling
            .properties
            .insert(name, super::settings::json_of(value));
        self
    }

    /// The end user's opaque id (`metadata.user_id`, Anthropic-style pages and the Messages
    /// endpoint), for the API's abuse detection; never a name or an email.
    pub fn user_id(self, id: impl Into<String>) -> Self {
        self.property("metadata", serde_json::json!({ "user_id": id.into() }))
    }

    /// `seed`: sampling repeatable on a best-effort basis (at least 1).
    pub fn seed(self, seed: u64) -> Self {
        self.property("seed", seed)
    }

    /// `frequency_penalty`: tokens penalised by how often they appeared (-2 to 2).
    pub fn frequency_penalty(self, penalty: f64) -> Self {
        self.property("frequency_penalty", penalty)
    }

    /// `presence_penalty`: tokens penalised once they appeared (-2 to 2).
    pub fn presence_penalty(self, penalty: f64) -> Self {
        self.property("presence_penalty", penalty)
    }

    /// `repetition_penalty` (OpenRouter-style pages): repeats made less likely as it grows.
    pub fn repetition_penalty(self, penalty: f64) -> Self {
        self.property("repetition_penalty", penalty)
    }

    /// `min_p` (OpenRouter-style pages): tokens below this fraction of the likeliest one's
    /// probability are dropped (0.001 to 0.999).
    pub fn min_p(self, p: f64) -> Self {
        self.property("min_p", p)
    }

    /// `top_a` (OpenRouter-style pages): tokens far less likely than the top one are dropped
    /// (0 to 1).
    pub fn top_a(self, a: f64) -> Self {
        self.property("top_a", a)
    }

    /// `logit_bias`: a bias from -100 to 100 added to each token id's logit.
    pub fn logit_bias(self, biases: impl IntoIterator<Item = (u32, i32)>) -> Self {
        let map: serde_json::Map<String, serde_json::Value> = biases
            .into_iter()
            .map(|(token, bias)| (token.to_string(), bias.into()))
            .collect();
        self.property("logit_bias", map)
    }

    /// `logprobs`: the answer's tokens with their log probabilities
    /// ([`Completion::logprobs`](crate::Completion::logprobs) reads them).
    pub fn logprobs(self, on: bool) -> Self {
        self.property("logprobs", on)
    }

    /// `top_logprobs`: this many alternatives (0 to 20) beside each token; turns `logprobs` on.
    pub fn top_logprobs(self, n: u8) -> Self {
        self.logprobs(true).property("top_logprobs", n)
    }

    /// `n`: this many choices (each billed; [`Completion::choices`](crate::Completion::choices)
    /// reads them).
    pub fn n(self, n: u32) -> Self {
        self.property("n", n)
    }

    /// `reasoning_effort` (OpenAI-style pages).
    pub fn reasoning_effort(self, effort: types::ReasoningEffort) -> Self {
        self.property("reasoning_effort", effort)
    }

    /// `web_search_options` (OpenAI-style pages): the search context size and where the user is.
    pub fn web_search_options(self, options: types::WebSearchOptions) -> Self {
        self.property("web_search_options", options)
    }

    /// `prediction`: text the answer is expected to largely repeat, so the model writes the
    /// known parts faster.
    pub fn prediction(self, text: impl Into<String>) -> Self {
        self.property(
            "prediction",
            serde_json::json!({"type": "content", "content": text.into()}),
        )
    }

    /// `max_completion_tokens` (OpenAI-style pages): the cap on generated tokens, reasoning
    /// included.
    pub fn max_completion_tokens(self, n: u64) -> Self {
        self.property("max_completion_tokens", n)
    }

    /// `audio` (OpenAI-style pages): the voice and format of spoken output.
    pub fn audio(self, audio: types::Audio) -> Self {
        self.property("audio", audio)
    }

    /// `modalities` (OpenAI-style pages): text, or text and audio.
    pub fn modalities(self, modalities: impl IntoIterator<Item = types::Modality>) -> Self {
        self.property("modalities", modalities.into_iter().collect::<Vec<_>>())
    }

    /// `response_format` (pages that take it): `text`, `json_object` or a `json_schema`. For a
    /// typed answer on every page, see [`output`](Self::output).
    pub fn response_format(self, format: types::ResponseFormat) -> Self {
        self.property("response_format", format)
    }

    /// OpenRouter's `provider` preferences: order, only, ignore, allow fallbacks, require
    /// parameters, data collection, sort, max price.
    pub fn provider(self, routing: types::ProviderRouting) -> Self {
        self.property("provider", routing)
    }

    /// `provider` on the AI/ML API's OpenRouter-style pages: which upstream runs the request,
    /// by its source key (`anthropic`, ...) or `auto` for the fallback chain. (On OpenRouter
    /// itself `provider` is the preferences object of [`provider`](Self::provider).)
    pub fn upstream(self, source: impl Into<String>) -> Self {
        self.property("provider", source.into())
    }

    /// OpenRouter's `plugins` ([`Plugin`](super::Plugin)).
    pub fn plugins(self, plugins: impl IntoIterator<Item = super::Plugin>) -> Self {
        let list: Vec<serde_json::Value> = plugins.into_iter().map(|p| p.json()).collect();
        self.property("plugins", list)
    }

    /// OpenRouter's `transforms` (`middle-out`, ...).
    pub fn transforms<S: Into<String>>(self, transforms: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = transforms.into_iter().map(Into::into).collect();
        self.property("transforms", list)
    }

    /// `echo` (OpenRouter-style pages): the answer repeats the prompt.
    pub fn echo(self, on: bool) -> Self {
        self.property("echo", on)
    }

    /// `normalize_tool_schemas` (OpenRouter-style pages): the gateway rewrites tool schemas so
    /// that each upstream takes them.
    pub fn normalize_tool_schemas(self, on: bool) -> Self {
        self.property("normalize_tool_schemas", on)
    }

    /// The search filters of the OpenRouter-style pages ([`SearchFilters`](super::SearchFilters)),
    /// each set one as its own property.
    pub fn search_filters(mut self, filters: &super::SearchFilters) -> Self {
        for (name, value) in filters.properties() {
            self = self.property(name, value);
        }
        self
    }

    /// Anthropic's `container`: the code-execution container to reuse, by id (not on the
    /// vendor's pages: refused unless sent anyway).
    pub fn container(self, id: impl Into<String>) -> Self {
        self.property("container", id.into())
    }

    /// Adds one of Anthropic's remote MCP servers (`mcp_servers`; not on the vendor's pages:
    /// refused unless sent anyway).
    pub fn mcp_server(mut self, server: &super::McpServer) -> Self {
        let entry = self
            .sampling
            .properties
            .entry("mcp_servers")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let serde_json::Value::Array(list) = entry {
            list.push(server.json());
        }
        self
    }

    /// Anthropic's `context_management` edits, as the API writes them (not on the vendor's
    /// pages: refused unless sent anyway).
    pub fn context_management(self, edits: impl IntoIterator<Item = serde_json::Value>) -> Self {
        let edits: Vec<serde_json::Value> = edits.into_iter().collect();
        self.property("context_management", serde_json::json!({ "edits": edits }))
    }

    /// Anthropic's `output_config` effort: how much the model spends on the answer (not on the
    /// vendor's pages: refused unless sent anyway).
    pub fn output_effort(self, effort: types::ReasoningEffort) -> Self {
        self.property("output_config", serde_json::json!({ "effort": effort }))
    }

    /// Anthropic's `output_format` with a JSON schema (not on the vendor's pages, which the
    /// facts say not to send it to: refused unless sent anyway). [`output`](Self::output)
    /// gives a typed answer on every page without it.
    pub fn output_format(self, schema: serde_json::Value) -> Self {
        self.property(
            "output_format",
            serde_json::json!({"type": "json_schema", "schema": schema}),
        )
    }

    /// Asks for the answer as a `T` ([`Structured`](super::Structured)): the same code on every
    /// page and both providers. The schema goes as `response_format` where the page takes it,
    /// else as one forced tool, and with thinking on in the system prompt; the answer comes back
    /// as an [`Output`](super::Output) holding the `T` or the model's refusal. An answer that is
    /// not a `T` is [`Error::Output`], which keeps the text. `T` must be a struct (the schema of
    /// an object).
    ///
    /// ```no_run
    /// # #[derive(serde::Deserialize, aimlapi::schemars::JsonSchema)]
    /// # #[schemars(crate = "aimlapi::schemars")]
    /// # struct City { name: String, country: String }
    /// # async fn run(client: aimlapi::Client) -> Result<(), aimlapi::Error> {
    /// let city: City = client
    ///     .chat("claude-sonnet-4-5")
    ///     .user("The largest city of Norway?")
    ///     .output::<City>()?
    ///     .send()
    ///     .await?
    ///     .value()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tools")]
    pub fn output<T>(self) -> Result<super::Structured<T>, Error>
    where
        T: schemars::JsonSchema + serde::de::DeserializeOwned,
    {
        super::Structured::new(self)
    }

    /// Whether thinking is on (enabled or adaptive).
    #[cfg(feature = "tools")]
    pub(crate) fn thinks(&self) -> bool {
        matches!(
            self.sampling.thinking,
            Some(ThinkingMode::Enabled { .. } | ThinkingMode::Adaptive)
        )
    }

    /// The shape the chat endpoint's body is written in.
    #[cfg(feature = "tools")]
    pub(crate) fn chat_shape(&self) -> WireShape {
        self.target(&self.transport).0
    }

    /// Whether the pages of `shape`'s endpoint take `property` (yes for a model no page lists).
    #[cfg(feature = "tools")]
    pub(crate) fn page_takes(&self, shape: WireShape, property: &str) -> bool {
        super::check::Pages::of(&self.model, shape).is_none_or(|p| p.accepts(property))
    }

    /// `response_format` as written.
    #[cfg(feature = "tools")]
    pub(crate) fn response_format_json(self, format: serde_json::Value) -> Self {
        self.property("response_format", format)
    }

    /// The system prompt with `text` after it (or `text` alone).
    #[cfg(feature = "tools")]
    pub(crate) fn append_system(mut self, text: &str) -> Self {
        let system = match self.conversation.system_prompt() {
            Some(s) => format!("{s}\n\n{text}"),
            None => text.to_string(),
        };
        self.conversation = std::mem::take(&mut self.conversation).system(system);
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

    /// Offers the tools in `tools` to the model (each written in the model's dialect), beside
    /// those offered already (one of the same name is replaced).
    #[cfg(feature = "tools")]
    pub fn tools(mut self, tools: &crate::tool_spec::Toolbox) -> Self {
        for spec in tools.specs() {
            self = self.tool(spec.clone());
        }
        self
    }

    /// Offers one tool to the model without a handler (for a loop of the caller's own): a
    /// [`ToolSpec`](crate::tools::ToolSpec) from a Rust type or from a JSON schema, sent as
    /// given. One of the same name is replaced.
    #[cfg(feature = "tools")]
    pub fn tool(mut self, spec: crate::tool_spec::ToolSpec) -> Self {
        self.tools.retain(|t| t.name() != spec.name());
        self.tools.push(spec);
        self
    }

    /// Offers a tool the API runs itself ([`ServerTool`]: web search, web fetch, code
    /// execution, tool search, memory, ...), written after the caller's tools. Pages whose tools
    /// take no such type refuse it by default.
    pub fn server_tool(mut self, tool: impl Into<ServerTool>) -> Self {
        let tool = tool.into();
        self.server_tools.retain(|t| t.kind() != tool.kind());
        self.server_tools.push(tool);
        self
    }

    /// Whether and which tool the model calls ([`ToolChoice`]), written in the dialect of the
    /// request. A named tool must be offered, and a forced choice cannot go with thinking:
    /// both are refused before sending. In a tool loop it holds for the first step only.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.sampling.tool_choice = Some(choice);
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
        self.over_gateways(None, move |t, from| self.answer(t, false, from))
            .await
    }

    /// Sends the conversation with `stream: true` and returns the answer as it arrives: deltas,
    /// the text alone ([`ChatStream::text`]), the whole answer at the end
    /// ([`ChatStream::completion`]).
    pub async fn stream(&self) -> Result<ChatStream, Error> {
        // Boxed: the opening's future (several KiB) is freed once the stream is open, where
        // held inline it would size the caller's future, and task, for the stream's whole life.
        let bytes =
            Box::pin(self.over_gateways(None, move |t, from| self.open(t, false, from))).await?;
        let stream =
            ChatStream::new(ChunkStream::new(bytes).counting(self.transport.spend().clone()));
        Ok(match self.continues_streams() {
            true => {
                let chat = self.clone();
                stream.continued_by(Box::new(move |so_far| {
                    let chat = chat.clone();
                    Box::pin(async move { chat.continue_stream(so_far).await })
                }))
            }
            false => stream,
        })
    }

    /// Whether a stream of this chat that breaks after its first delta may go on at another
    /// gateway from its text so far: with fallbacks whose policy says so, and no thinking (a
    /// prefill and thinking do not go together).
    fn continues_streams(&self) -> bool {
        let thinking = match self.sampling.thinking {
            None | Some(ThinkingMode::Disabled) => self.sampling.reasoning.is_some(),
            Some(_) => true,
        };
        self.route
            .as_ref()
            .is_some_and(|r| r.policy.continue_streams)
            && !thinking
    }

    /// The rest of a stream that broke at its gateway after `so_far`: the conversation with
    /// `so_far` as the assistant's prefill, streamed at another gateway; the conversation stays
    /// there.
    async fn continue_stream(
        &self,
        so_far: String,
    ) -> Result<ChunkStream<types::ChatCompletionChunk>, Error> {
        let broke = self.pin.get().unwrap_or(0);
        if let Some(route) = self.route.as_deref() {
            route.members[broke]
                .breaker
                .failed(std::time::Instant::now());
        }
        let rest = self.clone().assistant(so_far);
        let from = self.gateway_url(broke);
        let bytes = rest
            .over_gateways(Some(broke), |t, _| rest.open(t, false, Some(from)))
            .await?;
        Ok(ChunkStream::new(bytes).counting(self.transport.spend().clone()))
    }

    /// The base URL of the client's gateway `at`.
    fn gateway_url(&self, at: usize) -> &str {
        match self.route.as_deref() {
            Some(route) => route.members[at].transport.base_url(),
            None => self.transport.base_url(),
        }
    }

    /// Sends the conversation to Anthropic's Messages endpoint (`POST /v1/messages`), in its
    /// native shape, and returns the message: thinking blocks with their signatures, text, tool
    /// calls ([`Completion::turn`] keeps them all for the next turn).
    pub async fn send_message(&self) -> Result<Completion<types::MessageResponse>, Error> {
        self.over_gateways(None, move |t, from| self.answer(t, true, from))
            .await
    }

    /// Sends the conversation to the Messages endpoint with `stream: true` and returns its
    /// events as they arrive ([`MessageEventStream::completion`] folds them into the answer).
    pub async fn stream_message(&self) -> Result<MessageEventStream, Error> {
        // Boxed, as in `stream`.
        let bytes =
            Box::pin(self.over_gateways(None, move |t, from| self.open(t, true, from))).await?;
        Ok(MessageEventStream::new(bytes).counting(self.transport.spend().clone()))
    }

    /// Runs `go` on this chat's gateway, or over the client's gateways when it has fallbacks:
    /// this conversation's own first, each whose breaker lets the call through, moving on after
    /// a failure the policy moves (to a gateway that serves the model); the conversation stays on
    /// the gateway that answered. `go` is given the transport and the base URL of the gateway
    /// the call moved from. `skip`: a gateway not to try (the one a stream broke at).
    async fn over_gateways<'a, T, Fut>(
        &'a self,
        skip: Option<usize>,
        go: impl Fn(&'a Transport, Option<&'a str>) -> Fut,
    ) -> Result<T, Error>
    where
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let Some(route) = self.route.as_deref() else {
            return go(&self.transport, None).await;
        };
        let pinned = self.pin.get();
        let mut last: Option<(usize, Error)> = None;
        // A gateway the last failure could not move to, because it does not serve the model.
        let mut not_served: Option<String> = None;
        for at in route.order(pinned).filter(|at| Some(*at) != skip) {
            let member = &route.members[at];
            // The client's own gateway takes the model as the caller named it; another must
            // serve it.
            let kind = member.transport.provider().kind();
            if at != 0 && !self.model.served_by(kind) {
                if last.is_some() {
                    not_served = Some(crate::failover::not_served(&self.model, &member.transport));
                }
                continue;
            }
            let Some(pass) = member.breaker.pass_now() else {
                continue;
            };
            let from = last
                .as_ref()
                .map(|(i, _)| route.members[*i].transport.base_url());
            // Boxed over the gateways (and below), inline without them: the call's future is
            // then not sized for the loop's state beside it when there is no loop.
            let result = Box::pin(go(&member.transport, from)).await;
            let served = match &result {
                Ok(_) => Some(true),
                Err(e) if route.policy.moves(e) => Some(false),
                Err(_) => None,
            };
            member.breaker.report_now(pass, served);
            match result {
                Ok(v) => {
                    if pinned != Some(at) {
                        self.pin.set(at);
                    }
                    return Ok(v);
                }
                Err(e) if served == Some(false) => {
                    last = Some((at, e));
                    not_served = None;
                }
                Err(e) => return Err(e),
            }
        }
        match (last, not_served) {
            (Some((_, error)), Some(why)) => Err(Error::NotMoved {
                error: Box::new(error),
                why,
            }),
            (Some((_, error)), None) => Err(error),
            // Every breaker turned the call away: it goes to its first gateway all the same.
            (None, _) => {
                let at = route
                    .order(pinned)
                    .find(|at| Some(*at) != skip)
                    .unwrap_or(0);
                Box::pin(go(&route.members[at].transport, None)).await
            }
        }
    }

    /// Sends the body for the chat endpoint (or the Messages endpoint) through `transport`
    /// (non-streaming) and reads the answer as `T`; `moved_from` is the gateway the call left.
    async fn answer<T>(
        &self,
        transport: &Transport,
        messages: bool,
        moved_from: Option<&str>,
    ) -> Result<Completion<T>, Error>
    where
        T: serde::de::DeserializeOwned + crate::completion::Answer,
    {
        let p = self.prepare(self.target_on(transport, messages), transport)?;
        let call = transport.call(Operation::Chat { stream: false }, &p.id);
        call.moved_from(moved_from);
        call.request(&p.sampling);
        let mut done = transport
            .complete(
                p.shape,
                &p.body(false),
                self.model.clone(),
                &self.options,
                call,
            )
            .await?;
        done.meta.moved_from = moved_from.map(str::to_string);
        Ok(done)
    }

    /// Sends the body with `stream: true` through `transport` and returns the body as it
    /// arrives.
    async fn open(
        &self,
        transport: &Transport,
        messages: bool,
        moved_from: Option<&str>,
    ) -> Result<crate::http::ByteStream, Error> {
        // The body is written before the stream opens, and what it was written from let go: the
        // opening holds 32 bytes across its waits, not the prepared body (over 300).
        let (shape, body, call) = {
            let p = self.prepare(self.target_on(transport, messages), transport)?;
            let call = Box::new(transport.call(Operation::Chat { stream: true }, &p.id));
            call.moved_from(moved_from);
            call.request(&p.sampling);
            (p.shape, Written::of(&p.body(true)), call)
        };
        let mut bytes = transport
            .open_stream(shape, &body, self.model.clone(), &self.options, call)
            .await?;
        bytes.meta_mut().moved_from = moved_from.map(str::to_string);
        Ok(bytes)
    }

    /// The shape and id a call through `transport` sends: the Messages endpoint's, or the
    /// chat endpoint's as that gateway takes them.
    fn target_on(&self, transport: &Transport, messages: bool) -> (WireShape, String) {
        match messages {
            true => self.messages_target(),
            false => self.target(transport),
        }
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
            let step = chat.clone().conversation(turns);
            // A forced choice holds for the first step only: kept, the model would call tools
            // on every step and the loop would never end.
            chat.sampling.tool_choice = chat
                .sampling
                .tool_choice
                .take()
                .map(ToolChoice::after_first_step);
            ask(step, streaming)
        })
        .await
    }

    /// The Messages endpoint's body for one request of a batch: as [`send_message`] writes and
    /// checks it, without `stream`, with the options' extra body fields.
    ///
    /// [`send_message`]: Self::send_message
    pub(crate) fn batch_params(&self) -> Result<Vec<u8>, Error> {
        let p = self.prepare(self.messages_target(), &self.transport)?;
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
        let p = self.prepare(self.target(&self.transport), &self.transport)?;
        serde_json::to_value(p.body(false)).map_err(|e| Error::CannotWrite {
            model: self.model.id().to_string(),
            what: e.to_string(),
        })
    }

    /// The chat endpoint's body as the bytes that go out.
    #[cfg(all(test, feature = "tools"))]
    pub(crate) fn body_text(&self) -> String {
        let p = self
            .prepare(self.target(&self.transport), &self.transport)
            .unwrap();
        serde_json::to_string(&p.body(false)).unwrap()
    }

    /// What a body for `endpoint` needs: the shape and the id (on the chat endpoint, a known
    /// model's id as its provider spells it; on the Messages endpoint, as given), the settings
    /// checked against the model's page, the tools in the shape's form.
    fn prepare(
        &self,
        (shape, id): (WireShape, String),
        transport: &Transport,
    ) -> Result<Prepared<'_>, Error> {
        if let Some(id) = &self.unsendable_id {
            crate::http::trace_id::check(id)?;
        }
        let checked = self.checked(shape, transport)?;
        Ok(Prepared {
            ask_usage: super::write::asks_stream_usage(shape, &self.model, &self.options),
            tools: self.tool_json(shape, &checked),
            sampling: checked.sampling,
            cache: checked.cache_conversation,
            conversation: &self.conversation,
            shape,
            id,
        })
    }

    /// The shape to write and the id to send through `transport`: a known model's id as its
    /// provider spells it.
    fn target(&self, transport: &Transport) -> (WireShape, String) {
        let kind = transport.provider().kind();
        let id = match kind {
            crate::provider::ProviderKind::OpenRouter => self.model.id_for(kind).into_owned(),
            _ => self.model.id().to_string(),
        };
        (super::shape::chat_shape(&self.model, kind), id)
    }

    fn checked(&self, shape: WireShape, transport: &Transport) -> Result<Checked<'_>, Error> {
        let unsupported = if self.options.send_unsupported || !transport.checks_properties() {
            Unsupported::Send
        } else {
            self.unsupported
        };
        checked(
            &self.model,
            shape,
            &self.conversation,
            &self.sampling,
            &self.offered(),
            unsupported,
        )
    }

    /// The tools offered, as the checks see them.
    fn offered(&self) -> Offered<'_> {
        let mut offered = Offered::default();
        #[cfg(feature = "tools")]
        for t in &self.tools {
            offered.names.push(t.name());
            offered.cached += usize::from(t.cache_point().is_some());
            offered.deferred |= t.is_deferred();
        }
        for t in &self.server_tools {
            offered.names.push(t.name());
            offered.server.push(t.kind());
            offered.cached += usize::from(t.cache_point().is_some());
            offered.deferred |= t.is_deferred();
        }
        offered
    }

    /// The tools in `shape`'s form (the caller's, then the server tools the pages take),
    /// without their breakpoints unless the checks let them through.
    fn tool_json(&self, shape: WireShape, checked: &Checked<'_>) -> Vec<serde_json::Value> {
        #[cfg(feature = "tools")]
        let own = self
            .tools
            .iter()
            .map(|t| t.json_for(shape, checked.custom_tool_fields()));
        #[cfg(not(feature = "tools"))]
        let own = {
            let _caller_tools_need_the_tools_feature = shape;
            std::iter::empty()
        };
        let server = self
            .server_tools
            .iter()
            .filter(|t| checked.sends_tool(t.kind()))
            .map(ServerTool::json);
        own.chain(server)
            .map(|mut json| {
                if let (false, Some(tool)) = (checked.cache_tools, json.as_object_mut()) {
                    tool.remove("cache_control");
                }
                json
            })
            .collect()
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

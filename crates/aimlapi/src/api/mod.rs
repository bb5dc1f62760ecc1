//! [`Client`]: every public entry point of the SDK on one page, each a few lines over the
//! shared transport ([`crate::http::Transport`]) and the feature modules; and its builder.

mod builder;

pub use builder::ClientBuilder;

use aimlapi_client::RequestOptions;
use aimlapi_types as types;

use crate::batch::{Batch, BatchBuilder, BatchHandle};
use crate::catalogue::{ModelsQuery, Section};
use crate::chat::Chat;
use crate::completion::Completion;
use crate::completions::stream::ChunkStream;
use crate::error::Error;
use crate::http::ByteStream;
use crate::model::{Model, ModelFacts};
use crate::provider::Provider;
use crate::request::ChatRequest;
use crate::transport::Transport;

/// A client for chat completions: cheap to clone, one per process is enough.
///
/// ```no_run
/// # async fn run() -> Result<(), aimlapi::Error> {
/// use aimlapi::types::*;
///
/// let client = aimlapi::Client::from_env()?;
/// // The conversation API: any model, in the shape its page takes.
/// let done = client.chat("claude-sonnet-4-5").user("Hello").send().await?;
/// println!("{}", done.text().unwrap_or_default());
///
/// // A generated request type, for full control.
/// let request: ChatCompletionRequest = ChatCompletionRequest::builder()
///     .model(KnownModelId::Claude35HaikuLatest)
///     .messages(vec![aimlapi::request::user("Hello")])
///     .try_into()?;
/// let done = client.chat_completion(&request).await?;
/// println!("{:?} (request id {:?})", done.value.choices[0].message, done.meta.request_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    /// The gateways, when fallbacks were given.
    route: Option<std::sync::Arc<crate::failover::Route>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.transport.fmt(f)
    }
}

impl Client {
    pub(crate) fn new(transport: Transport) -> Self {
        Client {
            transport,
            route: None,
        }
    }

    pub(crate) fn with_route(mut self, route: crate::failover::Route) -> Self {
        self.route = Some(std::sync::Arc::new(route));
        self
    }

    /// The client's gateways in the order calls try them, each with its circuit breaker's
    /// state (for a health endpoint); one entry without fallbacks.
    pub fn gateways(&self) -> Vec<crate::failover::GatewayHealth> {
        match &self.route {
            Some(route) => route.health(),
            None => crate::failover::Route::new(vec![self.transport.clone()], Default::default())
                .health(),
        }
    }

    /// A builder, for the AI/ML API unless told otherwise.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for the AI/ML API with `AIMLAPI_API_KEY`, or else for OpenRouter with
    /// `OPENROUTER_API_KEY`. Fails when neither is set, and otherwise with the real cause: a
    /// key a header cannot carry, a variable that is not UTF-8, an HTTP client that cannot be
    /// set up.
    pub fn from_env() -> Result<Client, Error> {
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
        let provider = match (set("AIMLAPI_API_KEY"), set("OPENROUTER_API_KEY")) {
            (false, true) => Provider::open_router(),
            (false, false) => return Err(Error::Config(
                "no API key: set AIMLAPI_API_KEY (AI/ML API) or OPENROUTER_API_KEY (OpenRouter)"
                    .into(),
            )),
            _ => Provider::AimlApi,
        };
        Client::builder().provider(provider).build()
    }

    /// The gateway this client talks to.
    pub fn provider(&self) -> &Provider {
        self.transport.provider()
    }

    /// What the calls this client has answered cost so far, in US dollars: the vendor's
    /// figure where it sent one, the estimate otherwise (calls without either add nothing).
    /// Streams count once folded ([`ChatStream::completion`](crate::ChatStream::completion)).
    /// A service's budget guard reads it.
    pub fn spent(&self) -> f64 {
        self.transport.spent()
    }

    /// A conversation with `model` (an id as `&str` or `String`, or a [`Model`]): the
    /// conversation API, for any model, dialect and provider. The [`Chat`] owns a clone of the
    /// client's transport: it can be moved into a task.
    pub fn chat(&self, model: impl Into<Model>) -> Chat {
        Chat::new(self.transport.clone(), model.into()).with_route(self.route.clone())
    }

    /// Sends a non-streaming request and returns the typed completion with its metadata.
    /// Retries as the [`RetryPolicy`](crate::RetryPolicy) says.
    pub async fn chat_completion<R: ChatRequest>(
        &self,
        request: &R,
    ) -> Result<Completion<R::Response>, Error> {
        self.chat_completion_with(request, &RequestOptions::default())
            .await
    }

    /// [`chat_completion`](Self::chat_completion) with per-request headers and body fields
    /// (provider-specific parameters) and, if set, a timeout of its own.
    pub async fn chat_completion_with<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<Completion<R::Response>, Error> {
        self.transport.send_request(request, options).await
    }

    /// Sends `request` with `stream: true` and returns its typed chunks as they arrive.
    /// Retries happen only before the response starts; a wait longer than
    /// [`Timeouts::stream_idle`](crate::Timeouts::stream_idle) for the next chunk ends the
    /// stream with [`Error::Timeout`]. Dropping the stream closes the connection.
    pub async fn stream<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<ChunkStream<R::Chunk>, Error> {
        Ok(ChunkStream::new(self.stream_bytes(request, options).await?))
    }

    /// Sends `request` with `stream: true` and returns the raw body as it arrives: the bytes of
    /// the server-sent events, for callers with their own framing. Retries happen only before
    /// the response starts; a wait longer than
    /// [`Timeouts::stream_idle`](crate::Timeouts::stream_idle) for the next chunk ends the
    /// stream with [`Error::Timeout`]. Dropping the stream closes the connection.
    pub async fn stream_bytes<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<ByteStream, Error> {
        self.transport.stream_request(request, options).await
    }

    /// Runs a tool loop: sets `tools` on `request`, sends it, runs the tool calls the model asks
    /// for (concurrently), appends the model's turn and the results in the request's dialect
    /// (OpenAI-style `tool` messages, or Anthropic-style `tool_use` and `tool_result` blocks), and
    /// repeats until the model answers without tool calls or `settings.max_steps` requests were
    /// sent ([`Error::StepLimit`]). With `settings.streaming` each response is streamed and
    /// folded. A tool that fails, is unknown or gets arguments it cannot read answers with an
    /// error result, which the model sees.
    ///
    /// The generated request types are [`ToolRequest`](crate::tools::ToolRequest)s with the
    /// `typed-tools` feature (the loop rewrites the request through JSON, so the request type
    /// must read JSON too); the conversation API's [`Chat::run_tools`](crate::Chat::run_tools)
    /// needs only `tools`.
    #[cfg(feature = "tools")]
    pub async fn run_tools<R>(
        &self,
        request: R,
        tools: &crate::tools::Toolbox,
        settings: &crate::tools::ToolLoop,
    ) -> Result<crate::tools::ToolRun<R>, Error>
    where
        R: crate::tools::ToolRequest,
        R::Chunk: crate::completions::decode::StreamChunk<Completion = R::Response>,
    {
        crate::tool_loop::run_tools(&self.transport, request, tools, settings).await
    }

    /// A message batch: add requests built with [`chat`](Self::chat), each under its
    /// `custom_id`, then [`submit`](BatchBuilder::submit) them; answered within a day at batch
    /// prices (half the standard ones). See [`batch`](crate::batch).
    pub fn batch(&self) -> BatchBuilder {
        BatchBuilder::new(self.transport.clone())
    }

    /// A batch submitted before, by what [`Batch::handle`] gave (kept, serialized, in another
    /// process), to watch, cancel or read through this client.
    pub fn resume_batch(&self, handle: BatchHandle) -> Batch {
        Batch::new(self.transport.clone(), handle)
    }

    /// The account this client's key belongs to (the AI/ML API's balance, ledger, usage,
    /// request log and key routes) and the live model metrics.
    pub fn account(&self) -> crate::account::Account {
        crate::account::Account::new(self.transport.clone())
    }

    /// The model catalogue (`GET /v1/models`): build the listing, then
    /// [`send`](ModelsQuery::send) it. No key is needed; the AI/ML API serves it.
    pub fn models(&self) -> ModelsQuery {
        ModelsQuery::new(self.transport.clone())
    }

    /// One model of the catalogue by id or alias (`GET /model/{id}`, with the given sections); a
    /// name the catalogue does not know is an HTTP 404 error.
    pub async fn model(&self, id: &str, sections: &[Section]) -> Result<types::ListedModel, Error> {
        crate::catalogue::lookup(&self.transport, id, sections).await
    }

    /// What this client knows of a model: the facts of a catalogue listing it fetched with
    /// prices, else this crate's own table.
    pub fn model_facts(&self, model: &Model) -> Option<ModelFacts> {
        self.transport.model_facts(model)
    }

    /// The stats of one generation on OpenRouter (`GET {base}/v1/generation?id=`): what it cost,
    /// its tokens as the provider counted them, its latency. The id is the completion's `id`
    /// (`gen-...`), also [`ResponseMeta::generation_id`](crate::ResponseMeta::generation_id).
    /// The stats can lag the answer by a moment: a 404 right after it may clear on a retry.
    pub async fn generation(&self, id: &str) -> Result<types::GenerationStats, Error> {
        crate::openrouter::generation(&self.transport, id).await
    }
}

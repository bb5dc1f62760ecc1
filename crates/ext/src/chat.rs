//! The [`Client`]: the generated clients plus a provider, a key, retries, timeouts and tracing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aimlapi_client::{apply_request_options, RequestOptions};
use bytes::Bytes;
use futures::Stream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};
use reqwest::StatusCode;
use tracing::{field, Instrument};

use crate::error::{request_id, Error, HttpError};
use crate::model::Model;
use crate::provider::{ApiKey, Provider, ProviderKind};
use crate::request::{ChatRequest, ChatResponse, TokenUsage};
use crate::retry::RetryPolicy;
use crate::sse::ChunkStream;

/// How long to wait, for each phase of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection. Default 5 s.
    pub connect: Duration,
    /// For a whole non-streaming request, response included. Default 600 s.
    pub request: Duration,
    /// The longest a stream waits for its next chunk, counted from when the reader asks for it
    /// and none has arrived (and for a stream's response headers). Default 60 s.
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(600),
            stream_idle: Duration::from_secs(60),
        }
    }
}

/// What came with a successful response, beside the body.
#[derive(Clone, Debug)]
pub struct ResponseMeta {
    /// The status.
    pub status: StatusCode,
    /// The request id: `x-request-id`, `x-inference-id`, `x-generation-id` or `x-client-request-id`.
    pub request_id: Option<String>,
    /// What the AI/ML API charged, in US dollars (`x-aimlapi-usd-spent`, non-streaming only).
    pub usd_spent: Option<f64>,
    /// What the AI/ML API charged, in credits (`x-aimlapi-credits-used`, non-streaming only).
    pub credits_used: Option<f64>,
    /// How many attempts it took (1 without retries).
    pub attempts: u32,
    /// The model the request named, as this crate understands it.
    pub model: Model,
    /// All response headers.
    pub headers: HeaderMap,
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, attempts: u32, model: Model) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        ResponseMeta {
            status,
            request_id: request_id(&headers),
            usd_spent: number("x-aimlapi-usd-spent"),
            credits_used: number("x-aimlapi-credits-used"),
            attempts,
            model,
            headers,
        }
    }
}

/// A typed response and what came with it.
#[derive(Clone, Debug)]
pub struct Completion<T> {
    /// The response body.
    pub value: T,
    /// Status, request id, cost headers, attempts.
    pub meta: ResponseMeta,
}

impl<T: ChatResponse> Completion<T> {
    /// The token usage, when the response has it.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.value.token_usage()
    }

    /// The text of the first choice's message, when it has one.
    pub fn text(&self) -> Option<&str> {
        self.value.text()
    }

    /// The usage priced with the model's facts, in US dollars: `None` for a model this crate
    /// does not know or a response without usage. The vendor's own figure, when it sends one,
    /// is [`ResponseMeta::usd_spent`].
    pub fn estimated_cost(&self) -> Option<f64> {
        let usage = self.usage()?;
        Some(
            self.meta
                .model
                .facts()?
                .cost(usage.prompt_tokens, usage.completion_tokens),
        )
    }
}

/// A client for chat completions: cheap to clone, one per process is enough.
///
/// ```no_run
/// # async fn run() -> Result<(), aimlapi::Error> {
/// use aimlapi::types::*;
///
/// let client = aimlapi::Client::from_env()?;
/// let request: ChatCompletionRequest = ChatCompletionRequest::builder()
///     .model(KnownModelId::Claude35HaikuLatest)
///     .messages(vec![aimlapi::user("Hello")])
///     .try_into()
///     .expect("model and messages are set");
/// let done = client.chat_completion(&request).await?;
/// println!("{:?} (request id {:?})", done.value.choices[0].message, done.meta.request_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    key: Option<ApiKey>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    /// Authorization, provider and caller-given headers, sent with every request.
    headers: HeaderMap,
    log_contents: bool,
    /// The most bytes a non-streaming response body may have.
    max_body: usize,
    /// Whether requests are checked against their model's page before sending.
    check_properties: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.inner.provider)
            .field("base_url", &self.inner.base_url)
            .field("key", &self.inner.key)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .field("log_contents", &self.inner.log_contents)
            .field("max_response_body", &self.inner.max_body)
            .field("check_properties", &self.inner.check_properties)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    provider: Provider,
    base_url: Option<String>,
    key: Option<ApiKey>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    headers: HeaderMap,
    log_contents: bool,
    max_body: usize,
    check_properties: bool,
}

/// The default limit on a non-streaming response body: 32 MiB, far above any completion.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 32 << 20;

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            provider: Provider::AimlApi,
            base_url: None,
            key: None,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            headers: HeaderMap::new(),
            log_contents: false,
            max_body: DEFAULT_MAX_RESPONSE_BODY,
            check_properties: true,
        }
    }
}

impl ClientBuilder {
    /// The gateway (default: the AI/ML API).
    pub fn provider(mut self, provider: Provider) -> Self {
        self.provider = provider;
        self
    }

    /// Sends to `url` instead of the provider's base URL, keeping everything else the provider
    /// decides (model ids, headers, key variable): for proxies, mocks and tests.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    /// The API key; without one, [`build`](Self::build) reads the provider's environment variable.
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// All timeouts at once.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The timeout for a whole non-streaming request (default 600 s).
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.timeouts.request = d;
        self
    }

    /// The timeout for opening a connection (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// The longest a stream waits for its next chunk (default 60 s); see
    /// [`Timeouts::stream_idle`].
    pub fn stream_idle_timeout(mut self, d: Duration) -> Self {
        self.timeouts.stream_idle = d;
        self
    }

    /// A header sent with every request.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Whether request and response bodies go to the `debug` tracing level (default: no; the
    /// key never does).
    pub fn log_contents(mut self, on: bool) -> Self {
        self.log_contents = on;
        self
    }

    /// The most bytes a non-streaming response body may have (default
    /// [`DEFAULT_MAX_RESPONSE_BODY`], 32 MiB). It is enforced while reading, so memory stays
    /// near the limit whatever a server sends; a larger body fails the call with
    /// [`Error::ResponseTooLarge`]. An error response's body is read up to the limit and the rest
    /// left unread. Streams are bounded per line instead ([`DEFAULT_MAX_LINE`](crate::DEFAULT_MAX_LINE)).
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Whether a request is checked, before it is sent, against the page of the model it names
    /// (default: yes): a property the page does not list fails the call with
    /// [`Error::Unsupported`], naming the model and the property. The vendor's documents have
    /// been wrong before: `false` sends every request as it is (per request:
    /// `RequestOptions::send_unsupported`).
    pub fn check_properties(mut self, on: bool) -> Self {
        self.check_properties = on;
        self
    }

    /// Builds the client. Fails when the AI/ML API or OpenRouter is chosen and no key was given
    /// nor found in the environment.
    pub fn build(self) -> Result<Client, Error> {
        let (key, source) = match (self.key, self.provider.key_variable()) {
            (Some(k), _) => (Some(k), "the API key given to ClientBuilder::api_key"),
            (None, Some(var)) => match std::env::var(var) {
                Ok(k) if !k.trim().is_empty() => (Some(ApiKey::new(k.trim())), var),
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Error::Config(format!("{var} is not valid UTF-8")))
                }
                _ => {
                    return Err(Error::Config(format!(
                        "no API key: set {var} or pass one to ClientBuilder::api_key"
                    )))
                }
            },
            (None, None) => (None, ""),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("aimlapi-rust/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(k) = &key {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", k.expose())).map_err(|_| {
                Error::Config(format!(
                    "{source} has characters a header cannot carry (a line break or another \
                     control character inside it?)"
                ))
            })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        if let Provider::OpenRouter { referer, title } = &self.provider {
            for (name, value) in [("http-referer", referer), ("x-title", title)] {
                if let Some(value) = value {
                    let v = HeaderValue::from_str(value).map_err(|_| {
                        Error::Config(format!("{name} cannot be sent as a header: {value:?}"))
                    })?;
                    headers.insert(HeaderName::from_static(name), v);
                }
            }
        }
        headers.extend(self.headers);
        // With the lean TLS feature alone, reqwest has no crypto provider of its own: ring becomes
        // the process's default, unless the service installed one already (then theirs is used).
        #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client set-up: {}", with_causes(&e))))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: self
                    .base_url
                    .unwrap_or_else(|| self.provider.base_url().to_string()),
                provider: self.provider,
                key,
                retry: self.retry,
                timeouts: self.timeouts,
                headers,
                log_contents: self.log_contents,
                max_body: self.max_body,
                check_properties: self.check_properties,
            }),
        })
    }
}

/// An error's message followed by its causes', so that a wrapped cause is not lost.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A failed attempt: the error, whether another attempt may help, and the headers that say when.
struct Failure {
    error: Error,
    retryable: bool,
    headers: Option<HeaderMap>,
}

impl Client {
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
        &self.inner.provider
    }

    /// Sends a non-streaming request and returns the typed completion with its metadata.
    /// Retries as the [`RetryPolicy`] says.
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
        let (request, model) = self.for_provider(request);
        self.check(&request, options)?;
        let mut options = self.options(options);
        let timeout = options.timeout.unwrap_or(self.inner.timeouts.request);
        options.timeout = Some(timeout);
        let span = self.span("chat_completion", &request);
        let url = self.chat_url();
        let limit = self.inner.max_body;
        async {
            if self.inner.log_contents {
                tracing::debug!(body = %serde_json::to_string(&request).unwrap_or_default(), "request");
            }
            let ((value, status, headers), attempts) = self
                .with_retries(|| async {
                    let response = self.send_once(&url, &request, &options, None, timeout).await?;
                    let (status, headers) = (response.status(), response.headers().clone());
                    let body = read_limited(response, limit).await.map_err(|e| match e {
                        Some(e) => transport_failure(e, timeout),
                        None => Failure {
                            error: Error::ResponseTooLarge { limit },
                            retryable: false,
                            headers: None,
                        },
                    })?;
                    let value = serde_json::from_slice::<R::Response>(&body).map_err(|e| Failure {
                        error: Error::Decode {
                            message: e.to_string(),
                            body: String::from_utf8_lossy(&body).into_owned(),
                        },
                        retryable: false,
                        headers: None,
                    })?;
                    Ok((value, status, headers))
                })
                .await?;
            let meta = ResponseMeta::new(status, headers, attempts, model);
            if let Some(u) = value.token_usage() {
                tracing::Span::current().record("prompt_tokens", u.prompt_tokens).record("completion_tokens", u.completion_tokens);
            }
            Ok(Completion { value, meta })
        }
        .instrument(span)
        .await
    }

    #[cfg(feature = "tools")]
    /// Runs a tool loop: sets `tools` on `request`, sends it, runs the tool calls the model asks
    /// for (concurrently), appends the model's turn and the results in the request's dialect
    /// (OpenAI-style `tool` messages, or Anthropic-style `tool_use` and `tool_result` blocks), and
    /// repeats until the model answers without tool calls or `settings.max_steps` requests were
    /// sent ([`Error::StepLimit`]). With `settings.streaming` each response is streamed and
    /// folded. A tool that fails, is unknown or gets arguments it cannot read answers with an
    /// error result, which the model sees.
    pub async fn run_tools<R>(
        &self,
        mut request: R,
        tools: &crate::Toolbox,
        settings: &crate::ToolLoop,
    ) -> Result<crate::ToolRun<R>, Error>
    where
        R: crate::ToolRequest,
        R::Chunk: crate::StreamChunk<Completion = R::Response>,
    {
        use crate::ChatResponse;
        request.set_tools(tools)?;
        let mut made = Vec::new();
        for step in 1..=settings.max_steps {
            let response = if settings.streaming {
                self.stream(&request, &settings.options)
                    .await?
                    .collect_completion()
                    .await?
            } else {
                self.chat_completion_with(&request, &settings.options)
                    .await?
                    .value
            };
            let calls = crate::tools::calls_of(response.tool_calls());
            if calls.is_empty() {
                return Ok(crate::ToolRun {
                    response,
                    request,
                    calls: made,
                    steps: step,
                });
            }
            let records = futures::future::join_all(
                calls
                    .iter()
                    .map(|(id, name, arguments)| tools.run(id, name, arguments)),
            )
            .await;
            tracing::debug!(step, calls = records.len(), "ran tool calls");
            request.push_tool_round(response.text().map(str::to_string), &records)?;
            made.extend(records);
        }
        Err(Error::StepLimit {
            steps: settings.max_steps,
        })
    }

    /// Sends `request` with `stream: true` and returns its typed chunks as they arrive.
    /// Retries happen only before the response starts; a wait longer than
    /// [`Timeouts::stream_idle`] for the next chunk ends the stream with [`Error::Timeout`].
    /// Dropping the stream closes the connection.
    pub async fn stream<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<ChunkStream<R::Chunk>, Error> {
        Ok(ChunkStream::new(self.stream_bytes(request, options).await?))
    }

    /// Sends `request` with `stream: true` and returns the raw body as it arrives: the bytes of
    /// the server-sent events, for callers with their own framing. Retries happen only before
    /// the response starts; a wait longer than [`Timeouts::stream_idle`] for the next chunk ends
    /// the stream with [`Error::Timeout`]. Dropping the stream closes the connection.
    pub async fn stream_bytes<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<ByteStream, Error> {
        let (request, model) = self.for_provider(request);
        self.check(&request, options)?;
        let mut options = self.options(options);
        options
            .extra_body
            .insert("stream".into(), serde_json::Value::Bool(true));
        let idle = self.inner.timeouts.stream_idle;
        let span = self.span("chat_completion_stream", &request);
        let url = self.chat_url();
        async {
            let (response, attempts) = self
                .with_retries(|| self.send_once(&url, &request, &options, Some(idle), idle))
                .await?;
            let meta = ResponseMeta::new(
                response.status(),
                response.headers().clone(),
                attempts,
                model,
            );
            Ok(ByteStream::new(response, idle, meta))
        }
        .instrument(span)
        .await
    }

    fn chat_url(&self) -> String {
        format!("{}/v1/chat/completions", self.inner.base_url)
    }

    /// Sends the body once: the response when its status is a success, else the failure. With
    /// `header_wait`, the response's headers must come within it (streams); `timeout` is what a
    /// transport timeout is reported as.
    async fn send_once<B: serde::Serialize>(
        &self,
        url: &str,
        body: &B,
        options: &RequestOptions,
        header_wait: Option<Duration>,
        timeout: Duration,
    ) -> Result<reqwest::Response, Failure> {
        let mut req = self
            .inner
            .http
            .post(url)
            .json(body)
            .build()
            .map_err(|e| Failure {
                error: Error::Config(format!("request: {e}")),
                retryable: false,
                headers: None,
            })?;
        apply_request_options(options, &mut req);
        let sent = self.inner.http.execute(req);
        let sent = match header_wait {
            None => sent.await,
            Some(wait) => tokio::time::timeout(wait, sent)
                .await
                .map_err(|_| Failure {
                    error: Error::Timeout {
                        after: wait,
                        waiting_for: "the response",
                    },
                    retryable: true,
                    headers: None,
                })?,
        };
        let response = sent.map_err(|e| transport_failure(e, timeout))?;
        tracing::Span::current().record("status", response.status().as_u16());
        if response.status().is_success() {
            return Ok(response);
        }
        Err(http_failure(response, &self.inner.retry, self.inner.max_body).await)
    }

    /// The request as it goes out, and the model it names. An id the caller wrote goes out as
    /// written, on every provider; a typed model (a document's known id) is translated only when
    /// this client's provider spells ids differently from the document (a custom base URL spells
    /// them as the AI/ML API does).
    fn for_provider<R: ChatRequest>(&self, request: &R) -> (R, Model) {
        let asked = request.model_id();
        let model = Model::from_id(&asked);
        let mut request = request.clone();
        let spelling = |kind| match kind {
            ProviderKind::Custom => ProviderKind::AimlApi,
            kind => kind,
        };
        let kind = self.inner.provider.kind();
        if request.model_is_typed() && spelling(kind) != spelling(R::id_spelling()) {
            let id = model.id_for(kind);
            if id != asked {
                request.set_model_id(&id);
            }
        }
        (request, model)
    }

    /// Refuses a request that sets a property its model's page does not list (see
    /// [`ClientBuilder::check_properties`]). The page is the one that lists the model id and is
    /// written as this request type; a model no such page lists is not checked.
    fn check<R: ChatRequest>(&self, request: &R, options: &RequestOptions) -> Result<(), Error> {
        if !self.inner.check_properties || options.send_unsupported {
            return Ok(());
        }
        let id = request.model_id();
        let Some(page) = crate::MODEL_PAGES
            .iter()
            .find(|p| p.request == Some(R::type_name()) && p.ids.contains(&id.as_str()))
        else {
            return Ok(());
        };
        let Ok(serde_json::Value::Object(body)) = serde_json::to_value(request) else {
            return Ok(());
        };
        match body.keys().find(|k| !page.accepts(k)) {
            Some(property) => Err(Error::Unsupported {
                model: id,
                property: property.clone(),
                page: page.page,
            }),
            None => Ok(()),
        }
    }

    /// The client's headers with the caller's on top.
    fn options(&self, given: &RequestOptions) -> RequestOptions {
        let mut headers = self.inner.headers.clone();
        for (name, value) in &given.headers {
            headers.insert(name.clone(), value.clone());
        }
        RequestOptions {
            headers,
            extra_body: given.extra_body.clone(),
            timeout: given.timeout,
            send_unsupported: given.send_unsupported,
        }
    }

    fn span<R: ChatRequest>(&self, name: &'static str, request: &R) -> tracing::Span {
        tracing::info_span!(
            "aimlapi",
            operation = name,
            model = %request.model_id(),
            provider = self.inner.provider.name(),
            attempt = field::Empty,
            status = field::Empty,
            latency_ms = field::Empty,
            prompt_tokens = field::Empty,
            completion_tokens = field::Empty,
        )
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out; returns the
    /// value and the number of attempts.
    async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<(T, u32), Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let span = tracing::Span::current();
        let mut n = 0u32;
        loop {
            n += 1;
            span.record("attempt", n);
            let started = Instant::now();
            let result = attempt().await;
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match result {
                Ok(v) => {
                    tracing::info!(attempt = n, "done");
                    return Ok((v, n));
                }
                Err(f) if f.retryable && n <= self.inner.retry.max_retries => {
                    let wait = self.inner.retry.delay(n - 1, f.headers.as_ref());
                    tracing::warn!(attempt = n, error = %f.error, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(f) => {
                    tracing::warn!(attempt = n, error = %f.error, "failed");
                    return Err(f.error);
                }
            }
        }
    }
}

/// A status that is not a success: read the body (at most `limit` bytes of it), decide on a
/// retry from status and headers.
async fn http_failure(response: reqwest::Response, retry: &RetryPolicy, limit: usize) -> Failure {
    let status = response.status();
    let headers = response.headers().clone();
    let retryable = retry.should_retry_status(status, &headers);
    let body = read_prefix(response, limit).await;
    let error = HttpError::from_parts(status, headers.clone(), &body);
    Failure {
        error: Error::Http(Box::new(error)),
        retryable,
        headers: Some(headers),
    }
}

/// The whole body, read piece by piece and refused as soon as it would pass `limit` bytes (a
/// `Content-Length` over the limit is refused before reading). The error is the network's, or
/// `None` for a body over the limit.
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Option<reqwest::Error>> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(None);
    }
    let mut body = bytes::BytesMut::with_capacity(announced as usize);
    while let Some(piece) = response.chunk().await? {
        if piece.len() > limit - body.len() {
            return Err(None);
        }
        body.extend_from_slice(&piece);
    }
    Ok(body.freeze())
}

/// As much of the body as arrives, up to `limit` bytes (an error body: what is past the limit, or
/// after a broken connection, is left unread).
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(piece)) = response.chunk().await {
        let room = limit - body.len();
        body.extend_from_slice(&piece[..piece.len().min(room)]);
        if piece.len() >= room {
            break;
        }
    }
    body
}

/// A transport error: timeouts and broken connections are worth another try.
fn transport_failure(e: reqwest::Error, timeout: Duration) -> Failure {
    let error = if e.is_timeout() {
        Error::Timeout {
            after: timeout,
            waiting_for: "the response",
        }
    } else {
        Error::Connection(e.without_url())
    };
    Failure {
        error,
        retryable: true,
        headers: None,
    }
}

/// The raw body of a streaming response, chunk by chunk as the network delivers it, with an idle
/// timeout between chunks. Pull-based: nothing runs unless it is polled.
///
/// The idle time counts from when the stream starts waiting for the network (the first poll
/// that finds no piece ready) to the next piece. The clock is read once per wait, not per piece,
/// and the timer is re-armed only when it fires before the current wait's deadline.
pub struct ByteStream {
    meta: ResponseMeta,
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    idle: Duration,
    /// Fires no later than `deadline`.
    timer: Pin<Box<tokio::time::Sleep>>,
    /// When the current wait times out; meaningful while `waiting`.
    deadline: tokio::time::Instant,
    waiting: bool,
    done: bool,
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("meta", &self.meta)
            .field("idle", &self.idle)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    /// What came with the response: status, request id, headers, attempts. The AI/ML API's
    /// cost headers are not sent on streams.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    pub(crate) fn new(response: reqwest::Response, idle: Duration, meta: ResponseMeta) -> Self {
        let deadline = deadline_after(idle);
        ByteStream {
            meta,
            body: Box::pin(response.bytes_stream()),
            idle,
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            deadline,
            waiting: true,
            done: false,
        }
    }
}

/// Now plus `idle`, or a deadline decades away when `idle` is too long to add (a caller may set
/// `Duration::MAX` to mean "never").
fn deadline_after(idle: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(idle)
        .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 24 * 3600))
}

impl Stream for ByteStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.waiting = false;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                let idle = self.idle;
                Poll::Ready(Some(Err(transport_failure(e, idle).error)))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if !self.waiting {
                    // A new wait begins. The timer, armed for an earlier wait, fires early at
                    // worst; it is moved on then.
                    self.waiting = true;
                    self.deadline = deadline_after(self.idle);
                }
                loop {
                    match self.timer.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => {
                            let deadline = self.deadline;
                            if deadline > tokio::time::Instant::now() {
                                self.timer.as_mut().reset(deadline);
                                continue;
                            }
                            self.done = true;
                            return Poll::Ready(Some(Err(Error::Timeout {
                                after: self.idle,
                                waiting_for: "the next stream chunk",
                            })));
                        }
                    }
                }
            }
        }
    }
}

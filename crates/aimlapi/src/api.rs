//! The [`Client`] and its builder: a provider, a key, retries, timeouts and tracing around
//! reqwest; the send path for typed requests, JSON and streamed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aimlapi_client::{apply_request_options, RequestOptions};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};
use tracing::{field, Instrument};

use crate::body::ByteStream;
use crate::completion::Answer;
use crate::completion::Completion;
use crate::error::Error;
use crate::failure::{
    http_failure, read_limited, request_failure, transport_failure, with_causes, Failure,
};
use crate::meta::ResponseMeta;
use crate::model::Model;
use crate::provider::{ApiKey, Provider, ProviderKind};
use crate::request::ChatRequest;
use crate::retry::RetryPolicy;
use crate::sse::ChunkStream;
use crate::timeouts::Timeouts;
use crate::types::WireShape;

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
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    provider: Provider,
    base_url: String,
    /// `{base_url}/v1/chat/completions`, built once.
    chat_url: String,
    /// `{base_url}/v1/messages`, built once.
    messages_url: String,
    key: Option<ApiKey>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    log_contents: bool,
    /// The most bytes a non-streaming response body may have.
    max_body: usize,
    /// Whether requests are checked against their model's page before sending.
    check_properties: bool,
    /// The catalogue listings fetched, with their ETags, and the facts they gave.
    catalogue: crate::catalogue_state::CatalogueState,
    /// What the answered calls cost so far.
    spent: Arc<crate::cost::Spend>,
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
            max_body: ClientBuilder::DEFAULT_MAX_RESPONSE_BODY,
            check_properties: true,
        }
    }
}

impl ClientBuilder {
    /// The default limit on a non-streaming response body: 32 MiB, far above any completion.
    pub const DEFAULT_MAX_RESPONSE_BODY: usize = 32 << 20;

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
    /// [`DEFAULT_MAX_RESPONSE_BODY`](Self::DEFAULT_MAX_RESPONSE_BODY), 32 MiB). It is enforced while reading, so memory stays
    /// near the limit whatever a server sends; a larger body fails the call with
    /// [`Error::ResponseTooLarge`]. An error response's body is read up to the limit and the rest
    /// left unread. Streams are bounded per line instead ([`DEFAULT_MAX_LINE`](crate::sse::DEFAULT_MAX_LINE)).
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
        // Authorization, provider and caller-given headers go on every request as reqwest's
        // defaults: a header the request sets itself (RequestOptions) wins.
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeouts.connect)
            .default_headers(headers)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client set-up: {}", with_causes(&e))))?;
        let base_url = self
            .base_url
            .unwrap_or_else(|| self.provider.base_url().to_string());
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                chat_url: format!("{base_url}/v1/chat/completions"),
                messages_url: format!("{base_url}/v1/messages"),
                base_url,
                provider: self.provider,
                key,
                retry: self.retry,
                timeouts: self.timeouts,
                log_contents: self.log_contents,
                max_body: self.max_body,
                check_properties: self.check_properties,
                catalogue: Default::default(),
                spent: Default::default(),
            }),
        })
    }
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

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn catalogue_state(&self) -> &crate::catalogue_state::CatalogueState {
        &self.inner.catalogue
    }

    /// What the calls this client has answered cost so far, in US dollars: the vendor's
    /// figure where it sent one, the estimate otherwise (calls without either add nothing).
    /// Streams count once folded ([`ChatStream::completion`](crate::ChatStream::completion)).
    /// A service's budget guard reads it.
    pub fn spent(&self) -> f64 {
        self.inner.spent.total()
    }

    pub(crate) fn spend(&self) -> &Arc<crate::cost::Spend> {
        &self.inner.spent
    }

    /// Whether requests are checked against their model's page before sending.
    pub(crate) fn checks_properties(&self) -> bool {
        self.inner.check_properties
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
        let span = self.span("chat_completion", &request.model_id());
        self.complete(R::SHAPE, &request, model, options, span)
            .await
    }

    /// Sends `body` (non-streaming), with retries, and reads the response as `T`.
    pub(crate) async fn complete<B, T>(
        &self,
        shape: WireShape,
        body: &B,
        model: Model,
        options: &RequestOptions,
        span: tracing::Span,
    ) -> Result<Completion<T>, Error>
    where
        B: serde::Serialize,
        T: serde::de::DeserializeOwned + Answer,
    {
        let timeout = options.timeout.unwrap_or(self.inner.timeouts.request);
        let url = self.url(shape);
        let (trace, trace_header) = crate::trace_id::for_call(options)?;
        span.record("client_request_id", trace.as_str());
        async {
            if self.inner.log_contents {
                tracing::debug!(body = %serde_json::to_string(body).unwrap_or_default(), "request");
            }
            let ((value, status, headers), attempts) = self
                .with_retries(|| async {
                    let response = self
                        .send_once(url, body, options, &trace_header, None, timeout)
                        .await?;
                    self.read_json::<T>(response, timeout).await
                })
                .await
                .map_err(|e| e.with_client_request_id(&trace))?;
            let meta = self.response_meta(status, headers, attempts, model, trace);
            if let Some(u) = value.usage() {
                tracing::Span::current()
                    .record("prompt_tokens", u.prompt_tokens)
                    .record("completion_tokens", u.completion_tokens);
            }
            let done = Completion { value, meta };
            self.inner.spent.count(done.cost());
            Ok(done)
        }
        .instrument(span)
        .await
    }

    /// What came with a call's response: its status and headers, the attempts, the model with
    /// the facts this client knows of it, the `X-Client-Request-Id` it carried.
    fn response_meta(
        &self,
        status: reqwest::StatusCode,
        headers: HeaderMap,
        attempts: u32,
        model: Model,
        client_request_id: String,
    ) -> ResponseMeta {
        let facts = self.model_facts(&model);
        ResponseMeta::new(status, headers, attempts, model)
            .with_facts(facts)
            .with_client_request_id(client_request_id)
    }

    /// Reads a whole response (against the body limit) as `T`, with its status and headers.
    pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        mut response: reqwest::Response,
        timeout: Duration,
    ) -> Result<(T, reqwest::StatusCode, HeaderMap), Failure> {
        let limit = self.inner.max_body;
        // Taken, not copied: the body's length comes from the body, not the headers.
        let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
        let body = read_limited(response, limit).await.map_err(|e| match e {
            Some(e) => transport_failure(e, timeout),
            None => Failure {
                error: Error::ResponseTooLarge { limit },
                retryable: false,
                headers: None,
            },
        })?;
        let value = serde_json::from_slice::<T>(&body).map_err(|e| Failure {
            error: Error::Decode {
                message: e.to_string(),
                body: String::from_utf8_lossy(&body).into_owned(),
            },
            retryable: false,
            headers: None,
        })?;
        Ok((value, status, headers))
    }

    /// `GET url?query` with retries, read as `T` with the response's headers (a service
    /// endpoint: the catalogue, OpenRouter's generation stats). With `if_none_match`, a
    /// `304 Not Modified` is `None`; without it, a `304` is an error.
    pub(crate) async fn get_json<T, Q>(
        &self,
        url: &str,
        query: &Q,
        if_none_match: Option<&str>,
        operation: &'static str,
        subject: &str,
    ) -> Result<Option<(T, HeaderMap)>, Error>
    where
        T: serde::de::DeserializeOwned,
        Q: serde::Serialize + ?Sized,
    {
        let timeout = self.inner.timeouts.request;
        let tag = if_none_match.and_then(|t| HeaderValue::from_str(t).ok());
        let (answer, _) = self
            .with_retries(|| async {
                let mut request = self
                    .inner
                    .http
                    .get(url)
                    .query(query)
                    .build()
                    .map_err(request_failure)?;
                if let Some(tag) = &tag {
                    request
                        .headers_mut()
                        .insert(reqwest::header::IF_NONE_MATCH, tag.clone());
                }
                let response = self.execute(request, None, timeout).await?;
                if response.status() == reqwest::StatusCode::NOT_MODIFIED {
                    return match tag {
                        Some(_) => Ok(None),
                        None => Err(Failure {
                            error: Error::Decode {
                                message: "304 Not Modified to a request that was not conditional"
                                    .into(),
                                body: String::new(),
                            },
                            retryable: false,
                            headers: None,
                        }),
                    };
                }
                let (value, _, headers) = self.read_json::<T>(response, timeout).await?;
                Ok(Some((value, headers)))
            })
            .instrument(self.span(operation, subject))
            .await?;
        Ok(answer)
    }

    /// [`get_json`](Self::get_json) of a request that is not conditional: its value.
    pub(crate) async fn get_value<T, Q>(
        &self,
        url: &str,
        query: &Q,
        operation: &'static str,
        subject: &str,
    ) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned,
        Q: serde::Serialize + ?Sized,
    {
        let answer = self.get_json(url, query, None, operation, subject).await?;
        // Without `If-None-Match` the answer is a value or an error, never `None`.
        answer.map(|(value, _)| value).ok_or_else(|| Error::Decode {
            message: "no answer to a request that was not conditional".into(),
            body: String::new(),
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
        let mut options = options.clone();
        options
            .extra_body
            .insert("stream".into(), serde_json::Value::Bool(true));
        let span = self.span("chat_completion_stream", &request.model_id());
        self.open_stream(R::SHAPE, &request, model, &options, span)
            .await
    }

    /// Sends `body` for a stream (it asks for one itself, or `options` does), with retries
    /// before the response starts, and returns the body as it arrives.
    pub(crate) async fn open_stream<B: serde::Serialize>(
        &self,
        shape: WireShape,
        body: &B,
        model: Model,
        options: &RequestOptions,
        span: tracing::Span,
    ) -> Result<ByteStream, Error> {
        let idle = self.inner.timeouts.stream_idle;
        let url = self.url(shape);
        let (trace, trace_header) = crate::trace_id::for_call(options)?;
        span.record("client_request_id", trace.as_str());
        async {
            let (mut response, attempts) = self
                .with_retries(|| {
                    self.send_once(url, body, options, &trace_header, Some(idle), idle)
                })
                .await
                .map_err(|e| e.with_client_request_id(&trace))?;
            let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
            let meta = self.response_meta(status, headers, attempts, model, trace);
            Ok(ByteStream::new(response, idle, meta))
        }
        .instrument(span)
        .await
    }

    /// Sends the body once: the response when its status is a success, else the failure. With
    /// `header_wait`, the response's headers must come within it (streams); `timeout` is what a
    /// transport timeout is reported as.
    async fn send_once<B: serde::Serialize>(
        &self,
        url: &str,
        body: &B,
        options: &RequestOptions,
        trace: &HeaderValue,
        header_wait: Option<Duration>,
        timeout: Duration,
    ) -> Result<reqwest::Response, Failure> {
        let mut req = self
            .inner
            .http
            .post(url)
            .json(body)
            .build()
            .map_err(request_failure)?;
        apply_request_options(options, &mut req);
        req.headers_mut()
            .insert(crate::trace_id::HEADER, trace.clone());
        self.execute(req, header_wait, timeout).await
    }

    /// Sends `req` once: the response when its status is a success (or `304 Not Modified`, for
    /// a conditional request), else the failure. With `header_wait`, the response's headers must
    /// come within it (streams); `timeout` is what a transport timeout is reported as.
    pub(crate) async fn execute(
        &self,
        mut req: reqwest::Request,
        header_wait: Option<Duration>,
        timeout: Duration,
    ) -> Result<reqwest::Response, Failure> {
        if !req.headers().contains_key(&crate::trace_id::HEADER) {
            if let Ok(id) = HeaderValue::from_str(&crate::trace_id::generate()) {
                req.headers_mut().insert(crate::trace_id::HEADER, id);
            }
        }
        if header_wait.is_none() {
            // A whole non-streaming request: the caller's timeout, else the client's.
            *req.timeout_mut() = Some(timeout);
        }
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
        let status = response.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED {
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
    /// [`ClientBuilder::check_properties`]). The page is the chat page that lists the model id
    /// and is written as this request type; a model no such page lists is not checked.
    fn check<R: ChatRequest>(&self, request: &R, options: &RequestOptions) -> Result<(), Error> {
        if !self.inner.check_properties || options.send_unsupported {
            return Ok(());
        }
        let id = request.model_id();
        let Some(page) = crate::model::MODEL_PAGES
            .iter()
            .find(|p| p.shape == R::SHAPE && p.ids.contains(&id.as_str()))
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

    /// The endpoint a body of `shape` goes to.
    fn url(&self, shape: WireShape) -> &str {
        if shape.is_messages() {
            &self.inner.messages_url
        } else {
            &self.inner.chat_url
        }
    }

    pub(crate) fn span(&self, name: &'static str, model: &str) -> tracing::Span {
        tracing::info_span!(
            "aimlapi",
            operation = name,
            model = model,
            provider = self.inner.provider.name(),
            attempt = field::Empty,
            status = field::Empty,
            latency_ms = field::Empty,
            prompt_tokens = field::Empty,
            completion_tokens = field::Empty,
            client_request_id = field::Empty,
        )
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out; returns the
    /// value and the number of attempts.
    pub(crate) async fn with_retries<T, F, Fut>(&self, mut attempt: F) -> Result<(T, u32), Error>
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

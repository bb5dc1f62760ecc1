//! The transport every call goes through: one `Arc` that the [`Client`](crate::Client) and the
//! handles it gives out ([`Chat`](crate::Chat), the catalogue query) share: sending with retries
//! and timeouts, failure classification, the body limit, streamed bodies, response metadata,
//! client request ids, spans, the running total of what calls cost.

use std::sync::Arc;
use std::time::Duration;

use aimlapi_client::{apply_request_options, RequestOptions};
use reqwest::header::{HeaderMap, HeaderValue};

use crate::completion::{Answer, Completion};
use crate::error::Error;
use crate::http::body::ByteStream;
use crate::http::failure::{
    http_failure, read_limited, request_failure, transport_failure, Failure,
};
use crate::http::meta::ResponseMeta;
use crate::http::request_body::{cannot_write, RequestBody, Written};
use crate::http::retry::RetryPolicy;
use crate::http::timeouts::{within, Timeouts};
use crate::model::{Model, ModelFacts};
use crate::provider::{ApiKey, Provider, ProviderKind};
use crate::request::ChatRequest;
use crate::telemetry::{Call, Operation};
use aimlapi_types::WireShape;

/// A model call's start: its `X-Client-Request-Id` (recorded in its span) and, when contents are
/// recorded, the request's messages.
fn begin<B: RequestBody>(
    call: &mut Call,
    options: &RequestOptions,
    body: &B,
) -> Result<(String, HeaderValue), Error> {
    let (trace, header) =
        crate::http::trace_id::for_call(options).inspect_err(|e| call.failed(e))?;
    call.span().record("client_request_id", trace.as_str());
    call.contents_of(body);
    Ok((trace, header))
}

/// What a client is built with.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) http: reqwest::Client,
    pub(crate) provider: Provider,
    pub(crate) base_url: String,
    pub(crate) key: Option<ApiKey>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    pub(crate) log_contents: bool,
    /// The most bytes a non-streaming response body may have.
    pub(crate) max_body: usize,
    /// Whether requests are checked against their model's page before sending.
    pub(crate) check_properties: bool,
    /// The spending limit checked before each call, if any.
    pub(crate) budget: Option<crate::budget::Budget>,
    /// With the caller's own HTTP client: the headers this client puts on each request (with
    /// its own, they are that client's defaults instead).
    pub(crate) request_headers: Option<HeaderMap>,
    /// How many headers a request gets from the client besides its own (its defaults, or the
    /// `request_headers` above): the room its header map is made with.
    pub(crate) default_headers: usize,
    /// The running total this transport's calls count into, when shared with others (a
    /// client's fallback gateways count into its total).
    pub(crate) spent: Option<Arc<crate::cost::Spend>>,
    /// How model calls are admitted by the gateway's rate limits (`None`: sent at once).
    pub(crate) admission: Option<crate::http::admission::Admission>,
}

/// The shared transport: cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    /// `{base_url}/v1/chat/completions`, parsed once (a URL given as text is parsed again by
    /// each request that takes it: thousands of instructions a call).
    chat_url: reqwest::Url,
    /// `{base_url}/v1/messages`, parsed once.
    messages_url: reqwest::Url,
    /// The catalogue listings fetched, with their ETags, and the facts they gave.
    catalogue: crate::catalogue_state::CatalogueState,
    /// What the answered calls cost so far.
    spent: Arc<crate::cost::Spend>,
    /// The request log route's 200 requests a minute, kept by every handle of this client.
    log_reads: crate::http::pace::Pace,
    /// The budget and its last reading.
    budget: Option<crate::budget::BudgetState>,
    /// The rate-limit reading model calls are admitted by, and their queue.
    gate: Option<crate::http::admission::Gate>,
    /// The host and port calls go to, for their spans.
    server: crate::telemetry::Server,
    /// The GenAI client metrics calls record into.
    #[cfg(feature = "otel")]
    metrics: Option<Arc<crate::telemetry::metrics::Instruments>>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.inner.settings;
        f.debug_struct("Client")
            .field("provider", &s.provider)
            .field("base_url", &s.base_url)
            .field("key", &s.key)
            .field("retry", &s.retry)
            .field("timeouts", &s.timeouts)
            .field("log_contents", &s.log_contents)
            .field("max_response_body", &s.max_body)
            .field("check_properties", &s.check_properties)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// The transport for `settings`; a base URL that is not an `http(s)` URL with a host is a
    /// configuration error here, not at the first call.
    pub(crate) fn new(settings: Settings) -> Result<Self, Error> {
        let endpoint = |path: &str| {
            let text = format!("{}{path}", settings.base_url);
            match reqwest::Url::parse(&text) {
                Ok(url) if url.has_host() && matches!(url.scheme(), "http" | "https") => Ok(url),
                Ok(_) => Err(Error::Config(format!(
                    "base URL {:?} is not an http(s) URL with a host",
                    settings.base_url
                ))),
                Err(e) => Err(Error::Config(format!(
                    "base URL {:?} is not a URL: {e}",
                    settings.base_url
                ))),
            }
        };
        let budget = settings.budget;
        let spent = settings.spent.clone().unwrap_or_default();
        let gate = settings
            .admission
            .clone()
            .map(|a| crate::http::admission::Gate::new(a, settings.retry.max_retry_after));
        let chat_url = endpoint("/v1/chat/completions")?;
        Ok(Transport {
            inner: Arc::new(Inner {
                server: crate::telemetry::Server::of(&chat_url),
                #[cfg(feature = "otel")]
                metrics: Some(crate::telemetry::metrics::Instruments::global()),
                chat_url,
                messages_url: endpoint("/v1/messages")?,
                settings,
                catalogue: Default::default(),
                spent,
                log_reads: crate::http::pace::Pace::new(200, Duration::from_secs(60)),
                budget: budget.map(crate::budget::BudgetState::new),
                gate,
            }),
        })
    }
}

impl Transport {
    /// The gateway this client talks to.
    pub(crate) fn provider(&self) -> &Provider {
        &self.inner.settings.provider
    }

    /// The most bytes a non-streaming body (or one element of a batch answer) may have.
    pub(crate) fn max_body(&self) -> usize {
        self.inner.settings.max_body
    }

    /// How failed requests are retried.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.settings.retry
    }

    /// How long a whole non-streaming request may take.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.inner.settings.timeouts.request
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.inner.settings.base_url
    }

    pub(crate) fn catalogue_state(&self) -> &crate::catalogue_state::CatalogueState {
        &self.inner.catalogue
    }

    /// What this client knows of a model: the facts of a catalogue listing it fetched with
    /// prices, else this crate's own table.
    pub(crate) fn model_facts(&self, model: &Model) -> Option<ModelFacts> {
        self.inner
            .catalogue
            .facts(model.id())
            .or_else(|| model.facts())
    }

    /// What the calls answered so far cost, in US dollars.
    pub(crate) fn spent(&self) -> f64 {
        self.inner.spent.total()
    }

    /// Fails when the client's budget is spent (no budget: nothing to check, nothing sent). A
    /// reading of the account it makes is a child of `span`, the call's.
    pub(crate) async fn within_budget(&self, span: &tracing::Span) -> Result<(), Error> {
        self.within_budget_ahead(span, 0.0).await
    }

    /// [`within_budget`](Self::within_budget) for work that will cost about `ahead` dollars
    /// (a batch's estimate): refused when the budget could not pay for it.
    pub(crate) async fn within_budget_ahead(
        &self,
        span: &tracing::Span,
        ahead: f64,
    ) -> Result<(), Error> {
        use tracing::Instrument;
        match &self.inner.budget {
            // Boxed: a call on a client without a budget carries no room for the check.
            Some(budget) => {
                let read = || self.account_figure(budget.source());
                Box::pin(
                    budget
                        .check(|| self.spent(), read, ahead)
                        .instrument(span.clone()),
                )
                .await
            }
            None => Ok(()),
        }
    }

    /// `GET {base_url}{path}?query` of an account route, read as `T`; a 403 there is
    /// [`Error::Forbidden`] (on a model call it means no credits).
    pub(crate) async fn account_get<T, Q>(
        &self,
        path: &str,
        query: &Q,
        operation: &'static str,
    ) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned,
        Q: serde::Serialize + ?Sized,
    {
        let url = format!("{}{path}", self.base_url());
        self.get_value(&url, query, operation, "")
            .await
            .map_err(Error::forbidden_on_account)
    }

    /// The account's figure a budget reads: the key's spend over a window, or the balance.
    async fn account_figure(&self, source: crate::budget::Source) -> Result<f64, Error> {
        use crate::budget::Source;
        let missing = |what: &str| Error::Decode {
            message: format!("the account's answer has no `{what}`"),
            body: String::new(),
        };
        match source {
            Source::Usage(window) => {
                let usage: aimlapi_types::KeyUsage = self
                    .account_get("/v2/usage", &window.query()?, "budget")
                    .await?;
                usage.spend.ok_or_else(|| missing("spend"))
            }
            Source::Balance => {
                let none: &[(&str, &str)] = &[];
                let balance: aimlapi_types::Balance =
                    self.account_get("/v2/billing", none, "budget").await?;
                balance
                    .current_balance
                    .ok_or_else(|| missing("current_balance"))
            }
        }
    }

    /// The pace the request log route is read at.
    pub(crate) fn log_reads(&self) -> &crate::http::pace::Pace {
        &self.inner.log_reads
    }

    pub(crate) fn spend(&self) -> &Arc<crate::cost::Spend> {
        &self.inner.spent
    }

    /// Whether requests are checked against their model's page before sending.
    pub(crate) fn checks_properties(&self) -> bool {
        self.inner.settings.check_properties
    }

    /// Sends a typed request (non-streaming), checked against its page, with the model id its
    /// provider expects.
    pub(crate) async fn send_request<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<Completion<R::Response>, Error> {
        let (request, model) = self.for_provider(request);
        let written = self.check(&request, options)?;
        let call = self.call(Operation::Chat { stream: false }, &request.model_id());
        self.typed_request_in(&call, &request, written);
        self.complete(R::SHAPE, &request, model, options, call)
            .await
    }

    /// Sends `body` (non-streaming), with retries, and reads the response as `T`.
    pub(crate) async fn complete<B, T>(
        &self,
        shape: WireShape,
        body: &B,
        model: Model,
        options: &RequestOptions,
        mut call: Call,
    ) -> Result<Completion<T>, Error>
    where
        B: serde::Serialize,
        T: serde::de::DeserializeOwned + Answer,
    {
        let timeout = options
            .timeout
            .unwrap_or(self.inner.settings.timeouts.request);
        let (trace, trace_header) = begin(&mut call, options, body)?;
        let span = call.span().clone();
        // Not `instrument`ed (entering the span at every poll costs more than the rest of its
        // record): the span is handed to what records on it, and events name it as parent.
        let result = async {
            self.within_budget(&span).await?;
            if self.inner.settings.log_contents {
                tracing::debug!(parent: &span, body = %serde_json::to_string(body).unwrap_or_default(), "request");
            }
            let ((value, status, headers), attempts) = self
                .with_retries(&span, || async {
                    let admitted = self.admit(&span).await?;
                    within(timeout, async {
                        let sent = self
                            .send_once(shape, body, options, &trace_header, None, timeout, &span)
                            .await;
                        self.answered(admitted, &sent);
                        self.read_json::<T>(sent?, timeout).await
                    })
                    .await
                })
                .await
                .map_err(|e| e.with_client_request_id(&trace))?;
            let meta = self.response_meta(status, headers, attempts, model, trace);
            let done = Completion { value: *value, meta };
            let cost = done.cost();
            if call.is_recording() {
                call.answered(done.answered(cost.as_ref().map(|c| c.usd), call.records_contents()));
            }
            self.inner.spent.count(cost);
            Ok(done)
        }
        .await;
        if let Err(e) = &result {
            call.failed(e);
        }
        result
    }

    /// A typed request's settings in its call's span: from the JSON the property check wrote,
    /// else written out here (only when the span is recorded).
    fn typed_request_in<R: ChatRequest>(
        &self,
        call: &Call,
        request: &R,
        written: Option<serde_json::Value>,
    ) {
        if !call.span().is_disabled() {
            match written {
                Some(body) => call.request_json(&body),
                None => {
                    if let Ok(body) = serde_json::to_value(request) {
                        call.request_json(&body);
                    }
                }
            }
        }
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
            .with_gateway(&self.inner.settings.base_url)
            .with_client_request_id(client_request_id)
    }

    /// Reads a whole response (against the body limit) as `T`, with its status and headers.
    pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        mut response: reqwest::Response,
        timeout: Duration,
    ) -> Result<(Box<T>, reqwest::StatusCode, HeaderMap), Failure> {
        let limit = self.inner.settings.max_body;
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
        // Its decoded form is bounded as its bytes are: at most the limit again.
        // Boxed: the value goes out through every layer of a call's future (retries, the
        // timeout, the span), which would each move it whole (a chat completion is 640 bytes).
        let value = crate::json::from_slice::<Box<T>>(&body, limit).map_err(|e| Failure {
            error: Error::of_response(e, &body, status, &headers),
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
        model: &str,
    ) -> Result<Option<(T, HeaderMap)>, Error>
    where
        T: serde::de::DeserializeOwned,
        Q: serde::Serialize + ?Sized,
    {
        let timeout = self.inner.settings.timeouts.request;
        let tag = if_none_match.and_then(|t| HeaderValue::from_str(t).ok());
        let call = self.call(Operation::Service(operation), model);
        let span = &call.span().clone();
        let retried = self.with_retries(span, || {
            within(timeout, async {
                let mut request = self.get_request(url, query)?;
                if let Some(tag) = &tag {
                    request
                        .headers_mut()
                        .insert(reqwest::header::IF_NONE_MATCH, tag.clone());
                }
                let response = self.execute(request, None, timeout, span).await?;
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
                let value = *value;
                Ok(Some((value, headers)))
            })
        });
        let (answer, _) = self.traced(call, retried).await?;
        Ok(answer)
    }

    /// [`get_json`](Self::get_json) of a request that is not conditional: its value.
    pub(crate) async fn get_value<T, Q>(
        &self,
        url: &str,
        query: &Q,
        operation: &'static str,
        model: &str,
    ) -> Result<T, Error>
    where
        T: serde::de::DeserializeOwned,
        Q: serde::Serialize + ?Sized,
    {
        let answer = self.get_json(url, query, None, operation, model).await?;
        // Without `If-None-Match` the answer is a value or an error, never `None`.
        answer.map(|(value, _)| value).ok_or_else(|| Error::Decode {
            message: "no answer to a request that was not conditional".into(),
            body: String::new(),
        })
    }

    /// `GET url?query` with retries before the response starts; the body as it arrives (a
    /// batch's results: too large to hold), with the stream idle timeout between pieces.
    pub(crate) async fn get_stream<Q>(
        &self,
        url: &str,
        query: &Q,
        operation: &'static str,
    ) -> Result<ByteStream, Error>
    where
        Q: serde::Serialize + ?Sized,
    {
        let idle = self.inner.settings.timeouts.stream_idle;
        let call = self.call(Operation::Service(operation), "");
        let span = &call.span().clone();
        let retried = self.with_retries(span, || async {
            let request = self.get_request(url, query)?;
            let mut response = self.execute(request, Some(idle), idle, span).await?;
            let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
            Ok((status, headers, response))
        });
        let ((status, headers, response), attempts) = self.traced(call, retried).await?;
        let meta = ResponseMeta::new(status, headers, attempts, Model::from_id(""))
            .with_gateway(self.base_url());
        Ok(ByteStream::new(response, idle, meta))
    }

    /// `method url` with `body` (JSON bytes, or none when empty), read as `T`. With
    /// `only_unsent`, only failures where the server cannot have acted on the request are
    /// retried (a `429`, no connection): what a request that must not happen twice needs.
    pub(crate) async fn send_bytes<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: bytes::Bytes,
        only_unsent: bool,
        operation: &'static str,
    ) -> Result<T, Error> {
        let timeout = self.inner.settings.timeouts.request;
        let call = self.call(Operation::Service(operation), "");
        let span = &call.span().clone();
        let retried = self.with_retries(span, || {
            let body = body.clone();
            let method = method.clone();
            within(timeout, async move {
                let mut builder = self.inner.settings.http.request(method, url);
                if !body.is_empty() {
                    builder = builder
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body);
                }
                let mut request = builder.build().map_err(request_failure)?;
                crate::http::trace_id::insert_new(request.headers_mut());
                let answer = match self.execute(request, None, timeout, span).await {
                    Ok(response) => self.read_json::<T>(response, timeout).await,
                    Err(f) => Err(f),
                };
                answer.map(|(value, ..)| *value).map_err(|mut f| {
                    let unsent = matches!(
                        f.error.kind(),
                        crate::error::ErrorKind::RateLimited | crate::error::ErrorKind::Connection
                    );
                    f.retryable &= unsent || !only_unsent;
                    f
                })
            })
        });
        let (value, _) = self.traced(call, retried).await?;
        Ok(value)
    }

    /// Sends a typed request with `stream: true`, checked as [`send_request`](Self::send_request)
    /// checks it, and returns the body as it arrives.
    pub(crate) async fn stream_request<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<ByteStream, Error> {
        // The request is written before the stream opens, and the copy made for the provider let
        // go, as a conversation's body is (`Chat::open`): the opening holds the bytes across its
        // waits, not the typed request.
        let (body, model, options, call) = {
            let (request, model) = self.for_provider(request);
            let written = self.check(&request, options)?;
            let mut options = options.clone();
            // A typed request's own `stream_options` goes out as it is (looked for only where
            // the page takes the property: the request is written out to see).
            let own = || {
                serde_json::to_value(&request)
                    .ok()
                    .is_some_and(|v| v.get("stream_options").is_some_and(|o| !o.is_null()))
            };
            if crate::chat::write::asks_stream_usage(R::SHAPE, &model, &options) && !own() {
                options
                    .extra_body
                    .insert("stream_options".into(), crate::chat::write::include_usage());
            }
            options
                .extra_body
                .insert("stream".into(), serde_json::Value::Bool(true));
            let call = Box::new(self.call(Operation::Chat { stream: true }, &request.model_id()));
            self.typed_request_in(&call, &request, written);
            (Written::of(&request), model, options, call)
        };
        self.open_stream(R::SHAPE, &body, model, &options, call)
            .await
    }

    /// Sends `body` for a stream (it asks for one itself, or `options` does), with retries
    /// before the response starts, and returns the body as it arrives.
    pub(crate) async fn open_stream<B: RequestBody>(
        &self,
        shape: WireShape,
        body: &B,
        model: Model,
        options: &RequestOptions,
        // Boxed: the record (a few hundred bytes) would otherwise be held in this future twice
        // (the argument and its local), and once more in the caller's, while the stream opens.
        mut call: Box<Call>,
    ) -> Result<ByteStream, Error> {
        let idle = self.inner.settings.timeouts.stream_idle;
        let (trace, trace_header) = begin(&mut call, options, body)?;
        let span = call.span().clone();
        let result = async {
            self.within_budget(&span).await?;
            // An overload reported as the stream's first event is a failed attempt: its start
            // is read before the stream is handed over, and read again by it.
            let ((mut response, start), attempts) = self
                .with_retries(&span, || async {
                    let admitted = self.admit(&span).await?;
                    // In a block of its own: the attempt's result is not held beside the
                    // response while the first event is read (176 bytes a stream).
                    let mut response = {
                        let sent = self
                            .send_once(shape, body, options, &trace_header, Some(idle), idle, &span)
                            .await;
                        self.answered(admitted, &sent);
                        sent?
                    };
                    let start = crate::streaming::opening::first_event(&mut response, idle).await?;
                    Ok((response, start))
                })
                .await
                .map_err(|e| e.with_client_request_id(&trace))?;
            let (status, headers) = (response.status(), std::mem::take(response.headers_mut()));
            let meta = self.response_meta(status, headers, attempts, model, trace);
            Ok(ByteStream::new(response, idle, meta).unread(start))
        }
        .await;
        match result {
            Ok(stream) => {
                // The start just read holds the first chunk.
                call.first_chunk();
                Ok(stream.with_call(call))
            }
            Err(e) => {
                call.failed(&e);
                Err(e)
            }
        }
    }

    /// Waits for the gateway's rate limits to admit a model call (with admission on); the
    /// wait is an event on the call's span. `Some` when admitted by the gate.
    async fn admit(
        &self,
        span: &tracing::Span,
    ) -> Result<Option<crate::http::admission::Admitted<'_>>, Failure> {
        let Some(gate) = &self.inner.gate else {
            return Ok(None);
        };
        match Box::pin(gate.admit()).await {
            Ok(admitted) => {
                if admitted.waited >= Duration::from_millis(1) {
                    tracing::info!(parent: span, wait_ms = admitted.waited.as_millis() as u64, "admitted after waiting for the rate limit");
                }
                Ok(Some(admitted))
            }
            Err(error) => {
                tracing::warn!(parent: span, error = %error, "not admitted");
                Err(Failure {
                    error,
                    retryable: false,
                    headers: None,
                })
            }
        }
    }

    /// An admitted call's answer started (or failed before one): its headers are the gate's
    /// new reading.
    fn answered(
        &self,
        admitted: Option<crate::http::admission::Admitted<'_>>,
        sent: &Result<reqwest::Response, Failure>,
    ) {
        if let Some(admitted) = admitted {
            match sent {
                Ok(response) => admitted.answered(Some(response.headers())),
                Err(f) => admitted.answered(f.headers.as_ref()),
            }
        }
    }

    /// Sends the body once: the response when its status is a success, else the failure. With
    /// `header_wait`, the response's headers must come within it (streams); `timeout` is what a
    /// transport timeout is reported as.
    // Each argument is a distinct piece of the one attempt, passed on as it is.
    #[allow(clippy::too_many_arguments)]
    async fn send_once<B: RequestBody>(
        &self,
        shape: WireShape,
        body: &B,
        options: &RequestOptions,
        trace: &HeaderValue,
        header_wait: Option<Duration>,
        timeout: Duration,
        span: &tracing::Span,
    ) -> Result<reqwest::Response, Failure> {
        // Built by a plain function and handed on at once: the request is not kept in this
        // future's state across the await (a call's future is moved, whole, through its layers).
        let req = self.post_request(self.url(shape), body, options, trace)?;
        self.execute(req, header_wait, timeout, span).await
    }

    /// `GET url?query`.
    // A `Failure`, as every step of an attempt gives one.
    #[allow(clippy::result_large_err)]
    fn get_request<Q: serde::Serialize + ?Sized>(
        &self,
        url: &str,
        query: &Q,
    ) -> Result<reqwest::Request, Failure> {
        let http = &self.inner.settings.http;
        let mut req = http
            .get(url)
            .query(query)
            .build()
            .map_err(request_failure)?;
        crate::http::trace_id::insert_new(req.headers_mut());
        Ok(req)
    }

    /// `POST url` with `body` as JSON, the options' headers and body fields, and the request id.
    ///
    /// Built here rather than by reqwest's builder: the URL is cloned, not parsed again, and the
    /// header map is made to the size the request ends with in this map: its own two (the
    /// content type, the request id), the options' and the client's defaults (reqwest keeps
    /// this map while the response's headers are awaited, so room to spare is held by every
    /// stream as it opens: 1.2 KiB a map made for seven, against 0.6 for six). The headers
    /// hyper adds (host, length) go in the copy it is given, as with any reqwest request; a map
    /// made with room for them too measured dearer (callgrind, +1.9 k instructions a call).
    // A `Failure`, as every step of an attempt gives one.
    #[allow(clippy::result_large_err)]
    fn post_request<B: RequestBody>(
        &self,
        url: &reqwest::Url,
        body: &B,
        options: &RequestOptions,
        trace: &HeaderValue,
    ) -> Result<reqwest::Request, Failure> {
        let body = body.json().map_err(|e| Failure {
            error: cannot_write(&e),
            retryable: false,
            headers: None,
        })?;
        let mut req = reqwest::Request::new(reqwest::Method::POST, url.clone());
        let headers = req.headers_mut();
        *headers = HeaderMap::with_capacity(
            2 + options.headers.len() + self.inner.settings.default_headers,
        );
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        *req.body_mut() = Some(body.into());
        apply_request_options(options, &mut req);
        req.headers_mut()
            .insert(crate::http::trace_id::HEADER, trace.clone());
        Ok(req)
    }

    /// Sends `req` once: the response when its status is a success (or `304 Not Modified`, for
    /// a conditional request), else the failure. With `header_wait`, the response's headers must
    /// come within it (streams); `timeout` is what a transport timeout is reported as.
    ///
    /// A plain function that hands the request to reqwest before its future starts, so the future
    /// holds reqwest's 16-byte one, not the request; reading an error body (rare, and larger) is
    /// boxed for the same reason.
    pub(crate) fn execute<'a>(
        &'a self,
        req: reqwest::Request,
        header_wait: Option<Duration>,
        timeout: Duration,
        span: &'a tracing::Span,
    ) -> impl std::future::Future<Output = Result<reqwest::Response, Failure>> + Send + 'a {
        let sent = self.dispatch(req, header_wait);
        async move {
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
            span.record(
                "http.response.status_code",
                i64::from(response.status().as_u16()),
            );
            let status = response.status();
            if status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(response);
            }
            let settings = &self.inner.settings;
            Err(Box::pin(http_failure(response, &settings.retry, settings.max_body)).await)
        }
    }

    /// `req` (it carries its request id: each request builder above puts one in) with the
    /// timeout it goes with, handed to reqwest.
    fn dispatch(
        &self,
        mut req: reqwest::Request,
        header_wait: Option<Duration>,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + use<> {
        if let Some(ours) = &self.inner.settings.request_headers {
            let headers = req.headers_mut();
            for (name, value) in ours {
                if !headers.contains_key(name) {
                    headers.insert(name, value.clone());
                }
            }
        }
        if header_wait.is_none() {
            // A whole non-streaming request's timeout is the caller's `within` (one timer for
            // the request and its body), not reqwest's.
            *req.timeout_mut() = None;
        }
        self.inner.settings.http.execute(req)
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
        let kind = self.inner.settings.provider.kind();
        if request.model_is_typed() && spelling(kind) != spelling(R::id_spelling()) {
            let id = model.id_for(kind);
            if id != asked {
                request.set_model_id(&id);
            }
        }
        (request, model)
    }

    /// Refuses a request that sets a property its model's page does not list (see
    /// [`ClientBuilder::check_properties`](crate::ClientBuilder::check_properties)). The page is the chat page that lists the model id
    /// and is written as this request type; a model no such page lists is not checked.
    ///
    /// The request as written out to check it, when it was.
    fn check<R: ChatRequest>(
        &self,
        request: &R,
        options: &RequestOptions,
    ) -> Result<Option<serde_json::Value>, Error> {
        if !self.inner.settings.check_properties || options.send_unsupported {
            return Ok(None);
        }
        let id = request.model_id();
        let Some(page) = crate::model::MODEL_PAGES
            .iter()
            .find(|p| p.shape == R::SHAPE && p.ids.contains(&id.as_str()))
        else {
            return Ok(None);
        };
        let Ok(serde_json::Value::Object(body)) = serde_json::to_value(request) else {
            return Ok(None);
        };
        match body.keys().find(|k| !page.accepts(k)) {
            Some(property) => Err(Error::Unsupported {
                model: id,
                property: property.clone(),
                page: page.page,
            }),
            None => Ok(Some(serde_json::Value::Object(body))),
        }
    }

    /// The endpoint a body of `shape` goes to.
    fn url(&self, shape: WireShape) -> &reqwest::Url {
        if shape.is_messages() {
            &self.inner.messages_url
        } else {
            &self.inner.chat_url
        }
    }

    /// The record of a call of `operation` on `model` (empty for a call that names none): its
    /// span by the GenAI conventions, and its metrics.
    pub(crate) fn call(&self, operation: Operation, model: &str) -> Call {
        let inner = &*self.inner;
        Call::start(
            operation,
            model,
            crate::telemetry::Context {
                server: &inner.server,
                gateway: inner.settings.provider.name(),
                contents: inner.settings.log_contents,
                #[cfg(feature = "otel")]
                metrics: inner.metrics.as_ref(),
            },
        )
    }

    /// Runs `future`, which records on `call`'s span; its error is the call's.
    pub(crate) async fn traced<T>(
        &self,
        mut call: Call,
        future: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let result = future.await;
        if let Err(e) = &result {
            call.failed(e);
        }
        result
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries run out; returns the
    /// value and the number of attempts.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        span: &tracing::Span,
        mut attempt: F,
    ) -> Result<(T, u32), Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let policy = &self.inner.settings.retry;
        // The clock is read only for a policy bounded by time.
        let started = policy.max_elapsed.map(|_| tokio::time::Instant::now());
        let mut n = 0u32;
        loop {
            n += 1;
            span.record("attempt", i64::from(n));
            let f = match attempt().await {
                Ok(v) => {
                    tracing::info!(parent: span, attempt = n, "done");
                    return Ok((v, n));
                }
                Err(f) => f,
            };
            let wait = policy.delay(n - 1, f.headers.as_ref());
            let elapsed = started.map(|s| s.elapsed()).unwrap_or_default();
            if !f.retryable || !policy.allows(n - 1, elapsed, wait) {
                tracing::warn!(parent: span, attempt = n, error = %f.error, "failed");
                return Err(f.error);
            }
            tracing::warn!(parent: span, attempt = n, error = %f.error, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

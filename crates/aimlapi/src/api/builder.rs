//! [`ClientBuilder`]: a provider, a key, retries, timeouts, headers and limits, then the
//! [`Client`].

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, USER_AGENT};

use crate::api::Client;
use crate::error::Error;
use crate::http::failure::with_causes;
use crate::http::retry::RetryPolicy;
use crate::http::timeouts::Timeouts;
use crate::provider::{ApiKey, Provider};
use crate::transport::{Settings, Transport};

/// The HTTP/2 connection's receive window: 32 MiB, where hyper's default is 5. The h2 library
/// closes a connection (`ENHANCE_YOUR_CALM`, failing every stream on it) once the small DATA
/// frames it holds unread pass a budget of half this window; an answer's stream is one small
/// frame an event, so thousands of streams on one connection, read by tasks a busy runtime polls
/// late, passed the default's budget about half a second behind (the load bench lost every
/// stream of a run that way: BENCHMARKS.md). The window is also the most a server may send
/// unread on the connection, so this is the most it buffers.
#[cfg(feature = "http2")]
const H2_CONNECTION_WINDOW: u32 = 32 << 20;

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
    budget: Option<crate::budget::Budget>,
    http: Option<reqwest::Client>,
    fallbacks: Vec<ClientBuilder>,
    failover: crate::failover::FailoverPolicy,
    admission: Option<crate::http::admission::Admission>,
    /// HTTP/2 from the first byte, without TLS's ALPN to agree on it (h2c).
    #[cfg(feature = "http2")]
    http2_prior_knowledge: bool,
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
            budget: None,
            http: None,
            fallbacks: Vec::new(),
            failover: crate::failover::FailoverPolicy::default(),
            admission: Some(crate::http::admission::Admission::default()),
            #[cfg(feature = "http2")]
            http2_prior_knowledge: false,
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
    /// decides (model ids, headers, key variable): for proxies, mocks and tests. It must be an
    /// `http(s)` URL with a host, or [`build`](Self::build) fails.
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

    /// Whether request and response bodies go to the `debug` tracing level, and message
    /// contents into each call's span by the GenAI conventions (`gen_ai.input.messages`,
    /// `gen_ai.output.messages`, `gen_ai.system_instructions`, `gen_ai.tool.definitions`).
    /// Default: no; the key never does.
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

    /// A spending limit checked before each chat and Messages call against the account's own
    /// figures (see [`Budget`](crate::budget::Budget)): it holds across every process on the account.
    /// Without one (the default), no account request is ever made for it.
    pub fn budget(mut self, budget: crate::budget::Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Sends through `http`, the caller's own `reqwest::Client` (its proxies, pool, DNS, TLS
    /// roots), instead of one this crate builds. This client's headers (the key, the user
    /// agent, the provider's and the builder's own) go on each request, where the request does
    /// not set them; its timeouts, retries, body limit and budget still apply. The connect
    /// timeout is the caller's client's.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Speaks HTTP/2 from the first byte, over plain TCP too (h2c, "prior knowledge"), where
    /// otherwise HTTP/2 is agreed on in the TLS handshake (ALPN) and `http://` is HTTP/1.1: for
    /// a gateway, sidecar or proxy known to take HTTP/2 without TLS. One connection then carries
    /// every concurrent call. A server that speaks only HTTP/1.1 fails every call. Not used with
    /// [`http_client`](Self::http_client) (set it on that client).
    #[cfg(feature = "http2")]
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2_prior_knowledge = true;
        self
    }

    /// Another gateway, tried after this one (and the fallbacks given before it) when a
    /// conversation's call fails in a way the [`FailoverPolicy`](crate::failover::FailoverPolicy)
    /// moves: described by its own builder (provider, base URL, key, retries, timeouts), whose
    /// own fallbacks are not taken (a configuration error). Calls made with the conversation API
    /// ([`Client::chat`]) move, written for the gateway they go to; typed requests, batches,
    /// the catalogue and the account stay on this gateway.
    pub fn fallback(mut self, gateway: ClientBuilder) -> Self {
        self.fallbacks.push(gateway);
        self
    }

    /// How model calls are admitted by the gateway's rate limits: by default
    /// ([`Admission::default`](crate::http::admission::Admission)) a call waits locally while the last reading
    /// says nothing remains before the reset; `None` sends every call at once.
    pub fn admission(mut self, admission: Option<crate::http::admission::Admission>) -> Self {
        self.admission = admission;
        self
    }

    /// Which failures move a call to the next gateway, and the breakers
    /// ([`FailoverPolicy::default`](crate::failover::FailoverPolicy) unless set).
    pub fn failover(mut self, policy: crate::failover::FailoverPolicy) -> Self {
        self.failover = policy;
        self
    }

    /// Builds the client. Fails (`ErrorKind::Config`) when the AI/ML API or OpenRouter is chosen
    /// and no key was given nor found in the environment, when the key or a header cannot be sent
    /// as a header, or when the base URL is not an `http(s)` URL with a host.
    pub fn build(mut self) -> Result<Client, Error> {
        let fallbacks = std::mem::take(&mut self.fallbacks);
        let policy = std::mem::take(&mut self.failover);
        let primary = self.transport(None)?;
        if fallbacks.is_empty() {
            return Ok(Client::new(primary));
        }
        let mut all = vec![primary.clone()];
        for gateway in fallbacks {
            if !gateway.fallbacks.is_empty() {
                return Err(Error::Config(
                    "a fallback gateway has fallbacks of its own: give them all to the first builder"
                        .into(),
                ));
            }
            all.push(gateway.transport(Some(primary.spend().clone()))?);
        }
        Ok(Client::new(primary).with_route(crate::failover::Route::new(all, policy)))
    }

    /// The transport this builder describes, counting its calls' cost in `spent` when given
    /// (a fallback counts into its client's total).
    fn transport(
        self,
        spent: Option<std::sync::Arc<crate::cost::Spend>>,
    ) -> Result<Transport, Error> {
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
        // The HTTP client's builder, made before the headers move out of `self`.
        #[allow(unused_mut)]
        let mut http_builder = reqwest::Client::builder();
        #[cfg(feature = "http2")]
        {
            if self.http2_prior_knowledge {
                http_builder = http_builder.http2_prior_knowledge();
            }
            http_builder = http_builder.http2_initial_connection_window_size(H2_CONNECTION_WINDOW);
        }
        headers.extend(self.headers);
        // Ours, and reqwest's own default (`accept`) when the client is ours.
        let default_headers = headers.len() + usize::from(self.http.is_none());
        // With the lean TLS feature alone, reqwest has no crypto provider of its own: ring becomes
        // the process's default, unless the service installed one already (then theirs is used).
        #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc")))]
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Authorization, provider and caller-given headers go on every request as reqwest's
        // defaults: a header the request sets itself (RequestOptions) wins.
        // The caller's client keeps its own defaults: ours go on each request instead.
        let (http, request_headers) = match self.http {
            Some(http) => (http, Some(headers)),
            None => (
                http_builder
                    .connect_timeout(self.timeouts.connect)
                    // The client's own retries cover what reqwest's default retries (a request
                    // the server refused before reading it); left on, reqwest keeps a copy of
                    // every request's headers while its answer is awaited.
                    .retry(reqwest::retry::never().max_retries_per_request(0))
                    .default_headers(headers)
                    .build()
                    .map_err(|e| {
                        Error::Config(format!("HTTP client set-up: {}", with_causes(&e)))
                    })?,
                None,
            ),
        };
        if let Some(budget) = &self.budget {
            budget.check_settings()?;
        }
        let base_url = self
            .base_url
            .unwrap_or_else(|| self.provider.base_url().to_string());
        Transport::new(Settings {
            http,
            provider: self.provider,
            base_url,
            key,
            retry: self.retry,
            timeouts: self.timeouts,
            log_contents: self.log_contents,
            max_body: self.max_body,
            check_properties: self.check_properties,
            budget: self.budget,
            request_headers,
            default_headers,
            spent,
            admission: self.admission,
        })
    }
}

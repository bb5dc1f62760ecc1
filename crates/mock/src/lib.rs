//! A local stand-in for the AI/ML API's chat completions, Messages endpoint and model catalogue,
//! for offline use and tests, in the way stripe-mock stands in for Stripe.
//!
//! [`MockServer`] serves, on 127.0.0.1:
//!
//! | route | what |
//! | --- | --- |
//! | `POST /v1/chat/completions`, `/chat/completions` | chat completions (below) |
//! | `POST /api/v1/chat/completions` | the same, answered as OpenRouter answers (cost in `usage` only, `x-generation-id`) |
//! | `POST /v1/messages`, `/messages` | Anthropic's Messages endpoint |
//! | `GET /v1/models`, `/models`, `/api/v1/models` | the model catalogue, no key needed |
//! | `GET /model/{id}` | one model of it, by id or alias (not under `/v1`; slashes unescaped) |
//! | `GET /api/v1/generation?id=<id>` | OpenRouter's stats of an answer the mock gave |
//!
//! Any other method or path gets the vendor's 404 body.
//!
//! Chat completions and messages:
//!
//! - each request body is validated against the request schema of the bundled document its
//!   `model` names (`aimlapi_types::REQUEST_SCHEMAS`); an invalid one gets the vendor's 400 body,
//!   with what is wrong in the `x-mock-validation` header;
//! - with a key configured, a request without `Authorization: Bearer <key>` gets the vendor's 401;
//! - by default it answers with the documented response, or streams the documented transcript
//!   (seed 003) in the current format or the one used before 2026-02-13, with configurable pacing
//!   and HTTP chunking; the Messages endpoint answers a short greeting, as a message or as
//!   Anthropic's event stream;
//! - queued [`Reply`]s script what comes next: text, [`Reply::thinking`], tool calls, usage, any
//!   status with any headers, and stream faults ([`Fault`]): a dropped connection, a stall, a
//!   malformed chunk, an OpenRouter error chunk (an `error` event on the Messages endpoint),
//!   keep-alive comments (`ping` events);
//! - each answer has its cost: the answer's tokens at the catalogue's input and output prices
//!   for the model asked for ([`DEFAULT_USD_PER_MTOK`] when it quotes none), credits being the
//!   dollars times [`CREDITS_PER_USD`], rounded. A non-streaming answer carries
//!   `meta: {usage: {credits_used, usd_spent}}` and the headers `x-aimlapi-credits-used` (an
//!   integer) and `x-aimlapi-usd-spent` (nine decimals); a chat answer's `usage` carries
//!   OpenRouter's `cost`; a chat stream has no cost headers, its usage chunk has `cost` and its
//!   last chunk `meta` (in the current format only). [`Reply::without_cost`] (`no-cost` in
//!   `x-mock-reply`) or [`MockBuilder::cost`]`(false)` leaves all of it out. Scripted
//!   [`Reply::status`] replies are sent as scripted, without cost;
//! - each answer's id, tokens and cost are kept for `GET /api/v1/generation?id=<id>` (the last
//!   [`GENERATION_LIMIT`]): scripted chat answers have ids `gen-...`, messages `msg_...`.
//!
//! The catalogue (`fixtures/catalogue.json`, [`MockServer::catalogue`]) has one entry per Claude
//! model of the bundled pages and three others (an image model, a video model priced by
//! variants, a router with a variable price). Names, dates, limits and prices in it are the
//! mock's own test data. By default each entry has `id`, `aliases`, `type`, `info` and `tags`;
//! `include=pricing,modalities,capabilities` (or `all`; comma-separated or repeated; unknown
//! values ignored) attaches sections, `details=true` or `details=1` all of them. The filters
//! `id` (an id or an alias), `type`, `tags`, `modalities` (input or output), `input_modalities`,
//! `output_modalities` and `capabilities` are case-insensitive, OR within a parameter (commas or
//! repeats) and AND across them. Each answer has a weak `ETag`; a request whose
//! `If-None-Match` names it gets `304` with an empty body.
//!
//! On every route, every response carries a fresh `x-inference-id`, and echoes a request's
//! `X-Client-Request-Id` as `x-client-request-id` when it is 1 to 128 characters of `A-Z`,
//! `a-z`, `0-9`, `.`, `_`, `:` and `-` (any other value is dropped silently); a scripted header
//! of either name wins.
//!
//! Every request is recorded with its headers and query ([`MockServer::requests`]; the last
//! [`DEFAULT_RECORD_LIMIT`] are kept unless [`MockBuilder::record_limit`] says otherwise).
//! Nothing a request or a script carries makes the server drop the connection: a setting that
//! cannot be carried out (an invalid header name or value, a status that is not one) is a 400
//! with what is wrong in `x-mock-validation`, a request body over [`MAX_REQUEST_BODY`] a 413.
//!
//! A test, offline, of code that uses the client:
//!
//! ```
//! use aimlapi::{Client, Provider};
//! use aimlapi_mock::{MockServer, Reply};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mock = MockServer::start().await;
//! mock.push(Reply::text("Paris.").usage(9, 2));
//! let client = Client::builder()
//!     .provider(Provider::AimlApi).base_url(mock.base_url()).api_key("test")
//!     .build().unwrap();
//! let request: aimlapi::types::ChatCompletionRequest = serde_json::from_value(serde_json::json!({
//!     "model": "anthropic/claude-3-5-haiku",
//!     "messages": [{"role": "user", "content": "Capital of France?"}],
//! })).unwrap();
//! let done = client.chat_completion(&request).await.unwrap();
//! assert_eq!(done.text(), Some("Paris."));
//! assert_eq!(mock.requests()[0].body["messages"][0]["content"], "Capital of France?");
//! # }
//! ```
//!
//! An answer's cost, and one without it:
//!
//! ```
//! use aimlapi::{Client, Provider};
//! use aimlapi_mock::{MockServer, Reply};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let mock = MockServer::start().await;
//! // Claude 3.5 Haiku in the mock's catalogue: $0.80 in and $4 out per million tokens.
//! mock.push(Reply::text("Paris.").usage(1000, 500));
//! mock.push(Reply::text("Paris.").usage(1000, 500).without_cost());
//! let client = Client::builder()
//!     .provider(Provider::AimlApi).base_url(mock.base_url()).api_key("test")
//!     .build().unwrap();
//! let request: aimlapi::types::ChatCompletionRequest = serde_json::from_value(serde_json::json!({
//!     "model": "anthropic/claude-3-5-haiku",
//!     "messages": [{"role": "user", "content": "Capital of France?"}],
//! })).unwrap();
//! let priced = client.chat_completion(&request).await.unwrap();
//! assert_eq!((priced.meta.usd_spent, priced.meta.credits_used), (Some(0.0028), Some(5600.0)));
//! let unpriced = client.chat_completion(&request).await.unwrap();
//! assert_eq!((unpriced.meta.usd_spent, unpriced.meta.credits_used), (None, None));
//! # }
//! ```
//!
//! The `aimlapi-mock` binary runs the same server from the command line (`--help`).

#![deny(missing_docs)]

mod catalogue;
mod cost;
mod respond;
mod validate;

pub use cost::{CREDITS_PER_USD, DEFAULT_USD_PER_MTOK, GENERATION_LIMIT};

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;

use respond::Ending;
use validate::Schemas;

/// Which stream format to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Plain chunks, `data: {chunk}` (the API's format since 2026-02-13).
    #[default]
    Current,
    /// Each chunk wrapped as `{"event": chunk, "state": {..., "usage": {"input_tokens",
    /// "output_tokens"}}}` (the format before 2026-02-13).
    Legacy,
}

/// How a stream is cut into HTTP chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chunking {
    /// One HTTP chunk per server-sent event.
    #[default]
    PerEvent,
    /// HTTP chunks of this many bytes, events cut wherever they fall.
    Bytes(usize),
}

/// A fault injected into a stream. Counts are of data chunks sent before the fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This many `: OPENROUTER PROCESSING` comment lines before the first chunk.
    KeepAlive(usize),
    /// The connection is dropped after this many chunks, mid-body.
    DropAfter(usize),
    /// Nothing more is sent after this many chunks; the connection stays open.
    StallAfter(usize),
    /// A payload that is not JSON after this many chunks.
    MalformedAfter(usize),
    /// An OpenRouter error chunk (`error {code, message}`, `finish_reason: "error"`) and
    /// `[DONE]` after this many chunks.
    ErrorChunkAfter {
        /// Chunks sent before it.
        after: usize,
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
}

/// A tool call in a scripted reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedToolCall {
    /// The call's id.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as the JSON text the model would send.
    pub arguments: String,
}

/// What a scripted reply says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    text: Option<String>,
    tool_calls: Vec<ScriptedToolCall>,
    usage: (u64, u64),
    finish_reason: Option<String>,
    /// Thinking and its signature, on the Messages endpoint.
    thinking: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Documented,
    Scripted(Script),
    Status { status: u16, body: Option<String> },
}

/// What the server does with one request: the documented answer, a scripted one, or an error
/// status, with faults for streams. Queue replies with [`MockServer::push`]; a request that finds
/// the queue empty gets [`Reply::documented`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    kind: Kind,
    headers: Vec<(String, String)>,
    faults: Vec<Fault>,
    format: Option<Format>,
    cost: bool,
}

impl Reply {
    fn of(kind: Kind) -> Reply {
        Reply {
            kind,
            headers: Vec::new(),
            faults: Vec::new(),
            format: None,
            cost: true,
        }
    }

    /// The documented response, or the documented transcript when the request streams.
    pub fn documented() -> Reply {
        Reply::of(Kind::Documented)
    }

    /// An answer with this text (streamed a few characters per chunk). Usage defaults to 0/0.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::of(Kind::Scripted(Script {
            text: Some(text.into()),
            ..Script::default()
        }))
    }

    /// An answer that calls a tool (streamed with its arguments over many chunks); chain
    /// [`and_tool_call`](Self::and_tool_call) for more.
    pub fn tool_call(id: &str, name: &str, arguments: &str) -> Reply {
        Reply::of(Kind::Scripted(Script::default())).and_tool_call(id, name, arguments)
    }

    /// One more tool call in a scripted answer.
    pub fn and_tool_call(mut self, id: &str, name: &str, arguments: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.tool_calls.push(ScriptedToolCall {
                id: id.into(),
                name: name.into(),
                arguments: arguments.into(),
            });
        }
        self
    }

    /// Thinking with its signature before a scripted answer's text (the Messages endpoint's
    /// `thinking` block; the chat endpoint leaves it out).
    pub fn thinking(mut self, thinking: &str, signature: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.thinking = Some((thinking.into(), signature.into()));
        }
        self
    }

    /// The usage a scripted answer reports.
    pub fn usage(mut self, prompt_tokens: u64, completion_tokens: u64) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.usage = (prompt_tokens, completion_tokens);
        }
        self
    }

    /// The finish reason a scripted answer reports (default `stop`, or `tool_calls`).
    pub fn finish_reason(mut self, reason: &str) -> Reply {
        if let Kind::Scripted(s) = &mut self.kind {
            s.finish_reason = Some(reason.into());
        }
        self
    }

    /// An answer with this status and the vendor's error body for it (see [`body`](Self::body)).
    pub fn status(status: u16) -> Reply {
        Reply::of(Kind::Status { status, body: None })
    }

    /// The body of a [`status`](Self::status) reply, instead of the vendor's.
    pub fn body(mut self, body: impl Into<String>) -> Reply {
        if let Kind::Status { body: b, .. } = &mut self.kind {
            *b = Some(body.into());
        }
        self
    }

    /// A header on the response (`Retry-After`, `retry-after-ms`, `x-should-retry`, ...).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A fault for the stream, if the request streams.
    pub fn fault(mut self, fault: Fault) -> Reply {
        self.faults.push(fault);
        self
    }

    /// The stream format for this reply, instead of the server's.
    pub fn format(mut self, format: Format) -> Reply {
        self.format = Some(format);
        self
    }

    /// An answer without the cost: no `meta.usage` in the body, no `x-aimlapi-credits-used` or
    /// `x-aimlapi-usd-spent` header, no `cost` in the `usage` (nor in a stream's last chunks),
    /// as when the vendor sends no figure. [`MockBuilder::cost`] does this for every answer.
    pub fn without_cost(mut self) -> Reply {
        self.cost = false;
        self
    }

    /// Reads a reply from the `x-mock-reply` header: `;`-separated settings, e.g.
    /// `status=429; header=Retry-After:1` or `text=Hi; drop-after=2; legacy`. Settings:
    /// `status=N`, `body=TEXT`, `header=NAME:VALUE`, `text=TEXT`, `tool=ID,NAME,ARGS`,
    /// `thinking=TEXT,SIGNATURE` (the Messages endpoint),
    /// `usage=P,C`, `keep-alive=N`, `drop-after=N`, `stall-after=N`, `malformed-after=N`,
    /// `error-chunk-after=N`, `legacy`, `no-cost` ([`without_cost`](Self::without_cost)).
    pub fn parse(spec: &str) -> Result<Reply, String> {
        let mut reply = Reply::documented();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let number = || -> Result<usize, String> {
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{part}`: not a number"))
            };
            reply = match key.trim() {
                "status" => {
                    let status = u16::try_from(number()?)
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| format!("`{part}`: not an HTTP status"))?;
                    Reply {
                        kind: Kind::Status { status, body: None },
                        ..reply
                    }
                }
                "body" => reply.body(value),
                "header" => {
                    let (n, v) = value
                        .split_once(':')
                        .ok_or_else(|| format!("`{part}`: expected NAME:VALUE"))?;
                    let (n, v) = (n.trim(), v.trim());
                    check_header(n, v).map_err(|e| format!("`{part}`: {e}"))?;
                    reply.header(n, v)
                }
                "text" => {
                    reply.script_mut().text = Some(value.into());
                    reply
                }
                "thinking" => {
                    let (thinking, signature) = value
                        .rsplit_once(',')
                        .ok_or_else(|| format!("`{part}`: expected TEXT,SIGNATURE"))?;
                    reply.script_mut().thinking = Some((thinking.into(), signature.into()));
                    reply
                }
                "tool" => {
                    let mut it = value.splitn(3, ',');
                    let (Some(id), Some(name), Some(args)) = (it.next(), it.next(), it.next())
                    else {
                        return Err(format!("`{part}`: expected ID,NAME,ARGS"));
                    };
                    reply.script_mut();
                    reply.and_tool_call(id, name, args)
                }
                "usage" => {
                    let (p, c) = value
                        .split_once(',')
                        .and_then(|(p, c)| Some((p.trim().parse().ok()?, c.trim().parse().ok()?)))
                        .ok_or_else(|| format!("`{part}`: expected P,C"))?;
                    reply.script_mut();
                    reply.usage(p, c)
                }
                "keep-alive" => {
                    let n = number()?;
                    if n > MAX_KEEP_ALIVES {
                        return Err(format!("`{part}`: at most {MAX_KEEP_ALIVES}"));
                    }
                    reply.fault(Fault::KeepAlive(n))
                }
                "drop-after" => reply.fault(Fault::DropAfter(number()?)),
                "stall-after" => reply.fault(Fault::StallAfter(number()?)),
                "malformed-after" => reply.fault(Fault::MalformedAfter(number()?)),
                "error-chunk-after" => reply.fault(Fault::ErrorChunkAfter {
                    after: number()?,
                    code: 502,
                    message: "upstream error (injected by the mock)".into(),
                }),
                "legacy" => reply.format(Format::Legacy),
                "no-cost" => reply.without_cost(),
                other => return Err(format!("unknown setting `{other}`")),
            };
        }
        Ok(reply)
    }
}

/// The most keep-alive comments one reply sends.
const MAX_KEEP_ALIVES: usize = 10_000;

/// Whether `name: value` can be sent as a response header; what is wrong if not.
fn check_header(name: &str, value: &str) -> Result<(), String> {
    hyper::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    hyper::header::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of {name} has characters a header cannot carry"))?;
    Ok(())
}

/// `text` as a header value: visible ASCII kept, anything else escaped (`\n`, `\u{e9}`).
fn header_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let keep = c == ' ' || c.is_ascii_graphic();
            let escaped = (!keep).then(|| c.escape_default());
            keep.then_some(c)
                .into_iter()
                .chain(escaped.into_iter().flatten())
        })
        .collect()
}

impl Reply {
    /// The reply's script, made an empty one first unless the reply is scripted already.
    fn script_mut(&mut self) -> &mut Script {
        if !matches!(self.kind, Kind::Scripted(_)) {
            self.kind = Kind::Scripted(Script::default());
        }
        match &mut self.kind {
            Kind::Scripted(s) => s,
            _ => unreachable!("made scripted above"),
        }
    }
}

/// A request as the server received it.
#[derive(Clone)]
pub struct Recorded {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The query string as sent (no `?`), empty when there is none.
    pub query: String,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::String` of the raw text when it is not JSON).
    pub body: Value,
    /// The `x-inference-id` the server made for the response (a scripted `x-inference-id`
    /// header, if any, went out instead).
    pub inference_id: String,
}

impl Recorded {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key a client sent is not printed.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let v = if k == "authorization" {
                    "<redacted>"
                } else {
                    v
                };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Recorded")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("inference_id", &self.inference_id)
            .finish()
    }
}

/// How a server is set up; see [`MockServer::builder`].
#[derive(Clone, Debug)]
pub struct MockBuilder {
    addr: SocketAddr,
    api_key: Option<String>,
    format: Format,
    chunking: Chunking,
    pace: Duration,
    replies: Vec<Reply>,
    record_limit: usize,
    validate: bool,
    cost: bool,
}

/// How many requests a server keeps by default ([`MockBuilder::record_limit`]).
pub const DEFAULT_RECORD_LIMIT: usize = 1_000;

/// The largest request body the server reads: 32 MiB; a larger one gets 413.
pub const MAX_REQUEST_BODY: usize = 32 << 20;

impl Default for MockBuilder {
    fn default() -> Self {
        MockBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            api_key: None,
            format: Format::Current,
            chunking: Chunking::PerEvent,
            pace: Duration::ZERO,
            replies: Vec::new(),
            record_limit: DEFAULT_RECORD_LIMIT,
            validate: true,
            cost: true,
        }
    }
}

impl MockBuilder {
    /// The port to listen on (default: a free one). The address is always 127.0.0.1.
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Requires `Authorization: Bearer <key>`; others get the vendor's 401.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The stream format (default: the current one).
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// How streams are cut into HTTP chunks (default: one per event).
    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }

    /// A pause before each HTTP chunk of a stream (default: none).
    pub fn pace(mut self, pause: Duration) -> Self {
        self.pace = pause;
        self
    }

    /// How many requests to keep for [`MockServer::requests`] (default
    /// [`DEFAULT_RECORD_LIMIT`]): the oldest go first, so a long-running server's memory stays
    /// bounded. 0 keeps none.
    pub fn record_limit(mut self, n: usize) -> Self {
        self.record_limit = n;
        self
    }

    /// Whether each request body is checked against the request schema of its model's page
    /// (default: yes; an invalid one gets the vendor's 400). Off, any JSON body is taken, as a
    /// proxy with ids of its own would take it; a model no page lists gets the documented Claude
    /// 3.5 Haiku answer.
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// Whether answers carry their cost (default: yes): `meta.usage` and the
    /// `x-aimlapi-credits-used` / `x-aimlapi-usd-spent` headers on non-streaming answers,
    /// `cost` in the chat endpoint's `usage`, `meta.usage` on a chat stream's last chunk. Off,
    /// every answer is as [`Reply::without_cost`] makes one.
    pub fn cost(mut self, on: bool) -> Self {
        self.cost = on;
        self
    }

    /// A reply queued from the start.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }

    /// Binds and starts serving.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        // The queued replies move into the queue; the set-up keeps the rest.
        let mut config = self;
        let replies = std::mem::take(&mut config.replies);
        let shared = Arc::new(Shared {
            config,
            queue: Mutex::new(replies.into_iter().collect()),
            recorded: Mutex::new(VecDeque::new()),
            counter: AtomicU64::new(0),
            generations: cost::Generations::default(),
            seed: std::collections::hash_map::RandomState::new(),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(MockServer {
            base_url: format!("http://{addr}"),
            shared,
            accept,
        })
    }
}

struct Shared {
    config: MockBuilder,
    queue: Mutex<VecDeque<Reply>>,
    recorded: Mutex<VecDeque<Recorded>>,
    counter: AtomicU64,
    /// What each answer cost, for the generation stats endpoint.
    generations: cost::Generations,
    /// Makes inference ids differ between servers.
    seed: std::collections::hash_map::RandomState,
}

/// The mock server. It stops, and closes every connection it holds, when dropped.
pub struct MockServer {
    base_url: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl MockServer {
    /// A server on a free port of 127.0.0.1 with the default set-up.
    ///
    /// # Panics
    /// If no port can be bound; use [`builder`](Self::builder) to handle that.
    pub async fn start() -> MockServer {
        MockServer::builder().start().await.expect("bind 127.0.0.1")
    }

    /// A set-up to change before starting.
    pub fn builder() -> MockBuilder {
        MockBuilder::default()
    }

    /// `http://127.0.0.1:<port>`; the API paths (`/v1/chat/completions`, `/v1/messages`,
    /// `/v1/models`, ...; see the crate's documentation) follow it.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Queues a reply for the next request that finds the queue's front.
    pub fn push(&self, reply: Reply) {
        self.shared.queue.lock().expect("lock").push_back(reply);
    }

    /// The requests received so far, in order: the last [`MockBuilder::record_limit`] of them.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .recorded
            .lock()
            .expect("lock")
            .iter()
            .cloned()
            .collect()
    }

    /// The catalogue that `GET /v1/models` and `GET /model/{id}` serve, each entry whole (with
    /// its `pricing`, `modalities` and `capabilities`): `fixtures/catalogue.json`, one entry per
    /// Claude model of the bundled pages and three others. Its prices are the mock's own test
    /// data, and are what the answers' cost is computed from.
    pub fn catalogue() -> Vec<Value> {
        catalogue::entries().to_vec()
    }

    /// Every model id the bundled documents know, with the document it belongs to.
    pub fn models() -> Vec<(String, String)> {
        schemas()
            .models()
            .map(|(m, d)| (m.to_string(), d.to_string()))
            .collect()
    }
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(Schemas::load)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in this set: aborting this task (dropping the server) drops them all.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                stream.set_nodelay(true).ok();
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(
    status: u16,
    content_type: &str,
    body: String,
    headers: &[(String, String)],
) -> Response<Body> {
    let body = Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed();
    respond_with(status, content_type, headers, body)
}

/// A response, or, when the scripted status or headers cannot be sent, a 400 that says why.
fn respond_with(
    status: u16,
    content_type: &str,
    headers: &[(String, String)],
    body: Body,
) -> Response<Body> {
    let Ok(status) = StatusCode::from_u16(status) else {
        return refused(
            400,
            "",
            0,
            &format!("scripted status {status} is not an HTTP status"),
        );
    };
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type);
    for (k, v) in headers {
        if let Err(problem) = check_header(k, v) {
            return refused(400, "", 0, &format!("scripted header: {problem}"));
        }
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(body)
        .unwrap_or_else(|e| refused(400, "", 0, &format!("scripted response: {e}")))
}

/// The vendor's error body for `status`, with what is wrong in `x-mock-validation`.
fn refused(status: u16, path: &str, id: u64, problem: &str) -> Response<Body> {
    let body = respond::error_body(status, path, id);
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&header_safe(problem)) {
        headers.insert("x-mock-validation", v);
    }
    response
}

/// Whether a client's `X-Client-Request-Id` is echoed: 1 to 128 characters of `A-Z`, `a-z`,
/// `0-9`, `.`, `_`, `:` and `-`. Any other value is dropped without a word, as the vendor does.
fn valid_client_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// A fresh inference id: 21 characters of `A-Z a-z 0-9`, the server's seed hashed with the
/// request's number (so ids differ between servers), then the number (so they never repeat on
/// one server).
fn inference_id(seed: &std::collections::hash_map::RandomState, n: u64) -> String {
    use std::hash::BuildHasher;
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let base62 = |mut x: u64, width: usize| {
        let mut out = vec!['0'; width];
        for slot in out.iter_mut().rev() {
            *slot = char::from(DIGITS[(x % 62) as usize]);
            x /= 62;
        }
        out
    };
    base62(seed.hash_one(n), 11)
        .into_iter()
        .chain(base62(n, 10))
        .collect()
}

/// Every response, whatever its route, carries `x-inference-id` and echoes a valid
/// `X-Client-Request-Id` as `x-client-request-id` (unless a scripted reply set them itself).
async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    let inference_id = inference_id(&shared.seed, n);
    let client_id = req
        .headers()
        .get("x-client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_client_request_id(v))
        .map(str::to_string);
    let mut response = route(&shared, req, n, &inference_id).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-inference-id", Some(inference_id)),
        ("x-client-request-id", client_id),
    ] {
        let value = value.and_then(|v| hyper::header::HeaderValue::from_str(&v).ok());
        if let Some(value) = value.filter(|_| !headers.contains_key(name)) {
            headers.insert(name, value);
        }
    }
    response
}

async fn route(
    shared: &Shared,
    req: Request<Incoming>,
    id: u64,
    inference_id: &str,
) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let auth = header("authorization");
    let spec = header("x-mock-reply");
    let if_none_match = header("if-none-match");
    let raw = match http_body_util::Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let too_large = e.is::<http_body_util::LengthLimitError>();
            let (status, problem) = if too_large {
                (
                    413,
                    format!("the request body is over {MAX_REQUEST_BODY} bytes"),
                )
            } else {
                (400, format!("the request body could not be read: {e}"))
            };
            return refused(status, &path, id, &problem);
        }
    };
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let limit = shared.config.record_limit;
    if limit > 0 {
        let mut recorded = shared.recorded.lock().expect("lock");
        while recorded.len() >= limit {
            recorded.pop_front();
        }
        recorded.push_back(Recorded {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: headers.clone(),
            body: body.clone(),
            inference_id: inference_id.to_string(),
        });
    }
    let json = "application/json";
    let not_found = || full(404, json, respond::error_body(404, &path, id), &[]);
    // The catalogue answers HEAD as GET (hyper sends no body for it), for `curl -I`.
    if method == "GET" || method == "HEAD" {
        if matches!(path.as_str(), "/v1/models" | "/models" | "/api/v1/models") {
            return cached(catalogue::list(&query), if_none_match.as_deref());
        }
        if let Some(name) = path.strip_prefix("/model/") {
            return match catalogue::one(&catalogue::decode(name, false), &query) {
                Some(body) => cached(body, if_none_match.as_deref()),
                None => not_found(),
            };
        }
    }
    if method == "GET" && path == "/api/v1/generation" {
        return generation(shared, &query, auth.as_deref());
    }
    let messages = matches!(path.as_str(), "/v1/messages" | "/messages");
    let chat = matches!(
        path.as_str(),
        "/v1/chat/completions" | "/chat/completions" | "/api/v1/chat/completions"
    );
    if method != "POST" || !(messages || chat) {
        return not_found();
    }
    if !authorized(shared, auth.as_deref()) {
        return full(401, json, respond::error_body(401, &path, id), &[]);
    }
    if messages {
        return serve_message(shared, &path, id, inference_id, &body, spec);
    }
    serve_chat(shared, &path, id, inference_id, &body, spec)
}

/// Whether a request may use the API: any may when no key is configured, else one with
/// `Authorization: Bearer <key>`.
fn authorized(shared: &Shared, auth: Option<&str>) -> bool {
    match &shared.config.api_key {
        Some(key) => auth == Some(format!("Bearer {key}").as_str()),
        None => true,
    }
}

/// A catalogue answer with its weak `ETag`; `304` with an empty body when `If-None-Match` names
/// that tag.
fn cached(body: String, if_none_match: Option<&str>) -> Response<Body> {
    let tag = catalogue::etag(&body);
    let headers = [("etag".to_string(), tag.clone())];
    if if_none_match.is_some_and(|v| catalogue::matches(v, &tag)) {
        let mut response = full(304, "application/json", String::new(), &headers);
        response.headers_mut().remove("content-type");
        return response;
    }
    full(200, "application/json", body, &headers)
}

/// An error in OpenRouter's shape: `{"error": {"code", "message"}}`.
fn openrouter_error(status: u16, message: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {"code": status, "message": message}});
    full(status, "application/json", body.to_string(), &[])
}

/// `GET /api/v1/generation?id=<id>`: OpenRouter's stats of an answer the mock gave, 404 for an
/// id it did not give (or no longer keeps).
fn generation(shared: &Shared, query: &str, auth: Option<&str>) -> Response<Body> {
    if !authorized(shared, auth) {
        return openrouter_error(401, "No auth credentials found");
    }
    let wanted = catalogue::query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty());
    let Some(wanted) = wanted else {
        return openrouter_error(400, "the `id` query parameter is required");
    };
    match shared.generations.find(&wanted) {
        Some(g) => full(200, "application/json", g.stats().to_string(), &[]),
        None => openrouter_error(404, &format!("Generation {wanted} not found")),
    }
}

/// `headers` with each of `more` whose name it does not have yet (a scripted header wins).
fn add_missing(
    headers: &mut Vec<(String, String)>,
    more: impl IntoIterator<Item = (String, String)>,
) {
    for (name, value) in more {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(&name)) {
            headers.push((name, value));
        }
    }
}

/// `meta.usage.credits_used` and `usd_spent` set on `answer` where it has none.
fn set_meta(answer: &mut Value, cost: &cost::Cost) {
    let Some(answer) = answer.as_object_mut() else {
        return;
    };
    let meta = answer
        .entry("meta")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let usage = meta
        .entry("usage")
        .or_insert_with(|| Value::Object(Default::default()));
    if let (Some(usage), Value::Object(figures)) =
        (usage.as_object_mut(), cost.meta()["usage"].take())
    {
        for (k, v) in figures {
            usage.entry(k).or_insert(v);
        }
    }
}

/// `cost` set in `answer`'s `usage` where it has none (OpenRouter's field).
fn set_usage_cost(answer: &mut Value, cost: &cost::Cost) {
    if let Some(usage) = answer.get_mut("usage").and_then(Value::as_object_mut) {
        usage
            .entry("cost")
            .or_insert_with(|| serde_json::json!(cost.usd));
    }
}

/// `POST /v1/chat/completions` (or `/chat/completions`, or OpenRouter's `/api/v1/chat/completions`):
/// the body validated, then the reply, its cost kept for the stats endpoint and, unless left out,
/// sent with it.
fn serve_chat(
    shared: &Shared,
    path: &str,
    id: u64,
    inference_id: &str,
    body: &Value,
    spec: Option<String>,
) -> Response<Body> {
    let json = "application/json";
    let stem = if shared.config.validate {
        match schemas().check(body) {
            Ok(stem) => stem,
            Err(problem) => return refused(400, path, id, &problem),
        }
    } else {
        let model = body["model"].as_str().unwrap_or_default();
        schemas().document_of(model).unwrap_or("claude-3-5-haiku")
    };
    let reply = match next_reply(shared, spec) {
        Ok(reply) => reply,
        Err(problem) => return refused(400, path, id, &problem),
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let streaming = body.get("stream") == Some(&Value::Bool(true));
    // A request on OpenRouter's path is answered as OpenRouter answers: the cost in `usage`
    // only, the id in `x-generation-id`. On the AI/ML API's paths the answer carries both the
    // AI/ML API's `meta` and OpenRouter's `usage.cost` (the mock cannot tell which client asks).
    let openrouter = path.starts_with("/api/");
    let charged = reply.cost && shared.config.cost;
    let completion_id = format!("gen-{inference_id}");
    let mut headers = reply.headers.clone();
    if let Kind::Status { status, body } = &reply.kind {
        let text = body
            .clone()
            .unwrap_or_else(|| respond::error_body(*status, path, id));
        return full(*status, json, text, &headers);
    }
    if !streaming {
        let (mut answer, documented) = match &reply.kind {
            Kind::Scripted(s) => (
                respond::scripted_completion(s, &model, &completion_id),
                None,
            ),
            _ => {
                let text = respond::documented_response(stem);
                (
                    serde_json::from_str(&text).unwrap_or(Value::Null),
                    Some(text),
                )
            }
        };
        let (prompt, completion) = cost::chat_tokens(answer.get("usage"));
        let answered = answer["model"].as_str().unwrap_or_default().to_string();
        let cost = cost::Cost::carried(&answer)
            .unwrap_or_else(|| cost::Cost::of(&[&model, &answered], prompt, completion));
        let answer_id = answer["id"].as_str().unwrap_or_default().to_string();
        shared.generations.keep(cost::Generation {
            id: answer_id.clone(),
            model: if answered.is_empty() { model } else { answered },
            prompt,
            completion,
            cost,
            finish_reason: answer
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
            streamed: false,
            cancelled: false,
        });
        if openrouter {
            add_missing(&mut headers, [("x-generation-id".into(), answer_id)]);
        }
        let text = match documented {
            // Not charged, the documented answer goes out as written.
            Some(text) if !charged => text,
            _ => {
                if charged {
                    set_usage_cost(&mut answer, &cost);
                    if !openrouter {
                        set_meta(&mut answer, &cost);
                        add_missing(&mut headers, cost.headers());
                    }
                }
                answer.to_string()
            }
        };
        return full(200, json, text, &headers);
    }
    let mut chunks = match &reply.kind {
        Kind::Scripted(s) => respond::scripted_chunks(s, &model, &completion_id),
        _ => respond::documented_chunks(),
    };
    let format = reply.format.unwrap_or(shared.config.format);
    let usage = chunks
        .iter()
        .rev()
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()));
    let (prompt, completion) = cost::chat_tokens(usage);
    let answered = chunks
        .iter()
        .find_map(|c| c.get("model").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let answer_id = chunks
        .iter()
        .find_map(|c| {
            c.get("id")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
        })
        .unwrap_or_default()
        .to_string();
    let finish_reason = chunks.iter().rev().find_map(|c| {
        c.pointer("/choices/0/finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let cost = cost::Cost::of(&[&model, &answered], prompt, completion);
    // The cost rides on the usage chunk and the last chunk, in the current format only (the
    // format used before 2026-02-13 carried none).
    if charged && format == Format::Current {
        if let Some(chunk) = chunks
            .iter_mut()
            .rev()
            .find(|c| c.get("usage").is_some_and(|u| !u.is_null()))
        {
            set_usage_cost(chunk, &cost);
        }
        if !openrouter {
            if let Some(last) = chunks.last_mut() {
                set_meta(last, &cost);
            }
        }
    }
    let (events, ending) = respond::events(chunks, format, &reply.faults);
    shared.generations.keep(cost::Generation {
        id: answer_id.clone(),
        model: if answered.is_empty() { model } else { answered },
        prompt,
        completion,
        cost,
        finish_reason,
        streamed: true,
        cancelled: ending != Ending::End,
    });
    if openrouter {
        add_missing(&mut headers, [("x-generation-id".into(), answer_id)]);
    }
    stream_response(events, ending, &shared.config, &headers)
}

/// The reply to a request: the one its `x-mock-reply` header scripts, else the next queued one,
/// else the documented answer. A header that does not parse is the problem to refuse with.
fn next_reply(shared: &Shared, spec: Option<String>) -> Result<Reply, String> {
    match spec.map(|s| Reply::parse(&s)) {
        Some(Ok(reply)) => Ok(reply),
        Some(Err(e)) => Err(format!("x-mock-reply: {e}")),
        None => Ok(shared
            .queue
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(Reply::documented)),
    }
}

/// `POST /v1/messages` (or `/messages`): the body checked against the Messages pages' request
/// schema, then the reply as a message (with its cost unless left out) or as its event stream.
fn serve_message(
    shared: &Shared,
    path: &str,
    id: u64,
    inference_id: &str,
    body: &Value,
    spec: Option<String>,
) -> Response<Body> {
    let json = "application/json";
    if shared.config.validate {
        if let Err(problem) = schemas().check_message(body) {
            return refused(400, path, id, &problem);
        }
    }
    let reply = match next_reply(shared, spec) {
        Ok(reply) => reply,
        Err(problem) => return refused(400, path, id, &problem),
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let streaming = body.get("stream") == Some(&Value::Bool(true));
    let script = match &reply.kind {
        Kind::Status { status, body } => {
            let text = body
                .clone()
                .unwrap_or_else(|| respond::error_body(*status, path, id));
            return full(*status, json, text, &reply.headers);
        }
        Kind::Scripted(s) => s.clone(),
        // No page documents a Messages answer: a short greeting stands in.
        Kind::Documented => Script {
            text: Some("Hello! How can I help you today?".into()),
            usage: (12, 10),
            ..Script::default()
        },
    };
    let message_id = format!("msg_{inference_id}");
    let (prompt, completion) = script.usage;
    let cost = cost::Cost::of(&[&model], prompt, completion);
    let mut generation = cost::Generation {
        id: message_id.clone(),
        model: model.clone(),
        prompt,
        completion,
        cost,
        finish_reason: None,
        streamed: streaming,
        cancelled: false,
    };
    if !streaming {
        let mut message = respond::scripted_message(&script, &model, &message_id);
        generation.finish_reason = message["stop_reason"].as_str().map(str::to_string);
        shared.generations.keep(generation);
        let mut headers = reply.headers.clone();
        if reply.cost && shared.config.cost {
            set_meta(&mut message, &cost);
            add_missing(&mut headers, cost.headers());
        }
        return full(200, json, message.to_string(), &headers);
    }
    let events = respond::message_events(&script, &model, &message_id);
    generation.finish_reason = events.iter().find_map(|(_, e)| {
        e.pointer("/delta/stop_reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let (events, ending) = respond::message_frames(events, &reply.faults);
    generation.cancelled = ending != Ending::End;
    shared.generations.keep(generation);
    stream_response(events, ending, &shared.config, &reply.headers)
}

fn stream_response(
    events: Vec<Bytes>,
    ending: Ending,
    config: &MockBuilder,
    headers: &[(String, String)],
) -> Response<Body> {
    let frames: Vec<Bytes> = match config.chunking {
        Chunking::PerEvent => events,
        Chunking::Bytes(n) => {
            let all: Vec<u8> = events.concat();
            all.chunks(n.max(1)).map(Bytes::copy_from_slice).collect()
        }
    };
    let pace = config.pace;
    let body = futures::stream::iter(frames)
        .then(move |frame| async move {
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            Ok::<_, std::io::Error>(Frame::data(frame))
        })
        .chain(
            futures::stream::once(async move {
                match ending {
                    Ending::End => None,
                    // An error from the body makes hyper close the connection mid-body. A pause
                    // first lets hyper flush what was sent before (it writes out while the body is
                    // pending), so the client sees the chunks, then the broken connection.
                    Ending::Drop => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Some(Err(std::io::Error::other("connection dropped by the mock")))
                    }
                    Ending::Stall => futures::future::pending().await,
                }
            })
            .filter_map(|x| async move { x }),
        );
    let mut headers = headers.to_vec();
    headers.push(("cache-control".into(), "no-cache".into()));
    respond_with(
        200,
        "text/event-stream",
        &headers,
        BodyExt::boxed(StreamBody::new(body)),
    )
}

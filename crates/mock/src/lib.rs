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
//! | `POST /v1/batches`, `GET /v1/batches?batch_id=`, `POST /v1/batches/cancel/{id}` | message batches (below); also without `/v1` |
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
//! Message batches: a batch's body is validated against the batch document's request schema;
//! the batch is `in_progress` (the status route answers `[{"id", "status": "generating"}]`)
//! until [`MockBuilder::batch_delay`] has passed, then ended, its results served by the status
//! route; a cancel makes it `canceling` (a batch object with `"status": "cancelled"`) and ends it
//! a quarter of the delay later with every request `canceled`; a cancel after the end is the
//! vendor's 400 with Anthropic's error inside its `message`; an unknown id is a 404. A batch
//! whose [`MockBuilder::batch_expiry`] comes before its end ends then with every request
//! `expired`. Each request ends as [`MockServer::script_batch`] scripted it by its `custom_id`,
//! else as the next queued [`Reply`] says, else with the documented greeting; results come in
//! no particular order (the last request's first), as the API promises none, and carry
//! `service_tier: "batch"` in their usage and no cost figure. [`MockBuilder::batch_form`] picks
//! the status route's answer form ([`BatchForm`]: a JSON array, JSON lines, or bare values).
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
//! assert_eq!(done.text().as_deref(), Some("Paris."));
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
//! Cassettes: with [`MockBuilder::cassettes`] the server is a recording proxy in front of a real
//! gateway ([`Mode::RecordMissing`], [`Mode::RecordAll`]: each exchange written, its secrets
//! filtered, to a cassette file of the folder) or answers from what was recorded
//! ([`Mode::Replay`], [`MockServer::replay`]): every route as recorded, streams chunk for chunk,
//! with their timing if asked; a request no cassette holds gets a 404 naming the closest exchange
//! and where it differs. [`drift`] reports what the recorded answers carry that the bundled
//! documents do not name. The format and the rules are in the crate's README. With the `client`
//! feature, [`MockServer::client`] and [`MockServer::replay_client`] give an `aimlapi::Client`
//! pointed at the server.
//!
//! The `aimlapi-mock` binary runs the same server from the command line (`--help`).

#![deny(missing_docs)]

mod account;
mod batches;
mod bodies;
mod cassette;
mod catalogue;
mod clock;
mod cost;
mod outage;
mod recorded;
mod reply;
mod response;
mod routes;
mod server;
mod state;
mod stream;
mod validate;

pub use account::ACCOUNT_LIMIT;
pub use batches::{BatchForm, BatchOutcome};
pub use cassette::{drift, Cassettes, Drift, DriftKind, Mode, CASSETTE_HEADER};
pub use cost::{CREDITS_PER_USD, DEFAULT_USD_PER_MTOK, GENERATION_LIMIT};
pub use outage::Outage;
pub use recorded::Recorded;
pub use reply::{Fault, Format, Reply, Script, ScriptedToolCall};
pub use server::MockServer;
pub use state::{MockBuilder, DEFAULT_RECORD_LIMIT, MAX_REQUEST_BODY};
pub use stream::Chunking;

//! What a server is set up with ([`MockBuilder`]) and what its connections share: the state the
//! server and the routes both read.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use crate::batches::BatchForm;
use crate::cost;
use crate::recorded::Recorded;
use crate::reply::{Format, Reply};
use crate::stream::Chunking;

/// How a server is set up; see [`MockServer::builder`](crate::MockServer::builder).
#[derive(Clone, Debug)]
pub struct MockBuilder {
    pub(crate) addr: SocketAddr,
    pub(crate) api_key: Option<String>,
    pub(crate) format: Format,
    pub(crate) chunking: Chunking,
    pub(crate) pace: Duration,
    pub(crate) replies: Vec<Reply>,
    pub(crate) record_limit: usize,
    pub(crate) validate: bool,
    pub(crate) cost: bool,
    pub(crate) batch_delay: Duration,
    pub(crate) batch_expiry: Duration,
    pub(crate) batch_form: BatchForm,
    pub(crate) batch_progress: bool,
    pub(crate) outage: Option<crate::Outage>,
    pub(crate) rate_limit: Option<(u64, Duration)>,
    pub(crate) management_key: Option<String>,
    pub(crate) account_balance: f64,
    pub(crate) charge_delay: Duration,
    pub(crate) logs_limit: usize,
    pub(crate) logs_per: Duration,
    pub(crate) cassettes: Option<crate::Cassettes>,
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
            batch_delay: Duration::from_secs(2),
            batch_expiry: Duration::from_secs(24 * 3600),
            batch_form: BatchForm::Array,
            batch_progress: false,
            outage: None,
            rate_limit: None,
            management_key: None,
            account_balance: 100.0,
            charge_delay: Duration::from_millis(500),
            logs_limit: 200,
            logs_per: Duration::from_secs(60),
            cassettes: None,
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

    /// How many requests to keep for [`MockServer::requests`](crate::MockServer::requests) (default
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

    /// How long a message batch takes to end after it is made (default 2 s: the vendor's hour,
    /// scaled). A canceled batch ends a quarter of it after the cancel, or at its end.
    pub fn batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay;
        self
    }

    /// How long after it is made a batch expires (default 24 h, as the vendor's). When it is
    /// shorter than [`batch_delay`](Self::batch_delay), batches end at their expiry with every
    /// request `expired`.
    pub fn batch_expiry(mut self, expiry: Duration) -> Self {
        self.batch_expiry = expiry;
        self
    }

    /// The form of the batch status route's answers (default: a JSON array, as documented).
    pub fn batch_form(mut self, form: BatchForm) -> Self {
        self.batch_form = form;
        self
    }

    /// A management key: it may read any key's usage and logs (`key_prefix`), and is refused
    /// by the ledger (403), as the vendor's is. Default: none.
    pub fn management_key(mut self, key: impl Into<String>) -> Self {
        self.management_key = Some(key.into());
        self
    }

    /// The account's opening balance in US dollars (default 100): the ledger's first top-up,
    /// less each charge as it lands.
    pub fn account_balance(mut self, usd: f64) -> Self {
        self.account_balance = usd;
        self
    }

    /// How long after its answer a call's charge lands in the ledger, the usage figures and the
    /// balance (default 500 ms: the vendor's charges land after the response too). The request
    /// log has the call at once.
    pub fn charge_delay(mut self, delay: Duration) -> Self {
        self.charge_delay = delay;
        self
    }

    /// The request log route's rate limit: at most `limit` reads in any `per` (default 200 in
    /// 60 s, as the vendor's); past it, a 429 with `Retry-After`.
    pub fn logs_rate_limit(mut self, limit: usize, per: Duration) -> Self {
        self.logs_limit = limit;
        self.logs_per = per;
        self
    }

    /// Whether the status of a running batch is its batch object, with request counts that
    /// move as its requests are answered (evenly over [`batch_delay`](Self::batch_delay)), as
    /// Anthropic's own API answers; by default it is the gateway's documented
    /// `[{"id", "status": "generating"}]`, which has no counts.
    pub fn batch_progress(mut self, on: bool) -> Self {
        self.batch_progress = on;
        self
    }

    /// An outage played from the start ([`Outage`](crate::Outage)).
    pub fn outage(mut self, outage: crate::Outage) -> Self {
        self.outage = Some(outage);
        self
    }

    /// At most `requests` model calls (chat completions, Messages) every `per`, windows counted
    /// from the start: each answer carries `x-ratelimit-limit-requests`,
    /// `x-ratelimit-remaining-requests` and `x-ratelimit-reset-requests`; a call over the limit
    /// gets 429 with them and `retry-after-ms` ([`MockServer::rate_limited`](crate::MockServer::rate_limited)
    /// counts those).
    pub fn rate_limit(mut self, requests: u64, per: Duration) -> Self {
        self.rate_limit = Some((requests, per));
        self
    }

    /// Answers from cassettes instead of scripts, recording what they lack from an upstream
    /// as [`Cassettes`](crate::Cassettes) says. Every route then answers from the cassettes (or
    /// the upstream): replies, outages, limits and validation are not played, and responses
    /// carry the headers recorded, not the mock's own. [`MockServer::requests`](crate::MockServer::requests)
    /// still records what came.
    pub fn cassettes(mut self, cassettes: crate::Cassettes) -> Self {
        self.cassettes = Some(cassettes);
        self
    }

    /// A reply queued from the start.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.replies.push(reply);
        self
    }
}

/// What a running server's connections share.
pub(crate) struct Shared {
    /// The set-up it was started with (its queued replies moved to `queue`).
    pub(crate) config: MockBuilder,
    /// The replies queued for the next requests.
    pub(crate) queue: Mutex<VecDeque<Reply>>,
    pub(crate) recorded: Mutex<VecDeque<Recorded>>,
    pub(crate) counter: AtomicU64,
    /// What each answer cost, for the generation stats endpoint.
    pub(crate) generations: cost::Generations,
    /// Makes inference ids differ between servers.
    pub(crate) seed: std::collections::hash_map::RandomState,
    /// The message batches made, and outcomes scripted for requests to come.
    pub(crate) batches: crate::batches::Batches,
    /// The outage being played, if any.
    pub(crate) outages: crate::outage::Outages,
    /// The model calls' rate limit, if set.
    pub(crate) rate_limit: Option<crate::outage::RateLimit>,
    /// The account the answered calls land in.
    pub(crate) account: crate::account::Account,
    /// When the server started: the account's opening top-up.
    pub(crate) started: std::time::SystemTime,
    /// Connections accepted so far.
    pub(crate) connections: std::sync::atomic::AtomicU64,
    /// The cassettes answered from, if set up.
    pub(crate) deck: Option<std::sync::Arc<crate::cassette::Deck>>,
}

impl Shared {
    pub(crate) fn batch_timing(&self) -> crate::batches::Timing {
        crate::batches::Timing {
            delay: self.config.batch_delay,
            expiry: self.config.batch_expiry,
            progress: self.config.batch_progress,
        }
    }
}

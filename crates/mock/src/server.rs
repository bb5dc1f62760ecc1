//! The server: its set-up ([`MockBuilder`]), the running server ([`MockServer`]) and the
//! requests it records ([`Recorded`]), the accept loop, and what every request goes through
//! before its route: a fresh inference id, the client's request id checked, the body read
//! within [`MAX_REQUEST_BODY`] and recorded within the record limit.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::recorded::Recorded;
use crate::reply::Reply;
use crate::response::{refused, Body};
use crate::state::{MockBuilder, Shared, MAX_REQUEST_BODY};
use crate::validate::schemas;
use crate::{catalogue, cost, routes};

impl MockBuilder {
    /// Binds and starts serving.
    pub async fn start(self) -> std::io::Result<MockServer> {
        // ring as the process's rustls provider (unless one is installed already): what the
        // recording proxy reaches `https://` with, and what a test's own reqwest client then
        // finds, as the client's `rustls-ring` feature does.
        #[cfg(feature = "record-https")]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind(self.addr).await?;
        let addr = listener.local_addr()?;
        // The queued replies move into the queue; the set-up keeps the rest.
        let mut config = self;
        let deck = match config.cassettes.clone() {
            Some(cassettes) => Some(Arc::new(crate::cassette::Deck::new(cassettes)?)),
            None => None,
        };
        let replies = std::mem::take(&mut config.replies);
        let rate_limit = config
            .rate_limit
            .map(|(n, per)| crate::outage::RateLimit::new(n, per));
        let shared = Arc::new(Shared {
            config,
            queue: Mutex::new(replies.into_iter().collect()),
            recorded: Mutex::new(VecDeque::new()),
            counter: AtomicU64::new(0),
            generations: cost::Generations::default(),
            seed: std::collections::hash_map::RandomState::new(),
            batches: Default::default(),
            account: Default::default(),
            outages: Default::default(),
            rate_limit,
            started: std::time::SystemTime::now(),
            connections: AtomicU64::new(0),
            deck,
        });
        if let Some(outage) = &shared.config.outage {
            shared.outages.start(outage);
        }
        let writer = shared.deck.as_ref().map(|d| d.start_writer());
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(MockServer {
            base_url: format!("http://{addr}"),
            shared,
            accept,
            writer,
        })
    }
}

/// The mock server. It stops, and closes every connection it holds, when dropped (writing the
/// cassettes it recorded into first).
pub struct MockServer {
    base_url: String,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
    /// The cassette writer, with cassettes.
    writer: Option<tokio::task::JoinHandle<()>>,
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
        if let Some(writer) = &self.writer {
            writer.abort();
        }
        // What was recorded is written before the server is gone.
        if let Some(deck) = &self.shared.deck {
            deck.stop();
        }
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

    /// A server on a free port of 127.0.0.1 that answers from the cassettes in `dir` only
    /// ([`Cassettes::new`](crate::Cassettes::new): the running test's cassette, as fast as
    /// possible); [`MockBuilder::cassettes`] sets up the rest.
    pub async fn replay(dir: impl Into<std::path::PathBuf>) -> std::io::Result<MockServer> {
        MockServer::builder()
            .cassettes(crate::Cassettes::new(dir))
            .start()
            .await
    }

    /// A client of the AI/ML API pointed at this server (the key `test`, the default retries and
    /// timeouts): what a service's test calls its code with. For OpenRouter's routes, build one
    /// with `Provider::open_router()` and the base URL `{base_url}/api`.
    #[cfg(feature = "client")]
    pub fn client(&self) -> aimlapi::Client {
        aimlapi::Client::builder()
            .provider(aimlapi::Provider::AimlApi)
            .base_url(self.base_url())
            .api_key("test")
            .build()
            .expect("a client for a local URL builds")
    }

    /// [`replay`](Self::replay) and [`client`](Self::client) in one: the running test's
    /// cassette in `dir` answers a client pointed at it.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// let (_mock, client) = aimlapi_mock::MockServer::replay_client("tests/cassettes").await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "client")]
    pub async fn replay_client(
        dir: impl Into<std::path::PathBuf>,
    ) -> std::io::Result<(MockServer, aimlapi::Client)> {
        let mock = MockServer::replay(dir).await?;
        let client = mock.client();
        Ok((mock, client))
    }

    /// What each request no cassette held was told, in order: the closest exchange recorded
    /// and where it differs (empty without cassettes).
    pub fn cassette_misses(&self) -> Vec<String> {
        self.shared
            .deck
            .as_ref()
            .map(|d| d.misses())
            .unwrap_or_default()
    }

    /// Waits until every stream being recorded has ended and been written to its cassette (a
    /// client may stop reading before the upstream ends its body).
    pub async fn settle(&self) {
        if let Some(deck) = &self.shared.deck {
            deck.settle().await;
        }
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

    /// How many connections the server has accepted so far (over HTTP/2 one carries many
    /// requests; over HTTP/1.1 one carries one at a time).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Plays `outage` from now: every model call fails as it says until it ends.
    pub fn outage(&self, outage: crate::Outage) {
        self.shared.outages.start(&outage);
    }

    /// How many calls the rate limit ([`MockBuilder::rate_limit`]) answered with 429.
    pub fn rate_limited(&self) -> u64 {
        self.shared
            .rate_limit
            .as_ref()
            .map_or(0, |r| r.refused.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Ends the outage being played, if any.
    pub fn end_outage(&self) {
        self.shared.outages.end();
    }

    /// Queues a reply for the next request that finds the queue's front.
    pub fn push(&self, reply: Reply) {
        self.shared.queue.lock().expect("lock").push_back(reply);
    }

    /// How the request with this `custom_id` in the next batch that has one ends: scripted as
    /// a [`Reply`] (text, tool calls, thinking, a status for `errored`), or `expired`, or
    /// `canceled`. A request with no outcome scripted takes the next queued reply, as a
    /// `/v1/messages` request would, else the documented greeting.
    pub fn script_batch(&self, custom_id: &str, outcome: crate::BatchOutcome) {
        self.shared.batches.script(custom_id, outcome);
    }

    /// Queues a reply for the next request to the batch status route (`GET /v1/batches`),
    /// answered before the batch is looked at: a [`Reply::status`] with its headers (a `429`
    /// with `Retry-After` while a client polls).
    pub fn push_batch_poll(&self, reply: Reply) {
        self.shared.batches.push_poll(reply);
    }

    /// Sets what `GET /models/metrics` answers from now on (`None`: the documented example,
    /// `fixtures/account/metrics.json`); `aliases` filters it either way.
    pub fn set_metrics(&self, report: Option<serde_json::Value>) {
        self.shared.account.set_metrics(report);
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

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connections live in this set: aborting this task (dropping the server) drops them all.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                stream.set_nodelay(true).ok();
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    // HTTP/1.1, or HTTP/2 when the client opens with its preface (h2c by prior
                    // knowledge): one connection then carries every stream the client sends at
                    // once, with no cap on how many (a gateway would set one). Its receive
                    // window is 32 MiB: the h2 library closes a connection once the small DATA
                    // frames it holds unread (a request body under 256 bytes is one) pass half
                    // the window's worth of their overhead, and thousands of requests sent at
                    // once outran the default's (1 MiB) before their handlers read them.
                    let mut serve =
                        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
                    serve
                        .http2()
                        .max_concurrent_streams(None)
                        .initial_connection_window_size(32 << 20);
                    let _ = serve
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
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
    let mut response = match receive(&shared, req, n, &inference_id).await {
        // From cassettes, the answer goes out as recorded, with none of the mock's headers.
        Ok((request, raw)) => match &shared.deck {
            Some(deck) => return deck.serve(&request, raw).await,
            None => routes::route(&shared, &request, n),
        },
        Err(refusal) => refusal,
    };
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

/// The request read whole, as [`Recorded`] and as its body's bytes, and recorded; a body that cannot be read, or is
/// over [`MAX_REQUEST_BODY`], is the response to send instead.
async fn receive(
    shared: &Shared,
    req: Request<Incoming>,
    id: u64,
    inference_id: &str,
) -> Result<(Recorded, bytes::Bytes), Response<Body>> {
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
            return Err(refused(status, &path, id, &problem));
        }
    };
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let request = Recorded {
        method,
        path,
        query,
        headers,
        body,
        inference_id: inference_id.to_string(),
    };
    let limit = shared.config.record_limit;
    if limit > 0 {
        let mut recorded = shared.recorded.lock().expect("lock");
        while recorded.len() >= limit {
            recorded.pop_front();
        }
        recorded.push_back(request.clone());
    }
    Ok((request, raw))
}

//! Cassettes: exchanges with a real gateway recorded once, by the mock running as a proxy in
//! front of it, and answered from the files afterwards, offline.
//!
//! - [`Cassettes`] is the set-up: the folder, the [`Mode`], the upstream to record from, the
//!   cassette's name, what to filter and what the matcher ignores, whether to replay with the
//!   recorded timing. [`MockBuilder::cassettes`](crate::MockBuilder::cassettes) starts a server
//!   with it, [`MockServer::replay`](crate::MockServer::replay) in one line.
//! - `format` is the file, `filter` what never reaches it, `matcher` which exchange answers a
//!   request, `record` the proxy, `replay` the answers from the files, `drift` what the
//!   recorded answers carry that the bundled documents do not name.

pub(crate) mod drift;
mod filter;
mod format;
mod matcher;
mod record;
mod replay;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hyper::Response;

use crate::recorded::Recorded;
use crate::response::Body;

pub use drift::{drift, Drift, DriftKind};

/// The request header that names the cassette an exchange belongs to (it is not sent upstream
/// nor recorded); without it, the set-up's [`Cassettes::name`].
pub const CASSETTE_HEADER: &str = "x-cassette";

/// What a cassette server does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answers from the cassettes only; a request none holds is an error answer (for CI).
    Replay,
    /// Answers from the cassettes what they hold; sends the rest upstream and records it.
    RecordMissing,
    /// Sends every request upstream and records it: each cassette is written anew, from its
    /// first exchange in this server's life.
    RecordAll,
}

/// How a cassette server is set up: its folder, [`Mode`], upstream, filters and matcher.
///
/// ```no_run
/// use aimlapi_mock::{Cassettes, Mode, MockServer};
/// # async fn run() -> std::io::Result<()> {
/// // Record what the real gateway answers (the key is filtered before anything is written)...
/// let recorder = MockServer::builder()
///     .cassettes(
///         Cassettes::new("tests/cassettes")
///             .mode(Mode::RecordMissing)
///             .upstream("https://api.aimlapi.com")
///             .filter_field("user"),
///     )
///     .start()
///     .await?;
/// // ... and later, offline, answer from what was recorded.
/// let replaying = MockServer::replay("tests/cassettes").await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Cassettes {
    pub(crate) dir: PathBuf,
    pub(crate) mode: Mode,
    pub(crate) upstream: Option<String>,
    pub(crate) name: String,
    pub(crate) filter: filter::Filter,
    pub(crate) matcher: matcher::Matcher,
    pub(crate) timing: bool,
}

impl Cassettes {
    /// Cassettes in `dir`, replayed ([`Mode::Replay`]) as fast as possible. The cassette's
    /// name is that of the running test: its test binary and its path in it (the test harness
    /// names each test's thread by that path), `tests/chat.rs`'s `mod a { fn b() }` written
    /// `chat.a.b.json`; else `default`. Made on another thread than the test's, give the name.
    pub fn new(dir: impl Into<PathBuf>) -> Cassettes {
        let test = running_test();
        Cassettes {
            dir: dir.into(),
            mode: Mode::Replay,
            upstream: None,
            name: format::file_safe(test.as_deref().unwrap_or("default")),
            filter: filter::Filter::default(),
            matcher: matcher::Matcher::default(),
            timing: false,
        }
    }

    /// What to do with each request (default [`Mode::Replay`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The gateway to record from, e.g. `https://api.aimlapi.com` or `https://openrouter.ai`:
    /// each request's path and query are sent there as they came (with every header but the
    /// connection's own, `accept-encoding`, so bodies come uncompressed, and
    /// [`CASSETTE_HEADER`]). Needed by the recording modes.
    pub fn upstream(mut self, url: impl Into<String>) -> Self {
        self.upstream = Some(url.into().trim_end_matches('/').to_string());
        self
    }

    /// The cassette requests without [`CASSETTE_HEADER`] belong to (a file name: any
    /// character but letters, digits, `.`, `_` and `-` is written `_`, a test path's `::` `.`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = format::file_safe(name);
        self
    }

    /// One more header to filter (its value is written `[filtered]`), beyond `authorization`,
    /// `proxy-authorization`, `x-api-key`, `api-key`, `cookie` and `set-cookie`, which always are.
    pub fn filter_header(mut self, name: &str) -> Self {
        self.filter.headers.push(name.to_ascii_lowercase());
        self
    }

    /// A body field to filter, in requests, responses and streamed events: a name (that key at
    /// any depth, and the query parameter of that name) or a JSON pointer (`/metadata/user_id`).
    /// The matcher ignores it too, since the cassette no longer holds its value.
    pub fn filter_field(mut self, field: &str) -> Self {
        self.filter.fields.push(field.to_string());
        self.matcher.ignore.push(field.to_string());
        self
    }

    /// A request field the matcher leaves out (ids, `metadata`, a timestamp): a name (that key
    /// at any depth, and the query parameter of that name) or a JSON pointer.
    pub fn ignore(mut self, field: &str) -> Self {
        self.matcher.ignore.push(field.to_string());
        self
    }

    /// Whether answers are replayed with their recorded timing: the head, each chunk and the
    /// end as long after the request as they came (default: as fast as possible).
    pub fn timing(mut self, on: bool) -> Self {
        self.timing = on;
        self
    }
}

/// The running test as `binary::module::test`: the harness's name for the thread (not `main`)
/// after the test binary's name without cargo's hash.
fn running_test() -> Option<String> {
    let thread = std::thread::current()
        .name()
        .filter(|n| *n != "main")?
        .to_string();
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let binary = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name
        }
        _ => stem,
    };
    Some(format!("{binary}::{thread}"))
}

/// A cassette loaded: its exchanges, which of them each request key can still take, in order.
struct Loaded {
    /// The set-up's matcher, also leaving out what the cassette recorded as filtered.
    matcher: matcher::Matcher,
    interactions: Vec<Arc<format::Interaction>>,
    unplayed: HashMap<String, VecDeque<usize>>,
}

/// A running server's cassettes.
pub(crate) struct Deck {
    pub(crate) setup: Cassettes,
    loaded: Mutex<BTreeMap<String, Loaded>>,
    /// Recordings whose body is still coming or whose cassette is not written yet, and the
    /// misses answered so far.
    in_flight: tokio::sync::watch::Sender<usize>,
    misses: Mutex<Vec<String>>,
    http: Option<reqwest::Client>,
    /// The cassettes recorded into and not yet written, and the writer's wake-up.
    dirty: Mutex<std::collections::BTreeSet<String>>,
    wake: tokio::sync::Notify,
    /// Held while cassettes are written.
    writing: Mutex<()>,
    /// Whether the server has stopped (and its writer with it).
    stopped: AtomicBool,
}

/// How long after a recorded exchange its cassette is written.
const WRITE_EVERY: std::time::Duration = std::time::Duration::from_millis(20);

impl Deck {
    pub(crate) fn new(setup: Cassettes) -> std::io::Result<Deck> {
        let http = match (&setup.mode, &setup.upstream) {
            (Mode::Replay, _) => None,
            (_, None) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "recording cassettes needs an upstream (Cassettes::upstream)",
                ))
            }
            (_, Some(_)) => Some(record::client()?),
        };
        Ok(Deck {
            setup,
            loaded: Mutex::new(BTreeMap::new()),
            in_flight: tokio::sync::watch::channel(0).0,
            misses: Mutex::new(Vec::new()),
            http,
            dirty: Mutex::new(Default::default()),
            wake: tokio::sync::Notify::new(),
            writing: Mutex::new(()),
            stopped: AtomicBool::new(false),
        })
    }

    /// The answer to `request` (its body `raw` as it came).
    pub(crate) async fn serve(self: &Arc<Self>, request: &Recorded, raw: Bytes) -> Response<Body> {
        let name = request
            .header(CASSETTE_HEADER)
            .map(format::file_safe)
            .unwrap_or_else(|| self.setup.name.clone());
        if self.setup.mode != Mode::RecordAll {
            match self.take(&name, request) {
                Ok(Some(found)) => return replay::answer(found, self.setup.timing).await,
                Ok(None) => {}
                Err(problem) => return replay::miss(self, problem),
            }
            if self.setup.mode == Mode::Replay {
                let problem = self.closest(&name, request);
                return replay::miss(self, problem);
            }
        }
        record::forward(self, name, request, raw).await
    }

    /// The next unplayed exchange of cassette `name` that matches `request`.
    fn take(
        &self,
        name: &str,
        request: &Recorded,
    ) -> Result<Option<Arc<format::Interaction>>, String> {
        let mut loaded = self.loaded.lock().expect("lock");
        let cassette = match loaded.entry(name.to_string()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let file = format::read(&format::path_of(&self.setup.dir, name))?;
                let mut cassette = Loaded {
                    matcher: self.setup.matcher.with_filtered(&file.interactions),
                    interactions: Vec::new(),
                    unplayed: HashMap::new(),
                };
                for interaction in file.interactions {
                    cassette.index(interaction);
                }
                e.insert(cassette)
            }
        };
        let key = cassette.matcher.key(&shape_of(request));
        let found = cassette
            .unplayed
            .get_mut(&key)
            .and_then(VecDeque::pop_front);
        Ok(found.and_then(|i| cassette.interactions.get(i).cloned()))
    }

    /// Appends a recorded exchange to cassette `name`, to be written by the writer (at most
    /// [`WRITE_EVERY`] later), or at once when the server has stopped. A cassette loaded for
    /// replay keeps it as played (the request it answers was just answered).
    fn append(&self, name: &str, interaction: format::Interaction) -> Result<(), String> {
        {
            let mut loaded = self.loaded.lock().expect("lock");
            let cassette = match loaded.entry(name.to_string()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    // Not loaded yet: record-all writes each cassette anew; otherwise what the
                    // file holds stays, ahead of what is recorded now (those exchanges count as
                    // unplayed for this server).
                    let mut cassette = Loaded {
                        matcher: self.setup.matcher.clone(),
                        interactions: Vec::new(),
                        unplayed: HashMap::new(),
                    };
                    if self.setup.mode != Mode::RecordAll {
                        let file = format::read(&format::path_of(&self.setup.dir, name))?;
                        cassette.matcher = self.setup.matcher.with_filtered(&file.interactions);
                        for interaction in file.interactions {
                            cassette.index(interaction);
                        }
                    }
                    e.insert(cassette)
                }
            };
            cassette.interactions.push(Arc::new(interaction));
        }
        {
            // Counted while the set is held, so the writer cannot take it first and count down
            // below zero.
            let mut dirty = self.dirty.lock().expect("lock");
            if dirty.insert(name.to_string()) {
                self.in_flight.send_modify(|n| *n += 1);
            }
        }
        if self.stopped.load(Ordering::Acquire) {
            self.write_dirty();
        } else {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Writes every cassette changed since the last write (one writer at a time, so an older
    /// text never lands over a newer one).
    pub(crate) fn write_dirty(&self) {
        let _one_at_a_time = self.writing.lock().expect("lock");
        // Each name taken was counted once when it went in (under the same lock): it is
        // counted down once written.
        let names = std::mem::take(&mut *self.dirty.lock().expect("lock"));
        for name in &names {
            let path = format::path_of(&self.setup.dir, name);
            let text = {
                let loaded = self.loaded.lock().expect("lock");
                let Some(cassette) = loaded.get(name) else {
                    continue;
                };
                format::text(cassette.interactions.iter().map(|i| &**i))
            };
            if let Err(e) = format::write(&path, &text) {
                eprintln!(
                    "aimlapi-mock: cassette not written: {}: {e}",
                    path.display()
                );
            }
        }
        self.in_flight
            .send_modify(|n| *n = n.saturating_sub(names.len()));
    }

    /// The writer: changed cassettes written a little after each change, several changes at
    /// once (so a cassette of many exchanges is not rewritten for each).
    pub(crate) fn start_writer(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let deck = self.clone();
        tokio::spawn(async move {
            loop {
                deck.wake.notified().await;
                tokio::time::sleep(WRITE_EVERY).await;
                let writing = deck.clone();
                let _ = tokio::task::spawn_blocking(move || writing.write_dirty()).await;
            }
        })
    }

    /// The server stops: what is changed is written now, and what is recorded from now on (a
    /// stream that was still coming) is written as it ends.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.write_dirty();
    }

    /// What to say about a request no cassette holds: the closest exchange recorded in the
    /// folder (the named cassette's first, on a tie) and where it differs.
    fn closest(&self, name: &str, request: &Recorded) -> String {
        let sent = shape_of(request);
        let what = format!(
            "no exchange in cassette `{name}` ({}) matches {} {}",
            format::path_of(&self.setup.dir, name).display(),
            request.method,
            request.path
        );
        // A file that is not a cassette is passed over here (the miss is the news).
        let all = match format::read_dir_each(&self.setup.dir) {
            Ok(all) => all,
            Err(e) => return format!("{what}; the folder cannot be read: {e}"),
        };
        let all: Vec<(String, format::CassetteFile)> = all
            .into_iter()
            .filter_map(|(name, file)| file.ok().map(|f| (name, f)))
            .collect();
        let mut best: Option<(usize, String, usize, Vec<String>)> = None;
        for (cassette, file) in &all {
            let matcher = self.setup.matcher.with_filtered(&file.interactions);
            for (i, interaction) in file.interactions.iter().enumerate() {
                let recorded = recorded_shape(interaction);
                let differences = matcher.differences(&recorded, &sent, usize::MAX);
                // Another route is further than any body; the named cassette wins a tie.
                let route = usize::from(
                    !recorded.method.eq_ignore_ascii_case(sent.method)
                        || recorded.path != sent.path,
                );
                let score =
                    route * 1_000_000 + differences.len() * 2 + usize::from(cassette != name);
                if best.as_ref().is_none_or(|b| score < b.0) {
                    best = Some((score, cassette.clone(), i, differences));
                }
            }
        }
        match best {
            None => format!("{what}; the folder {} holds no exchange", self.setup.dir.display()),
            Some((_, cassette, i, differences)) if differences.is_empty() && cassette == name => format!(
                "{what}; cassette `{cassette}` exchange {i} matches it, but was played already (each recorded answer is played once)"
            ),
            Some((_, cassette, i, differences)) if differences.is_empty() => format!(
                "{what}; it is recorded in cassette `{cassette}` (exchange {i}), not in `{name}`: check the cassette's name or the `{CASSETTE_HEADER}` header"
            ),
            Some((_, cassette, i, mut differences)) => {
                let more = differences.len().saturating_sub(5);
                differences.truncate(5);
                let mut text = format!(
                    "{what}; closest: cassette `{cassette}` exchange {i}, which differs at {}",
                    differences.join("; ")
                );
                if more > 0 {
                    text.push_str(&format!(" (and {more} more)"));
                }
                text
            }
        }
    }

    /// Waits until every recording in flight, and every cassette changed, is written.
    pub(crate) async fn settle(&self) {
        let mut watch = self.in_flight.subscribe();
        let _ = watch.wait_for(|n| *n == 0).await;
    }

    pub(crate) fn misses(&self) -> Vec<String> {
        self.misses.lock().expect("lock").clone()
    }
}

impl Loaded {
    fn index(&mut self, interaction: format::Interaction) {
        let key = self.matcher.key(&recorded_shape(&interaction));
        self.interactions.push(Arc::new(interaction));
        let i = self.interactions.len() - 1;
        self.unplayed.entry(key).or_default().push_back(i);
    }
}

/// A recorded request as the matcher reads it.
fn recorded_shape(interaction: &format::Interaction) -> matcher::Shape<'_> {
    let request = &interaction.request;
    matcher::Shape {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        body: matcher::no_empty(
            request
                .body
                .as_ref()
                .map(format::Payload::value)
                .unwrap_or_default(),
        ),
    }
}

/// A request as the matcher reads it.
fn shape_of(request: &Recorded) -> matcher::Shape<'_> {
    let body = matcher::no_empty(request.body.clone());
    matcher::Shape {
        method: &request.method,
        path: &request.path,
        query: &request.query,
        body,
    }
}

//! Admission by the rate limits: a gateway's latest reading of its request limit (the headers
//! every answer carries) decides whether a new call goes now or waits, locally, for the reset,
//! instead of being sent into a 429.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::error::Error;

/// How calls are admitted ([`ClientBuilder::admission`](crate::ClientBuilder::admission)).
///
/// The client keeps each gateway's latest reading of its request limit and counts the calls it
/// lets go against what the reading says remains. While nothing remains before the reset, new
/// calls wait for it in arrival order, each released with a little jitter so that a queue does
/// not arrive at once. Until the first reading, one call goes alone to learn the limit. A
/// gateway that sends no rate-limit headers is never waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// The longest a call waits to be admitted; a call that would wait longer fails at once,
    /// unsent, with [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited). Default 60 s.
    pub queue_deadline: Duration,
    /// At most this many calls waiting for their answer to start, at a time; `None` (the
    /// default): no cap.
    pub max_in_flight: Option<usize>,
    /// Calls released at a reset are spread over up to this long. Default 100 ms.
    pub jitter: Duration,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            queue_deadline: Duration::from_secs(60),
            max_in_flight: None,
            jitter: Duration::from_millis(100),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// Calls that may still go before the reset: what the last reading left, less the calls
    /// let go since. `None` before any reading that names the limit.
    budget: Option<u64>,
    /// When the limit resets, as the last reading said.
    reset: Option<SystemTime>,
    /// The limit, as last read: what a window holds once it has reset.
    limit: Option<u64>,
    /// Calls let go whose answer has not started.
    in_flight: u64,
    /// Calls let go, ever: the number of the last one.
    sent: u64,
    /// Whether a reading ever came (a gateway that sends none is never held).
    read: bool,
    /// Whether the first call, which learns the limit, is out.
    learning: bool,
    /// The reset last passed: a reading of that window or an earlier one, arriving late, is
    /// stale.
    passed: Option<SystemTime>,
}

impl Counts {
    /// One more call let go: its number among them.
    fn go(&mut self) -> Step {
        self.in_flight += 1;
        self.sent += 1;
        Step::Go(self.sent)
    }
}

/// Resets within this of each other are one window's (each reading's reset is counted from
/// when its answer came, so they differ by the answers' transit).
const SAME_WINDOW: Duration = Duration::from_millis(100);

/// Whether `a` and `b` name one window's reset.
fn same_window(a: SystemTime, b: SystemTime) -> bool {
    let gap = a.duration_since(b).or_else(|_| b.duration_since(a));
    gap.is_ok_and(|gap| gap < SAME_WINDOW)
}

/// One gateway's admission: its reading and the queue of calls waiting for it.
#[derive(Debug)]
pub(crate) struct Gate {
    policy: Admission,
    /// The longest a reset is waited for (the retry policy's `max_retry_after`): a server
    /// that names one further off is tried again after it, as the retries would.
    cap: Duration,
    counts: Mutex<Counts>,
    /// Held by the call at the head of the queue while it waits: the others wait for it in
    /// arrival order (tokio's mutex is fair).
    turn: tokio::sync::Mutex<()>,
    /// Woken by each reading.
    read: tokio::sync::Notify,
    /// Calls in the queue: while there are none, a call the reading lets go takes no turn.
    queued: std::sync::atomic::AtomicUsize,
    in_flight: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

/// A call let through: holds its place under the in-flight cap until its answer starts
/// ([`Gate::answered`]); dropped unanswered (the attempt timed out or was dropped), it gives
/// its place back as a call that learned nothing.
#[derive(Debug)]
pub(crate) struct Admitted<'a> {
    gate: &'a Gate,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
    /// How long the call waited.
    pub(crate) waited: Duration,
    /// Its number among the calls let go.
    seq: u64,
    answered: bool,
}

impl Admitted<'_> {
    /// The call's answer started (or it failed before one) with `headers`: the reading they
    /// carry, if any, replaces the gate's last.
    pub(crate) fn answered(mut self, headers: Option<&HeaderMap>) {
        self.answered = true;
        self.gate.answered(headers, self.seq);
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.gate.answered(None, self.seq);
        }
    }
}

enum Step {
    /// It goes, as the call let go with this number.
    Go(u64),
    WaitUntil(SystemTime),
    WaitForReading,
}

impl Gate {
    pub(crate) fn new(policy: Admission, cap: Duration) -> Self {
        let in_flight = policy
            .max_in_flight
            .map(|n| std::sync::Arc::new(tokio::sync::Semaphore::new(n.max(1))));
        Gate {
            policy,
            cap,
            counts: Mutex::default(),
            turn: tokio::sync::Mutex::new(()),
            read: tokio::sync::Notify::new(),
            queued: Default::default(),
            in_flight,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may go now, taking its place if so.
    fn step(&self, now: impl Fn() -> SystemTime) -> Step {
        let mut c = self.lock();
        if !c.read {
            if c.learning {
                return Step::WaitForReading;
            }
            // The first call goes alone; while it is out the others wait for its reading. A
            // gateway without the headers answers it with none: then nothing is held.
            c.learning = true;
            return c.go();
        }
        let Some(budget) = c.budget else {
            return c.go();
        };
        if budget > 0 {
            c.budget = Some(budget - 1);
            return c.go();
        }
        match c.reset {
            Some(reset) if reset > now() => Step::WaitUntil(reset),
            // The window has reset: a new one holds the limit, less what is out.
            passed => match c.limit {
                Some(limit) => {
                    c.passed = passed.or(c.passed);
                    c.budget = Some(limit.saturating_sub(c.in_flight).saturating_sub(1));
                    c.reset = None;
                    if limit > c.in_flight {
                        c.go()
                    } else {
                        Step::WaitForReading
                    }
                }
                None => {
                    c.budget = None;
                    c.go()
                }
            },
        }
    }

    /// Waits for the call's turn: at once while the reading leaves room, else in arrival order
    /// until the reset (and a little jitter). Past the queue deadline: `RateLimited`, unsent.
    pub(crate) async fn admit(&self) -> Result<Admitted<'_>, Error> {
        use std::sync::atomic::Ordering::{Relaxed, SeqCst};
        // No queue and room in the reading: it goes, as the common call does.
        if self.in_flight.is_none() && self.queued.load(SeqCst) == 0 {
            if let Step::Go(seq) = self.step(SystemTime::now) {
                return Ok(self.admitted(seq, None, Duration::ZERO));
            }
        }
        self.queued.fetch_add(1, SeqCst);
        let admitted = self.queue().await;
        self.queued.fetch_sub(1, Relaxed);
        admitted
    }

    /// [`admit`](Self::admit) through the queue.
    async fn queue(&self) -> Result<Admitted<'_>, Error> {
        let started = Instant::now();
        let deadline = Instant::from_std(crate::http::timeouts::later(
            started.into_std(),
            self.policy.queue_deadline,
        ));
        let mut waited = false;
        let seq = {
            let turn = tokio::time::timeout_at(deadline, self.turn.lock()).await;
            let Ok(_turn) = turn else {
                return Err(refused(self.policy.queue_deadline));
            };
            loop {
                // Registered before the step: a reading between the two still wakes it.
                let reading = self.read.notified();
                match self.step(SystemTime::now) {
                    Step::Go(seq) => break seq,
                    Step::WaitUntil(reset) => {
                        let wait = reset.duration_since(SystemTime::now()).unwrap_or_default();
                        let left = self.cap.saturating_sub(started.elapsed());
                        if wait > left {
                            if left.is_zero() {
                                // Waited as long as a retry would: it goes.
                                if let Step::Go(seq) = self.lock().go() {
                                    break seq;
                                }
                            }
                            waited = true;
                            let _ = tokio::time::timeout(left, reading).await;
                            continue;
                        }
                        if wait > deadline.saturating_duration_since(Instant::now()) {
                            return Err(refused(self.policy.queue_deadline));
                        }
                        waited = true;
                        // The reset, or a reading before it.
                        let _ = tokio::time::timeout(wait, reading).await;
                    }
                    Step::WaitForReading => {
                        waited = true;
                        if tokio::time::timeout_at(deadline, reading).await.is_err() {
                            return Err(refused(self.policy.queue_deadline));
                        }
                    }
                }
            }
        };
        if waited && !self.policy.jitter.is_zero() {
            tokio::time::sleep(self.policy.jitter.mul_f64(fastrand::f64())).await;
        }
        let slot = match &self.in_flight {
            Some(cap) => {
                match tokio::time::timeout_at(deadline, cap.clone().acquire_owned()).await {
                    Ok(Ok(slot)) => Some(slot),
                    _ => {
                        self.answered(None, seq);
                        return Err(refused(self.policy.queue_deadline));
                    }
                }
            }
            None => None,
        };
        Ok(self.admitted(seq, slot, started.elapsed()))
    }

    /// The call let go as number `seq`, holding `slot` under the in-flight cap.
    fn admitted(
        &self,
        seq: u64,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
        waited: Duration,
    ) -> Admitted<'_> {
        Admitted {
            seq,
            gate: self,
            _slot: slot,
            waited,
            answered: false,
        }
    }

    /// A call's answer started (or it failed before one) with `headers`: the reading they
    /// carry, if any, replaces the last.
    fn answered(&self, headers: Option<&HeaderMap>, seq: u64) {
        // Read only when a rate-limit header is there (one pass over a handful of names).
        let limit = headers
            .filter(|h| {
                h.keys().any(|k| {
                    let k = k.as_str().as_bytes();
                    k.starts_with(b"x-ratelimit") || k.starts_with(b"anthropic-ratelimit")
                })
            })
            .map(crate::rate_limits::RateLimits::from_headers)
            .and_then(|r| r.requests);
        {
            let mut c = self.lock();
            c.in_flight = c.in_flight.saturating_sub(1);
            c.read |= headers.is_some();
            c.learning = false;
            // A reading of a window already passed, arriving late, says nothing of this one.
            let stale = match (limit.and_then(|l| l.reset), c.passed) {
                (Some(reset), Some(passed)) => reset < passed || same_window(reset, passed),
                _ => false,
            };
            if let Some(l) = limit.filter(|_| !stale) {
                let now = SystemTime::now();
                if let Some(remaining) = l.remaining {
                    // The calls let go after this one may not have been counted yet: counted
                    // against it. Within one window the readings only go down (a late one
                    // counted fewer calls).
                    let left = remaining.saturating_sub(c.sent.saturating_sub(seq));
                    let this_window = matches!((l.reset, c.reset), (Some(_), Some(b)) if b > now);
                    c.budget = Some(match (this_window, c.budget) {
                        (true, Some(b)) => b.min(left),
                        _ => left,
                    });
                }
                // Each reading's reset is counted from when its answer came: the earliest of a
                // window's is the nearest to the server's.
                c.reset = match (l.reset, c.reset) {
                    (Some(a), Some(b)) if b > now => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                c.limit = l.limit.or(c.limit);
            }
        }
        if self.queued.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            self.read.notify_waiters();
        }
    }
}

fn refused(deadline: Duration) -> Error {
    let body = format!(
        "{{\"message\":\"not sent: the gateway's rate limit leaves no room within the admission queue's deadline of {deadline:?}\"}}"
    );
    Error::Http(Box::new(crate::error::HttpError::from_parts(
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        HeaderMap::new(),
        body.as_bytes(),
    )))
}

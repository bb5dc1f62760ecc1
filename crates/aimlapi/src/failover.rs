//! `aimlapi::failover`: one client over several gateways. A call that fails on one in a way
//! another may not (an overload, a 5xx, a timeout, spent credits, a long rate limit) moves to the
//! next, with the model's id for it and the request in its dialect; a circuit breaker per gateway
//! keeps calls off one that keeps failing, and lets one call probe it after a cool-down.
//!
//! ```no_run
//! # fn run() -> Result<(), aimlapi::Error> {
//! use aimlapi::{Client, Provider};
//!
//! let client = Client::builder()
//!     .api_key("aiml-key")
//!     .fallback(Client::builder().provider(Provider::open_router()).api_key("or-key"))
//!     .build()?;
//! for gateway in client.gateways() {
//!     println!("{}: {:?}", gateway.base_url, gateway.state);
//! }
//! # Ok(()) }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};
use crate::model::Model;
use crate::transport::Transport;

/// Which failures move a call to the next gateway, and how each gateway's breaker behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct FailoverPolicy {
    /// The kinds of failure that move a call, once its retries on one gateway are spent. By
    /// default an overload, a 5xx, a timeout, a broken connection, spent credits, and a rate limit
    /// (see [`rate_limit_wait`](Self::rate_limit_wait)).
    pub moves_on: Vec<ErrorKind>,
    /// A 429 moves only when the wait it names (`retry-after`, or a spent limit's reset) is
    /// longer than this, or it names none. Default 10 s.
    pub rate_limit_wait: Duration,
    /// Each gateway's circuit breaker.
    pub breaker: BreakerPolicy,
    /// Whether a chat stream that breaks after its first delta (an overload or a server error
    /// inside it, a broken connection, a stall, an early end) goes on at the next gateway from
    /// its text so far, sent as the assistant's prefill: the caller reads one stream. Only
    /// without thinking, and before any tool call. Default on.
    pub continue_streams: bool,
}

impl Default for FailoverPolicy {
    fn default() -> Self {
        FailoverPolicy {
            moves_on: vec![
                ErrorKind::Overloaded,
                ErrorKind::Server,
                ErrorKind::Timeout,
                ErrorKind::Connection,
                ErrorKind::InsufficientCredits,
                ErrorKind::RateLimited,
            ],
            rate_limit_wait: Duration::from_secs(10),
            breaker: BreakerPolicy::default(),
            continue_streams: true,
        }
    }
}

impl FailoverPolicy {
    /// Whether `error`, the last of a call's attempts on one gateway, moves the call on.
    pub fn moves(&self, error: &Error) -> bool {
        let kind = error.kind();
        if !self.moves_on.contains(&kind) {
            return false;
        }
        if kind != ErrorKind::RateLimited {
            return true;
        }
        let wait = error.http().and_then(|h| {
            h.retry_after
                .or_else(|| h.rate_limits().reset_wait(std::time::SystemTime::now()))
        });
        wait.is_none_or(|w| w > self.rate_limit_wait)
    }
}

/// When a gateway's breaker opens and for how long.
///
/// Closed, it counts the calls that failed (in a way that moves them) within
/// [`window`](Self::window); once one has failed, it lets no more calls be in flight than
/// the failures still allowed, so a burst does not all go to a gateway that has started failing.
/// At [`failures`](Self::failures) it opens: calls skip the gateway for
/// [`cool_down`](Self::cool_down), doubled each time it opens again without a success, up to
/// [`max_cool_down`](Self::max_cool_down). Then one call probes it: a success closes the
/// breaker, a failure opens it again. A call that every gateway's breaker turns away is sent to
/// its first gateway all the same: a try is better than an error for a call never sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures within the window that open the breaker. Default 5.
    pub failures: u32,
    /// How far back failures count. Default 30 s.
    pub window: Duration,
    /// The first cool-down. Default 5 s.
    pub cool_down: Duration,
    /// The longest cool-down. Default 60 s.
    pub max_cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failures: 5,
            window: Duration::from_secs(30),
            cool_down: Duration::from_secs(5),
            max_cool_down: Duration::from_secs(60),
        }
    }
}

/// A gateway's breaker as read now ([`Client::gateways`](crate::Client::gateways)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go to it; `recent_failures` failed within the window.
    Closed {
        /// Failures within the window.
        recent_failures: u32,
    },
    /// Calls skip it for `for_another`.
    Open {
        /// The cool-down left.
        for_another: Duration,
    },
    /// One call is probing it.
    Probing,
}

/// One gateway of a client, as read now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayHealth {
    /// Its name (`aimlapi`, `openrouter`, `custom`).
    pub name: &'static str,
    /// Its base URL.
    pub base_url: String,
    /// Its breaker.
    pub state: BreakerState,
}

/// What a breaker let through: a call, or the one probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// To a gateway with no failure counted: nothing to count back.
    Clean,
    Call,
    Probe,
}

#[derive(Debug, Default)]
struct Counts {
    /// When the failures within the window happened, oldest first.
    failures: std::collections::VecDeque<Instant>,
    /// Calls let through and not yet reported.
    in_flight: u32,
    /// While open: until when.
    open_until: Option<Instant>,
    /// How many times it opened without a success since.
    opened: u32,
    probing: bool,
}

/// One gateway's circuit breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    policy: BreakerPolicy,
    counts: Mutex<Counts>,
    /// No failure counted and not open: calls pass without the lock.
    healthy: std::sync::atomic::AtomicBool,
}

impl Breaker {
    fn new(policy: BreakerPolicy) -> Self {
        Breaker {
            policy,
            counts: Mutex::default(),
            healthy: std::sync::atomic::AtomicBool::new(true),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a call may go now, and as what.
    pub(crate) fn pass(&self, now: Instant) -> Option<Pass> {
        if self.healthy.load(Ordering::Acquire) {
            return Some(Pass::Clean);
        }
        let mut c = self.lock();
        if let Some(until) = c.open_until {
            if now < until || c.probing {
                return None;
            }
            c.probing = true;
            return Some(Pass::Probe);
        }
        let window = self.policy.window;
        while c
            .failures
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > window)
        {
            c.failures.pop_front();
        }
        let failing = c.failures.len() as u32;
        if failing == 0 && c.in_flight == 0 {
            self.healthy.store(true, Ordering::Release);
        }
        if failing > 0 && failing + c.in_flight >= self.policy.failures.max(1) {
            return None;
        }
        c.in_flight += 1;
        Some(Pass::Call)
    }

    /// How the call `pass` let through ended: `Some(true)` served, `Some(false)` failed in a
    /// way that moves calls, `None` ended otherwise (the caller's error: says nothing of the
    /// gateway's health).
    pub(crate) fn report(&self, pass: Pass, served: Option<bool>, now: Instant) {
        let mut c = self.lock();
        match pass {
            Pass::Probe => c.probing = false,
            Pass::Call => c.in_flight = c.in_flight.saturating_sub(1),
            Pass::Clean => {}
        }
        match served {
            Some(true) => {
                c.failures.clear();
                c.open_until = None;
                c.opened = 0;
                if c.in_flight == 0 {
                    self.healthy.store(true, Ordering::Release);
                }
            }
            Some(false) if pass == Pass::Probe || c.open_until.is_none() => {
                self.count_failure(&mut c, pass == Pass::Probe, now)
            }
            _ => {}
        }
    }

    /// A failure of a call that had been let through and reported (a stream that broke after
    /// its start).
    pub(crate) fn failed(&self, now: Instant) {
        let mut c = self.lock();
        if c.open_until.is_none() {
            self.count_failure(&mut c, false, now);
        }
    }

    /// One more failure: the breaker opens at the threshold, or at once after a probe.
    fn count_failure(&self, c: &mut Counts, probe: bool, now: Instant) {
        self.healthy.store(false, Ordering::Release);
        c.failures.push_back(now);
        if probe || c.failures.len() as u32 >= self.policy.failures.max(1) {
            let doubled = self
                .policy
                .cool_down
                .saturating_mul(2u32.saturating_pow(c.opened));
            c.open_until = Some(crate::http::timeouts::later(
                now,
                doubled.min(self.policy.max_cool_down),
            ));
            c.opened = c.opened.saturating_add(1);
            c.failures.clear();
        }
    }

    /// [`pass`](Self::pass) now: the clock read only when the breaker has counted a failure.
    pub(crate) fn pass_now(&self) -> Option<Pass> {
        match self.healthy.load(Ordering::Acquire) {
            true => Some(Pass::Clean),
            false => self.pass(Instant::now()),
        }
    }

    /// [`report`](Self::report) now: nothing to do for a clean call that was served.
    pub(crate) fn report_now(&self, pass: Pass, served: Option<bool>) {
        if pass != Pass::Clean || served == Some(false) {
            self.report(pass, served, Instant::now());
        }
    }

    fn state(&self, now: Instant) -> BreakerState {
        let c = self.lock();
        match c.open_until {
            Some(_) if c.probing => BreakerState::Probing,
            Some(until) => BreakerState::Open {
                for_another: until.saturating_duration_since(now),
            },
            None => BreakerState::Closed {
                recent_failures: c
                    .failures
                    .iter()
                    .filter(|at| now.saturating_duration_since(**at) <= self.policy.window)
                    .count() as u32,
            },
        }
    }
}

/// One gateway: its transport and its breaker.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) transport: Transport,
    pub(crate) breaker: Breaker,
}

/// A client's gateways in order, shared by every handle of the client.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) members: Vec<Member>,
    pub(crate) policy: FailoverPolicy,
}

impl Route {
    pub(crate) fn new(transports: Vec<Transport>, policy: FailoverPolicy) -> Self {
        let members = transports
            .into_iter()
            .map(|transport| Member {
                transport,
                breaker: Breaker::new(policy.breaker.clone()),
            })
            .collect();
        Route { members, policy }
    }

    pub(crate) fn health(&self) -> Vec<GatewayHealth> {
        let now = Instant::now();
        self.members
            .iter()
            .map(|m| GatewayHealth {
                name: m.transport.provider().name(),
                base_url: m.transport.base_url().to_string(),
                state: m.breaker.state(now),
            })
            .collect()
    }

    /// The order a conversation pinned to `pinned` (if any) tries the gateways in: its own
    /// gateway first, then the rest in the client's order.
    pub(crate) fn order(&self, pinned: Option<usize>) -> impl Iterator<Item = usize> + '_ {
        let first = pinned.filter(|p| *p < self.members.len());
        first
            .into_iter()
            .chain((0..self.members.len()).filter(move |i| Some(*i) != first))
    }
}

/// Where a conversation went: the gateway that served it last, shared by the clones of a
/// [`Chat`](crate::Chat) (a tool loop's steps, a conversation carried on from it).
/// A chat without fallbacks has none (nothing to allocate).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pin(Option<Arc<AtomicUsize>>);

impl Pin {
    const NONE: usize = usize::MAX;

    pub(crate) fn new() -> Self {
        Pin(Some(Arc::new(AtomicUsize::new(Self::NONE))))
    }

    pub(crate) fn get(&self) -> Option<usize> {
        match self.0.as_ref()?.load(Ordering::Relaxed) {
            Self::NONE => None,
            at => Some(at),
        }
    }

    pub(crate) fn set(&self, at: usize) {
        if let Some(pin) = &self.0 {
            pin.store(at, Ordering::Relaxed);
        }
    }
}

/// The error for a call that cannot move to `to` because it does not serve `model`: the
/// failure that would have moved it, with why it stayed.
pub(crate) fn not_served(model: &Model, to: &Transport) -> String {
    format!(
        "not moved to {} ({}): it does not serve {}",
        to.provider().name(),
        to.base_url(),
        model.id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy {
            failures: 3,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(1),
            max_cool_down: Duration::from_secs(3),
        })
    }

    #[test]
    fn opens_at_the_threshold_then_lets_one_probe_after_a_growing_cool_down() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            let p = b.pass(t0).unwrap();
            b.report(p, Some(false), t0);
        }
        assert_eq!(b.pass(t0), None);
        assert!(matches!(b.state(t0), BreakerState::Open { .. }));
        let t1 = t0 + Duration::from_millis(1001);
        assert_eq!(b.pass(t1), Some(Pass::Probe));
        assert_eq!(b.pass(t1), None, "one probe at a time");
        assert_eq!(b.state(t1), BreakerState::Probing);
        b.report(Pass::Probe, Some(false), t1);
        // Opened again: twice as long.
        assert_eq!(b.pass(t1 + Duration::from_millis(1500)), None);
        let t2 = t1 + Duration::from_millis(2001);
        assert_eq!(b.pass(t2), Some(Pass::Probe));
        b.report(Pass::Probe, Some(true), t2);
        assert_eq!(b.state(t2), BreakerState::Closed { recent_failures: 0 });
        assert_eq!(b.pass(t2), Some(Pass::Clean));
    }

    #[test]
    fn once_failing_it_lets_no_more_in_flight_than_the_failures_left() {
        let b = breaker();
        let t = Instant::now();
        // Healthy: any number in flight.
        let passes: Vec<_> = (0..10).map(|_| b.pass(t).unwrap()).collect();
        for p in passes {
            b.report(p, Some(true), t);
        }
        let p = b.pass(t).unwrap();
        b.report(p, Some(false), t);
        assert!(b.pass(t).is_some());
        assert!(b.pass(t).is_some());
        assert_eq!(b.pass(t), None, "1 failure + 2 in flight = the threshold");
        b.report(Pass::Call, None, t);
        assert!(b.pass(t).is_some());
    }

    #[test]
    fn a_cool_down_too_long_to_add_is_decades_not_a_panic() {
        let b = Breaker::new(BreakerPolicy {
            failures: 1,
            window: Duration::MAX,
            cool_down: Duration::MAX,
            max_cool_down: Duration::MAX,
        });
        let t = Instant::now();
        let p = b.pass(t).unwrap();
        b.report(p, Some(false), t);
        assert!(
            matches!(b.state(t), BreakerState::Open { for_another } if for_another > Duration::from_secs(3600 * 24 * 365))
        );
        assert_eq!(b.pass(t), None);
    }

    #[test]
    fn failures_out_of_the_window_are_forgotten() {
        let b = breaker();
        let t = Instant::now();
        for _ in 0..2 {
            let p = b.pass(t).unwrap();
            b.report(p, Some(false), t);
        }
        let later = t + Duration::from_secs(11);
        let p = b.pass(later).unwrap();
        b.report(p, Some(false), later);
        assert_eq!(b.state(later), BreakerState::Closed { recent_failures: 1 });
    }

    #[test]
    fn a_rate_limit_moves_only_past_the_bound() {
        use reqwest::header::HeaderMap;
        let policy = FailoverPolicy::default();
        let limited = |retry_after: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(v) = retry_after {
                h.insert("retry-after", v.parse().unwrap());
            }
            Error::Http(Box::new(crate::error::HttpError::from_parts(
                reqwest::StatusCode::TOO_MANY_REQUESTS,
                h,
                b"{}",
            )))
        };
        assert!(!policy.moves(&limited(Some("2"))));
        assert!(policy.moves(&limited(Some("30"))));
        assert!(policy.moves(&limited(None)));
        let bad = Error::Http(Box::new(crate::error::HttpError::from_parts(
            reqwest::StatusCode::BAD_REQUEST,
            HeaderMap::new(),
            b"{}",
        )));
        assert!(!policy.moves(&bad));
    }
}

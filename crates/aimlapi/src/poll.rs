//! One polling loop for every "ask again until done or the deadline": [`Polling`] asks, pauses
//! by a [`Pauses`] schedule (longer when an answer asks for longer), and asks again until an
//! answer is the last or the deadline passes. The account's lookups by id and a batch's watch
//! both run on it.

use std::future::Future;
use std::time::Duration;

use futures::Stream;
use tokio::time::Instant;

/// The pauses between asks: none before the first, `first` before the second, then each
/// `factor` times the one before, up to `longest`, and each spread by up to ±`jitter` of itself
/// (so that many pollers drift apart).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pauses {
    first: Duration,
    longest: Duration,
    factor: f64,
    jitter: f64,
}

impl Pauses {
    /// `first`, growing by `factor` up to `longest` (at least `first`), with no jitter.
    pub(crate) fn growing(first: Duration, factor: f64, longest: Duration) -> Self {
        Pauses {
            first,
            longest: longest.max(first),
            factor,
            jitter: 0.0,
        }
    }

    /// The same pauses, each spread by up to ±`jitter` (a fraction, such as 0.2) of itself.
    pub(crate) fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The pause before ask `n` (0 for the first ask, which does not wait).
    pub(crate) fn before(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let grown = self.first.as_secs_f64() * self.factor.powi(n.min(64) as i32 - 1);
        let mut pause = grown.min(self.longest.as_secs_f64());
        if self.jitter > 0.0 {
            pause *= 1.0 - self.jitter + 2.0 * self.jitter * fastrand::f64();
        }
        // A caller's durations may be any, up to ones no f64 holds exactly.
        Duration::try_from_secs_f64(pause).unwrap_or(Duration::MAX)
    }
}

/// What one ask gave.
pub(crate) enum Asked<T> {
    /// An answer to hand on; asking goes on.
    More(T),
    /// The last answer: no ask follows.
    Last(T),
    /// Nothing to hand on (nothing yet, or a failure worth another try): ask again after the
    /// next pause, or after this long if it is longer (a server's `Retry-After`).
    Again(Option<Duration>),
}

/// The deadline passed before an ask gave the last answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Expired;

/// Asks with `ask` until an answer is the last or the deadline passes. The deadline is counted
/// from when the polling is made; a pause that would reach it is not taken (the deadline is
/// waited out instead, with no ask after it), and each ask is raced against the time left, so
/// one that hangs, or whose answer never ends, does not hold the polling past its deadline.
pub(crate) struct Polling<A> {
    ask: A,
    pauses: Pauses,
    deadline: Instant,
    asks: u32,
    /// The least the next pause may be (an answer's `Retry-After`).
    at_least: Option<Duration>,
    done: bool,
}

impl<A, F, T> Polling<A>
where
    A: FnMut() -> F,
    F: Future<Output = Asked<T>>,
{
    /// Polling with `ask`, paced by `pauses`, for up to `within` from now: any duration,
    /// `Duration::MAX` meaning "as long as it takes".
    pub(crate) fn new(pauses: Pauses, within: Duration, ask: A) -> Self {
        let now = Instant::now();
        Polling {
            ask,
            pauses,
            deadline: Instant::from_std(crate::http::timeouts::later(now.into_std(), within)),
            asks: 0,
            at_least: None,
            done: false,
        }
    }

    /// The next answer handed on; `Err(Expired)` at the deadline; `None` after the last answer
    /// or the deadline.
    pub(crate) async fn next(&mut self) -> Option<Result<T, Expired>> {
        while !self.done {
            let mut pause = self.pauses.before(self.asks);
            if let Some(at_least) = self.at_least.take() {
                pause = pause.max(at_least);
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if pause >= left {
                tokio::time::sleep_until(self.deadline).await;
                self.done = true;
                return Some(Err(Expired));
            }
            tokio::time::sleep(pause).await;
            self.asks = self.asks.saturating_add(1);
            let Ok(asked) = tokio::time::timeout_at(self.deadline, (self.ask)()).await else {
                self.done = true;
                return Some(Err(Expired));
            };
            match asked {
                Asked::More(answer) => return Some(Ok(answer)),
                Asked::Last(answer) => {
                    self.done = true;
                    return Some(Ok(answer));
                }
                Asked::Again(at_least) => self.at_least = at_least,
            }
        }
        None
    }

    /// The answers as a stream, ending after the last one or with `Err(Expired)`. Dropping it
    /// stops asking.
    pub(crate) fn into_stream(self) -> impl Stream<Item = Result<T, Expired>> {
        futures::stream::unfold(self, |mut polling| async move {
            let answer = polling.next().await?;
            Some((answer, polling))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn pauses_grow_by_their_factor_to_the_longest() {
        let p = Pauses::growing(Duration::from_millis(100), 2.0, Duration::from_secs(2));
        let ms: Vec<_> = (0..8).map(|n| p.before(n).as_millis()).collect();
        assert_eq!(ms, [0, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.before(u32::MAX), Duration::from_secs(2));
        let jittered = p.jitter(0.5);
        for _ in 0..100 {
            let late = jittered.before(30).as_secs_f64();
            assert!((1.0..=3.0).contains(&late), "{late}");
        }
        let longest = Pauses::growing(Duration::MAX, 2.0, Duration::from_secs(1));
        assert_eq!(longest.before(2), Duration::MAX);
    }

    #[tokio::test]
    async fn answers_come_until_the_last_and_then_none() {
        let asks = AtomicU32::new(0);
        let pauses = Pauses::growing(Duration::from_millis(5), 1.0, Duration::from_millis(5));
        let polling = Polling::new(pauses, Duration::MAX, || {
            let n = asks.fetch_add(1, Ordering::Relaxed);
            async move {
                match n {
                    0 => Asked::Again(None),
                    1 | 2 => Asked::More(n),
                    _ => Asked::Last(n),
                }
            }
        });
        let answers: Vec<_> = polling.into_stream().collect().await;
        assert_eq!(answers, [Ok(1), Ok(2), Ok(3)]);
        assert_eq!(asks.load(Ordering::Relaxed), 4);
    }

    #[tokio::test]
    async fn the_deadline_ends_an_ask_that_never_answers_and_a_pause_that_would_pass_it() {
        let started = Instant::now();
        let pauses = Pauses::growing(Duration::from_millis(5), 1.0, Duration::from_millis(5));
        let mut hangs = Polling::new(pauses, Duration::from_millis(200), || {
            futures::future::pending::<Asked<()>>()
        });
        assert_eq!(hangs.next().await, Some(Err(Expired)));
        assert_eq!(hangs.next().await, None);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(2),
            "{took:?}"
        );

        // An answer asking for longer than the time left: no ask after it, the deadline is
        // waited out.
        let asks = AtomicU32::new(0);
        let started = Instant::now();
        let mut polling = Polling::new(pauses, Duration::from_millis(200), || {
            asks.fetch_add(1, Ordering::Relaxed);
            async { Asked::<()>::Again(Some(Duration::from_secs(3600))) }
        });
        assert_eq!(polling.next().await, Some(Err(Expired)));
        assert_eq!(asks.load(Ordering::Relaxed), 1);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(200) && took < Duration::from_secs(2),
            "{took:?}"
        );

        // No time at all: nothing is asked.
        let mut none = Polling::new(pauses, Duration::ZERO, || async { Asked::Last(()) });
        assert_eq!(none.next().await, Some(Err(Expired)));
    }

    #[tokio::test]
    async fn an_answer_asking_for_longer_stretches_the_next_pause_only() {
        let asks = AtomicU32::new(0);
        let pauses = Pauses::growing(Duration::from_millis(1), 1.0, Duration::from_millis(1));
        let started = Instant::now();
        let mut polling = Polling::new(pauses, Duration::from_secs(10), || {
            let n = asks.fetch_add(1, Ordering::Relaxed);
            async move {
                match n {
                    0 => Asked::Again(Some(Duration::from_millis(300))),
                    1..=3 => Asked::Again(None),
                    _ => Asked::Last(n),
                }
            }
        });
        assert_eq!(polling.next().await, Some(Ok(4)));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }
}

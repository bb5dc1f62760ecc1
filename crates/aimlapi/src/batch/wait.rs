//! Waiting for a batch to end: [`Wait`] (how often to poll and for how long), the statuses as
//! a stream ([`Batch::watch`](super::Batch::watch)) and a wait over it.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};

use super::status::BatchStatus;
use crate::error::{Error, ErrorKind};

/// How [`Batch::wait`](super::Batch::wait) polls: the first interval, growing by half each poll up to the longest,
/// each with ±20% jitter (so a fleet of waiters spreads out), a server's `Retry-After` honoured
/// when it asks for longer, and a deadline after which waiting fails with
/// [`ErrorKind::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wait {
    first: Duration,
    longest: Duration,
    deadline: Duration,
}

impl Default for Wait {
    /// Polls after 5 s, then up to every 60 s, for at most 25 hours (a batch expires after 24).
    fn default() -> Self {
        Wait {
            first: Duration::from_secs(5),
            longest: Duration::from_secs(60),
            deadline: Duration::from_secs(25 * 3600),
        }
    }
}

impl Wait {
    /// The default: every 5 s at first, up to every 60 s, for at most 25 hours.
    pub fn new() -> Self {
        Wait::default()
    }

    /// The first interval, and the longest the intervals grow to (at least the first).
    pub fn interval(mut self, first: Duration, longest: Duration) -> Self {
        self.first = first;
        self.longest = longest.max(first);
        self
    }

    /// How long to wait in all before failing with [`ErrorKind::Timeout`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The pause before poll `n` (0 for the first poll, which does not wait).
    fn pause(&self, n: u32) -> Duration {
        if n == 0 {
            return Duration::ZERO;
        }
        let grown = self.first.as_secs_f64() * 1.5f64.powi(n.min(64) as i32 - 1);
        let base = grown.min(self.longest.as_secs_f64());
        // A caller's longest may be any Duration, up to one no f64 can hold.
        Duration::try_from_secs_f64(base * (0.8 + 0.4 * fastrand::f64())).unwrap_or(Duration::MAX)
    }
}

/// Polling state between two statuses.
struct Watch<P> {
    poll: P,
    wait: Wait,
    started: Instant,
    polls: u32,
    /// A server's `Retry-After`, to wait at least this long before the next poll.
    asked: Option<Duration>,
    /// The longest a `Retry-After` is heard for (the client's retry policy's).
    cap: Duration,
    done: bool,
}

/// Whether a failed poll is worth another (the batch is still there; the server or the way to
/// it had a moment).
fn transient(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::RateLimited
            | ErrorKind::Overloaded
            | ErrorKind::Server
            | ErrorKind::Timeout
            | ErrorKind::Connection
    )
}

impl<P, F> Watch<P>
where
    P: FnMut() -> F,
    F: Future<Output = Result<BatchStatus, Error>>,
{
    async fn next(&mut self) -> Option<Result<BatchStatus, Error>> {
        loop {
            if self.done {
                return None;
            }
            let mut pause = self.wait.pause(self.polls);
            if let Some(asked) = self.asked.take() {
                pause = pause.max(asked);
            }
            let left = self.wait.deadline.saturating_sub(self.started.elapsed());
            if pause >= left {
                tokio::time::sleep(left).await;
                self.done = true;
                return Some(Err(timed_out(&self.wait)));
            }
            tokio::time::sleep(pause).await;
            self.polls = self.polls.saturating_add(1);
            // The poll is raced against the time left: one that hangs, or whose answer never
            // ends, does not hold the wait past its deadline.
            let left = self.wait.deadline.saturating_sub(self.started.elapsed());
            let Ok(polled) = tokio::time::timeout(left, (self.poll)()).await else {
                self.done = true;
                return Some(Err(timed_out(&self.wait)));
            };
            match polled {
                Ok(status) => {
                    self.done = status.state.is_ended();
                    return Some(Ok(status));
                }
                Err(e) if transient(&e) => {
                    tracing::warn!(error = %e, "polling a batch: trying again");
                    self.asked = e
                        .http()
                        .and_then(|h| h.retry_after)
                        .map(|w| w.min(self.cap));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

fn timed_out(wait: &Wait) -> Error {
    Error::Timeout {
        after: wait.deadline,
        waiting_for: "the batch to end",
    }
}

/// The statuses `poll` gives, paced by `wait` (a server's `Retry-After` heard up to `cap`), until
/// one has ended or the deadline passed.
pub(crate) fn watch<P, F>(
    wait: Wait,
    cap: Duration,
    poll: P,
) -> impl Stream<Item = Result<BatchStatus, Error>>
where
    P: FnMut() -> F,
    F: Future<Output = Result<BatchStatus, Error>>,
{
    let watch = Watch {
        poll,
        wait,
        started: Instant::now(),
        polls: 0,
        asked: None,
        cap,
        done: false,
    };
    futures::stream::unfold(watch, |mut w| async move {
        let status = w.next().await?;
        Some((status, w))
    })
}

/// Runs `statuses` to its end, calling `progress` with each; the last status.
pub(crate) async fn wait_for(
    wait: Wait,
    statuses: impl Stream<Item = Result<BatchStatus, Error>>,
    mut progress: impl FnMut(&BatchStatus),
) -> Result<BatchStatus, Error> {
    futures::pin_mut!(statuses);
    let mut last = None;
    while let Some(status) = statuses.next().await {
        let status = status?;
        progress(&status);
        last = Some(status);
    }
    last.ok_or_else(|| timed_out(&wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_longest_with_jitter() {
        let w = Wait::new().interval(Duration::from_millis(100), Duration::from_millis(400));
        assert_eq!(w.pause(0), Duration::ZERO);
        let forever = Wait::new().interval(Duration::MAX, Duration::MAX);
        assert!(forever.pause(3) >= Duration::from_secs(u64::MAX / 2));
        for _ in 0..100 {
            let first = w.pause(1).as_secs_f64();
            assert!((0.08..=0.12).contains(&first), "{first}");
            let late = w.pause(40).as_secs_f64();
            assert!((0.32..=0.48).contains(&late), "{late}");
        }
    }
}

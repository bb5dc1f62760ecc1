//! Waiting for a batch to end: [`Wait`] (how often to poll and for how long), the statuses as
//! a stream ([`Batch::watch`](super::Batch::watch)) and a wait over it.

use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt};

use super::status::BatchStatus;
use crate::error::{Error, ErrorKind};
use crate::poll::{Asked, Expired, Pauses, Polling};

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

    /// The pauses between polls: the first interval, half as long again each poll up to the
    /// longest, each with ±20% jitter.
    fn pauses(&self) -> Pauses {
        Pauses::growing(self.first, 1.5, self.longest).jitter(0.2)
    }
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
    mut poll: P,
) -> impl Stream<Item = Result<BatchStatus, Error>>
where
    P: FnMut() -> F,
    F: Future<Output = Result<BatchStatus, Error>>,
{
    let polling = Polling::new(wait.pauses(), wait.deadline, move || {
        let polled = poll();
        async move {
            match polled.await {
                Ok(status) if status.state.is_ended() => Asked::Last(Ok(status)),
                Ok(status) => Asked::More(Ok(status)),
                Err(e) if transient(&e) => {
                    tracing::warn!(error = %e, "polling a batch: trying again");
                    Asked::Again(e.http().and_then(|h| h.retry_after).map(|w| w.min(cap)))
                }
                Err(e) => Asked::Last(Err(e)),
            }
        }
    });
    polling
        .into_stream()
        .map(move |polled| polled.unwrap_or_else(|Expired| Err(timed_out(&wait))))
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
        assert_eq!(w.pauses().before(0), Duration::ZERO);
        let forever = Wait::new().interval(Duration::MAX, Duration::MAX);
        assert!(forever.pauses().before(3) >= Duration::from_secs(u64::MAX / 2));
        for _ in 0..100 {
            let first = w.pauses().before(1).as_secs_f64();
            assert!((0.08..=0.12).contains(&first), "{first}");
            let late = w.pauses().before(40).as_secs_f64();
            assert!((0.32..=0.48).contains(&late), "{late}");
        }
    }
}

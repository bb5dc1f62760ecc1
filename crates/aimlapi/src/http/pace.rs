//! [`Pace`]: at most so many requests in any window of time, waited for rather than refused
//! (the request log route takes 200 a minute and answers 429 past it).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A sliding-window limit shared by every handle of one client.
#[derive(Debug)]
pub(crate) struct Pace {
    limit: usize,
    per: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Pace {
    /// At most `limit` requests in any `per`.
    pub(crate) fn new(limit: usize, per: Duration) -> Self {
        Pace {
            limit: limit.max(1),
            per,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits until one more request keeps within the limit, and counts it.
    pub(crate) async fn wait(&self) {
        loop {
            let wait = {
                let now = Instant::now();
                let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
                while sent
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= self.per)
                {
                    sent.pop_front();
                }
                if sent.len() < self.limit {
                    sent.push_back(now);
                    return;
                }
                let oldest = *sent.front().expect("full, so not empty");
                self.per
                    .saturating_sub(now.saturating_duration_since(oldest))
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_request_past_the_limit_waits_for_the_window_to_move() {
        let per = Duration::from_millis(300);
        let pace = Pace::new(3, per);
        let started = Instant::now();
        for _ in 0..3 {
            pace.wait().await;
        }
        assert!(started.elapsed() < per, "the first three do not wait");
        pace.wait().await;
        assert!(
            started.elapsed() >= per,
            "the fourth waits for the first to leave the window"
        );
    }
}

//! When to try a request again, and how long to wait first. Decided from the status and the
//! headers only, never from the body.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::error::retry_after;

/// How failed requests are retried. The defaults are those of the Stainless-generated SDKs:
/// 2 retries, backoff `min(0.5 s * 2^n, 8 s)` less up to 25% jitter, the server's `retry-after-ms`
/// or `retry-after` honoured up to 60 s, no bound on the time they take.
/// [`patient`](Self::patient) bounds them by elapsed time instead, to ride out an overload.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest wait a server's `retry-after` may ask for (or a spent rate limit's reset,
    /// or a batch poll's `retry-after`); longer asks are capped to it.
    pub max_retry_after: Duration,
    /// The share of each backoff taken off at random (0 to 1), so clients spread out.
    pub jitter: f64,
    /// The longest time the attempts of one request may take, from the first's start: a retry
    /// whose wait would end past it is not made (the last failure is the error). `None`: bounded
    /// by [`max_retries`](Self::max_retries) alone.
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: crate::time::DEFAULT_WAIT_CAP,
            jitter: 0.25,
            max_elapsed: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Retries for as long as `elapsed` allows, however many that takes (the backoff and the
    /// server's waits as by default): an overload of a minute or two is ridden out with
    /// `RetryPolicy::patient(Duration::from_secs(180))`.
    pub fn patient(elapsed: Duration) -> Self {
        RetryPolicy {
            max_retries: u32::MAX,
            max_elapsed: Some(elapsed),
            ..Self::default()
        }
    }

    /// Whether retry number `retry` (0 for the first) may be made after `wait`, when the
    /// request's attempts began `elapsed` ago.
    pub(crate) fn allows(&self, retry: u32, elapsed: Duration, wait: Duration) -> bool {
        retry < self.max_retries
            && self
                .max_elapsed
                .is_none_or(|most| elapsed.saturating_add(wait) <= most)
    }

    /// Whether an answer with `status` and `headers` is worth another try: `x-should-retry`
    /// decides when present; otherwise 408, 409, 429 and 5xx are.
    pub fn should_retry_status(&self, status: StatusCode, headers: &HeaderMap) -> bool {
        match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
            Some("true") => return true,
            Some("false") => return false,
            _ => {}
        }
        matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
    }

    /// How long to wait before retry number `retry` (0 for the first), given the headers of the
    /// failed answer, if any: the server's ask (as [`HttpError::retry_after`](crate::error::HttpError)
    /// reads it) capped at
    /// [`max_retry_after`](Self::max_retry_after), else the backoff. Never panics, whatever the
    /// headers or the policy's fields hold.
    pub fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        if let Some(asked) = headers.and_then(retry_after) {
            return asked.min(self.max_retry_after);
        }
        // No Retry-After, but a spent rate limit that names its reset: wait for it.
        let reset = headers.and_then(|h| {
            crate::rate_limits::RateLimits::from_headers(h).reset_wait(std::time::SystemTime::now())
        });
        if let Some(reset) = reset {
            return reset.min(self.max_retry_after);
        }
        let backoff = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff);
        // A jitter that is NaN takes nothing off; the factor stays within (0, 1].
        let jitter = if self.jitter.is_nan() {
            0.0
        } else {
            self.jitter.clamp(0.0, 1.0)
        };
        backoff.mul_f64(1.0 - jitter * fastrand::f64())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::SystemTime;

    /// A header map of `pairs` (the unit tests' shorthand).
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn retries_are_bounded_by_count_and_by_elapsed_time() {
        let s = Duration::from_secs;
        let default = RetryPolicy::default();
        assert!(default.allows(1, s(3600), s(60)));
        assert!(!default.allows(2, s(0), s(0)));
        let patient = RetryPolicy::patient(s(120));
        assert!(patient.allows(1000, s(100), s(20)));
        assert!(!patient.allows(1000, s(100), s(21)));
        assert!(!patient.allows(0, s(121), s(0)));
        let both = RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::patient(s(120))
        };
        assert!(!both.allows(3, s(0), s(0)));
    }

    #[test]
    fn statuses_and_the_override_header() {
        let p = RetryPolicy::default();
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(
                p.should_retry_status(StatusCode::from_u16(s).unwrap(), &HeaderMap::new()),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(
                !p.should_retry_status(StatusCode::from_u16(s).unwrap(), &HeaderMap::new()),
                "{s}"
            );
        }
        assert!(!p.should_retry_status(
            StatusCode::INTERNAL_SERVER_ERROR,
            &headers(&[("x-should-retry", "false")])
        ));
        assert!(p.should_retry_status(
            StatusCode::BAD_REQUEST,
            &headers(&[("x-should-retry", "true")])
        ));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_less_jitter() {
        let p = RetryPolicy::default();
        for (retry, full) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)] {
            for _ in 0..50 {
                let d = p.delay(retry, None).as_secs_f64();
                assert!(d <= full && d >= full * 0.75 - 1e-9, "retry {retry}: {d}");
            }
        }
        let exact = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        assert_eq!(exact.delay(1, None), Duration::from_secs(1));
    }

    #[test]
    fn the_server_s_wait_wins_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(
                0,
                Some(&headers(&[
                    ("retry-after-ms", "1500"),
                    ("retry-after", "9")
                ]))
            ),
            Duration::from_millis(1500)
        );
        assert_eq!(
            p.delay(0, Some(&headers(&[("retry-after", "3")]))),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(0, Some(&headers(&[("retry-after", "3600")]))),
            Duration::from_secs(60)
        );
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        let d = p.delay(0, Some(&headers(&[("retry-after", soon.as_str())])));
        assert!(
            d <= Duration::from_secs(20) && d >= Duration::from_secs(18),
            "{d:?}"
        );
        // Nonsense falls back to backoff.
        assert!(
            p.delay(0, Some(&headers(&[("retry-after", "soon")]))) <= Duration::from_millis(500)
        );
    }
}

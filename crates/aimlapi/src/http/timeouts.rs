//! [`Timeouts`]: how long a request may wait, phase by phase.

use std::time::Duration;

/// How long to wait, for each phase of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection. Default 5 s.
    pub connect: Duration,
    /// For a whole non-streaming request, response included. Default 600 s.
    pub request: Duration,
    /// The longest a stream waits for its next chunk, counted from when the reader asks for it
    /// and none has arrived (and for a stream's response headers). Default 60 s.
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(600),
            stream_idle: Duration::from_secs(60),
        }
    }
}

/// Runs one whole attempt (request, response and body) within `limit`: past it, a retryable
/// [`Error::Timeout`](crate::Error::Timeout) waiting for the response. One timer on the stack of
/// the call, not reqwest's per-request timeout (a boxed timer polled by the request and again by
/// a wrapper around the body). A plain function over tokio's `Timeout`, so the attempt is held
/// once, inside it (an `async fn` would keep its argument beside it).
// `Failure` is what every attempt returns; boxing it here alone would only add an allocation.
#[allow(clippy::result_large_err)]
pub(crate) fn within<T>(
    limit: Duration,
    attempt: impl std::future::Future<Output = Result<T, crate::http::failure::Failure>>,
) -> impl std::future::Future<Output = Result<T, crate::http::failure::Failure>> {
    use futures::FutureExt;
    tokio::time::timeout(limit, attempt).map(move |done| match done {
        Ok(done) => done,
        Err(_) => Err(crate::http::failure::Failure {
            error: crate::error::Error::Timeout {
                after: limit,
                waiting_for: "the response",
            },
            retryable: true,
            headers: None,
        }),
    })
}

/// `from` plus `by`, or a moment decades away when `by` is too long to add (a caller may set
/// `Duration::MAX` to mean "never"): every deadline and cool-down made from a caller's or a
/// server's duration.
pub(crate) fn later(from: std::time::Instant, by: Duration) -> std::time::Instant {
    from.checked_add(by)
        .unwrap_or_else(|| from + Duration::from_secs(30 * 365 * 24 * 3600))
}

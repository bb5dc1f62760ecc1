//! A failed attempt and how it is classified: an HTTP status, a transport error, a body too
//! large; whether another attempt may help.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::error::{Error, HttpError};
use crate::http::retry::RetryPolicy;

/// An error's message followed by its causes', so that a wrapped cause is not lost.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// A failed attempt: the error, whether another attempt may help, and the headers that say when.
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) retryable: bool,
    pub(crate) headers: Option<HeaderMap>,
}

/// A status that is not a success: read the body (at most `limit` bytes of it), decide on a
/// retry from status and headers.
pub(crate) async fn http_failure(
    response: reqwest::Response,
    retry: &RetryPolicy,
    limit: usize,
) -> Failure {
    let status = response.status();
    let headers = response.headers().clone();
    let retryable = retry.should_retry_status(status, &headers);
    let body = read_prefix(response, limit).await;
    let error = HttpError::from_parts(status, headers.clone(), &body);
    Failure {
        error: Error::Http(Box::new(error)),
        retryable,
        headers: Some(headers),
    }
}

/// The whole body, read piece by piece and refused as soon as it would pass `limit` bytes (a
/// `Content-Length` over the limit is refused before reading). The error is the network's, or
/// `None` for a body over the limit.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Option<reqwest::Error>> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(None);
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(piece) = response.chunk().await? {
        if piece.len() > limit - body.len() {
            return Err(None);
        }
        grow_within(&mut body, piece.len(), limit);
        body.extend_from_slice(&piece);
    }
    Ok(body.into())
}

/// Room in `body` for `more` bytes, grown by doubling but never past `limit` (a body at the
/// limit holds no more than the limit).
fn grow_within(body: &mut Vec<u8>, more: usize, limit: usize) {
    let need = body.len() + more;
    if need > body.capacity() {
        let room = need.max(2 * body.capacity()).min(limit).max(need);
        body.reserve_exact(room - body.len());
    }
}

/// As much of the body as arrives, up to `limit` bytes (an error body: what is past the limit, or
/// after a broken connection, is left unread).
async fn read_prefix(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(piece)) = response.chunk().await {
        let room = limit - body.len();
        let take = piece.len().min(room);
        grow_within(&mut body, take, limit);
        body.extend_from_slice(&piece[..take]);
        if piece.len() >= room {
            break;
        }
    }
    body
}

/// A request that could not be built (a URL or header reqwest refuses): not retried.
pub(crate) fn request_failure(e: reqwest::Error) -> Failure {
    Failure {
        error: Error::Config(format!("request: {e}")),
        retryable: false,
        headers: None,
    }
}

/// A transport error: timeouts and broken connections are worth another try; a request that
/// could not be sent as it is (a URL hyper refuses, such as one too long to send) is not a
/// connection failure, and is not retried.
pub(crate) fn transport_failure(e: reqwest::Error, timeout: Duration) -> Failure {
    if e.is_builder() {
        return Failure {
            error: Error::InvalidRequest(format!(
                "the request cannot be sent as it is: {}",
                with_causes(&e.without_url())
            )),
            retryable: false,
            headers: None,
        };
    }
    let error = if e.is_timeout() {
        Error::Timeout {
            after: timeout,
            waiting_for: "the response",
        }
    } else {
        Error::Connection(e.without_url())
    };
    Failure {
        error,
        retryable: true,
        headers: None,
    }
}

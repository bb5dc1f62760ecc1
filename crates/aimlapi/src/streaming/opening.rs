//! A stream's first event, read before the stream is handed over: an overload or a rate limit
//! that the server reports as the first event of a `200` stream is a failed attempt, retried as
//! a failed request would be; any other start is read again by the stream, byte for byte.

use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;
use crate::http::failure::{transport_failure, Failure};
use crate::streaming::frame::{SseDecoder, SseRef, DEFAULT_MAX_LINE};

/// The most bytes read looking for the first event (OpenRouter may pad a body's start with
/// kilobytes of whitespace); past it the stream is handed over as it is.
const LOOK_AT_MOST: usize = 256 << 10;

/// Reads `response` up to its first `data` event: the pieces read, to be read again by the
/// stream; or, when that event is an error of a kind worth another try, that error as a
/// retryable failure. Nothing has been handed to a caller yet, so a retry is not a silent
/// restart. A body that breaks this early is a failed attempt too.
pub(crate) async fn first_event(
    response: &mut reqwest::Response,
    idle: Duration,
) -> Result<Vec<Bytes>, Failure> {
    let mut framing = SseDecoder::new(DEFAULT_MAX_LINE);
    let mut pieces = Vec::new();
    let mut read = 0;
    while read < LOOK_AT_MOST {
        let piece = match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => return Ok(pieces), // the stream's own idle timeout will say so
            Ok(Err(e)) => return Err(transport_failure(e, idle)),
            Ok(Ok(None)) => return Ok(pieces),
            Ok(Ok(Some(piece))) => piece,
        };
        read += piece.len();
        let mut first: Option<Option<Error>> = None;
        let framed = framing.feed_with(&piece, &mut |item| {
            if let (None, SseRef::Event { data, .. }) = (&first, item) {
                if !data.is_empty() {
                    first = Some(retryable(data));
                }
            }
        });
        pieces.push(piece);
        match (framed, first) {
            (_, Some(Some(error))) => {
                return Err(Failure {
                    error,
                    retryable: true,
                    headers: None,
                })
            }
            (Err(_), _) | (_, Some(None)) => return Ok(pieces),
            (Ok(()), None) => {}
        }
    }
    Ok(pieces)
}

/// The error a stream's first event reports, when it is of a kind another try may not meet:
/// a Messages `error` event of type `overloaded_error`, `rate_limit_error` or `api_error`; an
/// OpenRouter chunk carrying an `error` (with no code, or 408, 429 or 5xx) and no delta.
fn retryable(data: &[u8]) -> Option<Error> {
    // Cheap before a parse: an event that is not an error names no "error".
    memchr::memmem::find(data, b"\"error\"")?;
    let event: serde_json::Value = serde_json::from_slice(data).ok()?;
    let error = event.get("error")?;
    let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    if event.get("type").and_then(|t| t.as_str()) == Some("error") {
        let kind = text(error.get("type"))?;
        return matches!(
            kind.as_str(),
            "overloaded_error" | "rate_limit_error" | "api_error"
        )
        .then(|| Error::Stream {
            code: Some(kind),
            message: text(error.get("message")).unwrap_or_default(),
        });
    }
    // A delta that carries something (OpenRouter's error chunk has `content: ""`); the role
    // alone is not an answer.
    let carries = |(k, v): (&String, &serde_json::Value)| {
        k != "role"
            && match v {
                serde_json::Value::Null => false,
                serde_json::Value::String(s) => !s.is_empty(),
                serde_json::Value::Array(a) => !a.is_empty(),
                serde_json::Value::Object(o) => !o.is_empty(),
                _ => true,
            }
    };
    let delta = event
        .pointer("/choices/0/delta")
        .and_then(|d| d.as_object())
        .is_some_and(|d| d.iter().any(carries));
    let code = error.get("code").and_then(|c| c.as_u64());
    let worth = code.is_none_or(|c| c == 408 || c == 429 || (500..600).contains(&c));
    (!delta && worth).then(|| Error::Stream {
        code: code.map(|c| c.to_string()),
        message: text(error.get("message")).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_first_events_are_worth_another_try() {
        let worth = |s: &str| retryable(s.as_bytes()).is_some();
        assert!(worth(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        ));
        assert!(worth(
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow"}}"#
        ));
        assert!(worth(
            r#"{"type":"error","error":{"type":"api_error","message":"x"}}"#
        ));
        assert!(!worth(
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"x"}}"#
        ));
        assert!(worth(
            r#"{"id":"gen-1","choices":[],"error":{"code":502,"message":"Provider returned error"}}"#
        ));
        assert!(worth(r#"{"error":{"message":"overloaded"}}"#));
        assert!(!worth(r#"{"error":{"code":400,"message":"bad"}}"#));
        assert!(!worth(
            r#"{"choices":[{"delta":{"content":"Hi"}}],"error":{"code":502}}"#
        ));
        assert!(worth(
            r#"{"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":"error"}],"error":{"code":502}}"#
        ));
        assert!(!worth(r#"{"type":"message_start","message":{"id":"m"}}"#));
        assert!(!worth(
            r#"{"choices":[{"delta":{"content":"the word \"error\""}}]}"#
        ));
    }
}

//! Answers from a cassette: the recorded head, then the body whole or chunk by chunk, as fast
//! as possible or as long after the request as each part came; and the error answer for a
//! request no cassette holds.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};
use tokio::time::Instant;

use super::format::Interaction;
use super::Deck;
use crate::response::{check_header, refused, Body};

/// The status of the answer to a request no cassette holds: not one a client retries.
const MISS_STATUS: u16 = 404;

/// The recorded answer, its timing kept when `timing` is on (from now, the request's arrival).
pub(crate) async fn answer(interaction: Arc<Interaction>, timing: bool) -> Response<Body> {
    let start = Instant::now();
    let answered = &interaction.response;
    let Ok(status) = StatusCode::from_u16(answered.status) else {
        return refused(
            400,
            "",
            0,
            &format!(
                "the cassette's status {} is not an HTTP status",
                answered.status
            ),
        );
    };
    let mut builder = Response::builder().status(status);
    let mut skipped = Vec::new();
    for (name, value) in &answered.headers {
        // A header that cannot be sent again (a value the recording read with bytes outside
        // ASCII) is left out, and named, rather than the whole answer lost.
        match check_header(name, value) {
            Ok(()) => builder = builder.header(name.as_str(), value.as_str()),
            Err(_) => skipped.push(name.as_str()),
        }
    }
    if !skipped.is_empty() {
        let note = format!(
            "headers in the cassette that cannot be sent: {}",
            skipped.join(", ")
        );
        builder = builder.header("x-mock-validation", note);
    }
    // Times from the file, clamped to a day (a hand-edited one cannot overflow the clock).
    let at = move |ms: f64| {
        let ms = if ms.is_finite() {
            ms.clamp(0.0, 86_400_000.0)
        } else {
            0.0
        };
        start + Duration::from_micros((ms * 1e3) as u64)
    };
    let head_at = at(answered.head_ms);
    let body: Body = match &answered.chunks {
        None if !timing && answered.cut.is_none() => {
            let bytes = answered.body.as_ref().map(|b| b.wire()).unwrap_or_default();
            Full::new(bytes).map_err(|e| match e {}).boxed()
        }
        _ => {
            // Frame by frame: the chunks (or the whole body as one), each at its time, then the
            // end, or the cut the recording ended with.
            let whole = answered.body.as_ref().map(|b| (answered.end_ms, b.wire()));
            let parts: Vec<(f64, Bytes)> = match &answered.chunks {
                Some(chunks) => chunks.iter().map(|c| (c.at_ms, c.wire())).collect(),
                None => whole.into_iter().collect(),
            };
            let end = (answered.end_ms, answered.cut.clone());
            let frames = futures::stream::iter(parts)
                .then(move |(ms, bytes)| async move {
                    if timing {
                        tokio::time::sleep_until(at(ms)).await;
                    }
                    Some(Ok(Frame::data(bytes)))
                })
                .chain(futures::stream::once(async move {
                    if timing {
                        tokio::time::sleep_until(at(end.0)).await;
                    }
                    // An error from the body makes hyper cut the connection, as the upstream's was.
                    end.1.map(|why| Err(std::io::Error::other(why)))
                }))
                .filter_map(|x| async move { x });
            BodyExt::boxed(StreamBody::new(frames))
        }
    };
    if timing {
        // The head as late as it came.
        tokio::time::sleep_until(head_at).await;
    }
    builder
        .body(body)
        .unwrap_or_else(|e| refused(400, "", 0, &format!("the cassette's answer: {e}")))
}

/// The answer to a request no cassette holds (or whose cassette cannot be read): a 404 whose
/// error message, and `x-mock-cassette-miss` header, say which exchange is closest and how it
/// differs. The miss is kept for [`MockServer::cassette_misses`](crate::MockServer::cassette_misses).
pub(crate) fn miss(deck: &Deck, problem: String) -> Response<Body> {
    deck.misses.lock().expect("lock").push(problem.clone());
    let body = serde_json::json!({
        "error": {"message": problem, "type": "cassette_miss", "code": "cassette_miss"},
        "statusCode": MISS_STATUS,
    });
    let mut response = Response::new(
        Full::new(Bytes::from(body.to_string()))
            .map_err(|e| match e {})
            .boxed(),
    );
    *response.status_mut() = StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    let safe: String = problem
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if let Ok(v) = hyper::header::HeaderValue::from_str(&safe) {
        headers.insert("x-mock-cassette-miss", v);
    }
    response
}

//! The recording proxy: a request sent on to the upstream as it came, its answer passed back to
//! the client as it comes (a stream chunk by chunk) and written, filtered, to the cassette.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use tokio::time::Instant;

use super::filter::Secrets;
use super::format::{millis, Answered, Asked, Chunk, Interaction, Payload};
use super::{Deck, CASSETTE_HEADER};
use crate::recorded::Recorded;
use crate::response::{refused, Body};

/// Headers that belong to one connection (RFC 9110 section 7.6.1), or that the proxy sets
/// itself: neither sent on nor recorded.
const CONNECTION_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

fn sent_on(name: &str) -> bool {
    !CONNECTION_HEADERS.contains(&name) && name != "accept-encoding" && name != CASSETTE_HEADER
}

/// The HTTP client that reaches the upstream: rustls with ring (`record-https`), no redirects followed (the
/// client is told of them, as it would be), no overall timeout (streams are long).
pub(crate) fn client() -> std::io::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(std::io::Error::other)
}

/// Sends `request` upstream, answers the client with what comes back, and records the exchange
/// in cassette `name`.
pub(crate) async fn forward(
    deck: &Arc<Deck>,
    name: String,
    request: &Recorded,
    raw: Bytes,
) -> Response<Body> {
    let (Some(upstream), Some(http)) = (deck.setup.upstream.as_deref(), deck.http.as_ref()) else {
        return refused(500, &request.path, 0, "recording needs an upstream");
    };
    let Ok(method) = reqwest::Method::from_bytes(request.method.as_bytes()) else {
        return refused(400, &request.path, 0, "the method cannot be sent on");
    };
    let mut url = format!("{upstream}{}", request.path);
    if !request.query.is_empty() {
        url = format!("{url}?{}", request.query);
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in request.headers.iter().filter(|(n, _)| sent_on(n)) {
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let start = Instant::now();
    let answer = match http
        .request(method, &url)
        .headers(headers)
        .body(raw.clone())
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            let problem = format!("the upstream {upstream} could not be reached: {e}");
            return refused(502, &request.path, 0, &problem);
        }
    };
    let head_ms = millis(start.elapsed());

    // What the cassette keeps of the request, filtered; the secrets found are scrubbed from
    // the answer too.
    let filter = &deck.setup.filter;
    let mut secrets = Secrets::default();
    let kept: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(n, _)| sent_on(n))
        .cloned()
        .collect();
    let headers = filter.headers(&kept, &mut secrets);
    let asked = Asked {
        method: request.method.clone(),
        path: secrets.scrub(&request.path),
        headers,
        query: filter.query(&request.query, &mut secrets),
        body: Payload::from_wire(&filter.body(&raw, &mut secrets)),
    };
    let status = answer.status().as_u16();
    let answer_headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(n, _)| !CONNECTION_HEADERS.contains(&n.as_str()))
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut head = Response::builder().status(answer.status());
    for (n, v) in answer
        .headers()
        .iter()
        .filter(|(n, _)| !CONNECTION_HEADERS.contains(&n.as_str()))
    {
        head = head.header(n, v);
    }
    let recorded_headers = filter.headers(&answer_headers, &mut secrets);
    let answered = move |body, chunks, end_ms, cut| Answered {
        status,
        headers: recorded_headers.clone(),
        head_ms,
        body,
        chunks,
        end_ms,
        cut,
    };
    let streamed = answer_headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream"));

    if !streamed {
        let (bytes, cut) = match answer.bytes().await {
            Ok(b) => (b, None),
            Err(e) => (
                Bytes::new(),
                Some(format!("the upstream's body failed: {e}")),
            ),
        };
        let body = Payload::from_wire(&filter.body(&bytes, &mut secrets));
        let interaction = Interaction {
            request: asked,
            response: answered(body, None, millis(start.elapsed()), cut),
        };
        if let Err(problem) = deck.append(&name, interaction) {
            eprintln!("aimlapi-mock: cassette not written: {problem}");
        }
        return head
            .body(Full::new(bytes).map_err(|e| match e {}).boxed())
            .unwrap_or_else(|e| {
                refused(
                    502,
                    &request.path,
                    0,
                    &format!("the upstream's answer: {e}"),
                )
            });
    }

    // A stream: passed on chunk by chunk as it comes, recorded with each chunk's time, and
    // written when it ends (before the client's body ends, so a client that read to the end
    // finds the file written).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
    deck.in_flight.send_modify(|n| *n += 1);
    let deck = deck.clone();
    tokio::spawn(async move {
        let mut chunks = Vec::new();
        let mut cut = None;
        let mut pieces = answer.bytes_stream();
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(bytes) => {
                    let kept = deck.setup.filter.chunk(&bytes, &mut secrets);
                    chunks.push(Chunk::new(millis(start.elapsed()), &kept));
                    // A client that went away does not stop the recording.
                    let _ = tx.send(Ok(Frame::data(bytes))).await;
                }
                Err(e) => {
                    cut = Some(format!("the upstream's stream failed: {e}"));
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    break;
                }
            }
        }
        let interaction = Interaction {
            request: asked,
            response: answered(None, Some(chunks), millis(start.elapsed()), cut),
        };
        if let Err(problem) = deck.append(&name, interaction) {
            eprintln!("aimlapi-mock: cassette not written: {problem}");
        }
        deck.in_flight.send_modify(|n| *n -= 1);
        drop(tx);
    });
    let frames = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    head.body(BodyExt::boxed(StreamBody::new(frames)))
        .unwrap_or_else(|e| refused(502, "", 0, &format!("the upstream's answer: {e}")))
}

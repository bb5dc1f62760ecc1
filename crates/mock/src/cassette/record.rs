//! The recording proxy: a request sent on to the upstream as it came, its answer passed back to
//! the client as it comes (a stream chunk by chunk) and written, filtered, to the cassette.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use tokio::time::Instant;

use super::filter::Exchange;
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
    let streamed = answer_headers
        .iter()
        .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream"));
    // The exchange as it came; filtered whole once it has ended (`finish`).
    let exchange = Exchange {
        request_headers: request
            .headers
            .iter()
            .filter(|(n, _)| sent_on(n))
            .cloned()
            .collect(),
        path: request.path.clone(),
        query: request.query.clone(),
        request_body: raw.to_vec(),
        response_headers: answer_headers,
        ..Exchange::default()
    };
    let method = request.method.clone();
    let finish = move |deck: &Deck, exchange: Exchange| {
        let x = deck.setup.filter.exchange(exchange);
        let interaction = Interaction {
            request: Asked {
                method,
                path: x.path,
                query: x.query,
                headers: x.request_headers,
                body: Payload::from_wire(&x.request_body),
            },
            response: Answered {
                status,
                headers: x.response_headers,
                head_ms,
                body: if x.chunks.is_some() {
                    None
                } else {
                    Payload::from_wire(&x.response_body)
                },
                chunks: x
                    .chunks
                    .map(|chunks| chunks.iter().map(|(at, c)| Chunk::new(*at, c)).collect()),
                end_ms: millis(start.elapsed()),
                cut: x.cut,
            },
        };
        if let Err(problem) = deck.append(&name, interaction) {
            eprintln!("aimlapi-mock: cassette not written: {problem}");
        }
    };

    if !streamed {
        let (bytes, cut) = match answer.bytes().await {
            Ok(b) => (b, None),
            Err(e) => (
                Bytes::new(),
                Some(format!("the upstream's body failed: {}", e.without_url())),
            ),
        };
        let broken = cut.clone();
        finish(
            deck,
            Exchange {
                response_body: bytes.to_vec(),
                cut,
                ..exchange
            },
        );
        // A body the upstream cut is cut for the client too.
        let body = match broken {
            None => Full::new(bytes).map_err(|e| match e {}).boxed(),
            Some(why) => BodyExt::boxed(StreamBody::new(futures::stream::once(async move {
                Err::<Frame<Bytes>, _>(std::io::Error::other(why))
            }))),
        };
        return head.body(body).unwrap_or_else(|e| {
            refused(
                502,
                &request.path,
                0,
                &format!("the upstream's answer: {e}"),
            )
        });
    }

    // A stream: passed on chunk by chunk as it comes (the client's pace does not hold the
    // reading back, so the times are the upstream's), recorded with each chunk's time, and
    // handed to the cassette when it ends; `MockServer::settle` waits for that.
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<Result<Frame<Bytes>, std::io::Error>>();
    deck.in_flight.send_modify(|n| *n += 1);
    let deck = deck.clone();
    tokio::spawn(async move {
        let mut chunks = Vec::new();
        let mut cut = None;
        let mut pieces = answer.bytes_stream();
        while let Some(piece) = pieces.next().await {
            match piece {
                Ok(bytes) => {
                    chunks.push((millis(start.elapsed()), bytes.to_vec()));
                    // A client that went away does not stop the recording.
                    let _ = tx.send(Ok(Frame::data(bytes)));
                }
                Err(e) => {
                    let e = e.without_url();
                    cut = Some(format!("the upstream's stream failed: {e}"));
                    let _ = tx.send(Err(std::io::Error::other(e)));
                    break;
                }
            }
        }
        finish(
            &deck,
            Exchange {
                chunks: Some(chunks),
                cut,
                ..exchange
            },
        );
        deck.in_flight.send_modify(|n| *n -= 1);
        drop(tx);
    });
    let frames = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    head.body(BodyExt::boxed(StreamBody::new(frames)))
        .unwrap_or_else(|e| refused(502, "", 0, &format!("the upstream's answer: {e}")))
}

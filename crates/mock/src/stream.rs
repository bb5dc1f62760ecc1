//! How a streamed body goes out: its events as server-sent-event text with the scripted faults
//! applied, how it ends (normally, dropped, stalled), and how it is cut into HTTP chunks and
//! paced.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Response;
use serde_json::{json, Value};

use crate::bodies::legacy;
use crate::reply::{Fault, Format, MAX_KEEP_ALIVES};
use crate::response::{respond_with, Body};

/// How a stream is cut into HTTP chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chunking {
    /// One HTTP chunk per server-sent event.
    #[default]
    PerEvent,
    /// HTTP chunks of this many bytes, events cut wherever they fall.
    Bytes(usize),
}

/// What ends a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The body ends normally.
    End,
    /// The connection is dropped.
    Drop,
    /// Nothing more is sent; the connection stays open.
    Stall,
}

/// The stream's events as SSE text, faults applied, and how it ends.
pub(crate) fn events(chunks: Vec<Value>, format: Format, faults: &[Fault]) -> (Vec<Bytes>, Ending) {
    let data = |v: &Value| Bytes::from(format!("data: {v}\n\n"));
    let chunks = match format {
        Format::Current => chunks,
        Format::Legacy => legacy(chunks),
    };
    let models: Vec<Value> = chunks
        .iter()
        .map(|c| {
            c.get("model")
                .or(c.pointer("/event/model"))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    let frames = chunks.iter().map(data).collect();
    faulted(
        frames,
        faults,
        Bytes::from_static(b": OPENROUTER PROCESSING\n\n"),
        b"data: {\"id\": \"broken\", \"choices\": [\n\n",
        |i, code, message| {
            vec![
                data(&json!({
                    "id": "mock-error",
                    "object": "chat.completion.chunk",
                    "created": 1_770_000_000,
                    "model": models[i],
                    "error": {"code": code, "message": message},
                    "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
                })),
                Bytes::from_static(b"data: [DONE]\n\n"),
            ]
        },
    )
}

/// `frames` with `faults` applied: `keep_alive` frames first, then each frame, cut short by a
/// drop or a stall, preceded by `malformed`, or replaced by the frames `error` gives (the frame's
/// index, the code, the message) which end the stream. A drop or stall after more frames than
/// there are happens after the last one.
fn faulted(
    frames: Vec<Bytes>,
    faults: &[Fault],
    keep_alive: Bytes,
    malformed: &'static [u8],
    error: impl Fn(usize, i64, &str) -> Vec<Bytes>,
) -> (Vec<Bytes>, Ending) {
    let mut out = Vec::new();
    for f in faults {
        if let Fault::KeepAlive(n) = f {
            let n = (*n).min(MAX_KEEP_ALIVES);
            out.extend((0..n).map(|_| keep_alive.clone()));
        }
    }
    for (i, frame) in frames.into_iter().enumerate() {
        for f in faults {
            match f {
                Fault::DropAfter(n) if *n == i => return (out, Ending::Drop),
                Fault::StallAfter(n) if *n == i => return (out, Ending::Stall),
                Fault::MalformedAfter(n) if *n == i => out.push(Bytes::from_static(malformed)),
                Fault::ErrorChunkAfter {
                    after,
                    code,
                    message,
                } if *after == i => {
                    out.extend(error(i, *code, message));
                    return (out, Ending::End);
                }
                _ => {}
            }
        }
        out.push(frame);
    }
    for f in faults {
        match f {
            Fault::DropAfter(_) => return (out, Ending::Drop),
            Fault::StallAfter(_) => return (out, Ending::Stall),
            _ => {}
        }
    }
    (out, Ending::End)
}

/// The events as SSE text (`event:` and `data:` lines), faults applied: keep-alives are `ping`
/// events, an error chunk is an `error` event (`overloaded_error` for code 529, else
/// `api_error`) that ends the stream.
pub(crate) fn message_frames(
    events: Vec<(&'static str, Value)>,
    faults: &[Fault],
) -> (Vec<Bytes>, Ending) {
    let frame = |name: &str, v: &Value| Bytes::from(format!("event: {name}\ndata: {v}\n\n"));
    let frames = events.iter().map(|(name, v)| frame(name, v)).collect();
    faulted(
        frames,
        faults,
        frame("ping", &json!({"type": "ping"})),
        b"event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": [\n\n",
        |_, code, message| {
            let kind = if code == 529 {
                "overloaded_error"
            } else {
                "api_error"
            };
            vec![frame(
                "error",
                &json!({"type": "error", "error": {"type": kind, "message": message}}),
            )]
        },
    )
}

/// The events as a `text/event-stream` response with these headers: cut into HTTP chunks as
/// `chunking` says, each after a `pace` pause, then ended as `ending` says.
pub(crate) fn stream_response(
    events: Vec<Bytes>,
    ending: Ending,
    chunking: Chunking,
    pace: Duration,
    headers: &[(String, String)],
) -> Response<Body> {
    let frames: Vec<Bytes> = match chunking {
        Chunking::PerEvent => events,
        Chunking::Bytes(n) => {
            let all: Vec<u8> = events.concat();
            all.chunks(n.max(1)).map(Bytes::copy_from_slice).collect()
        }
    };
    let body = futures::stream::iter(frames)
        .then(move |frame| async move {
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            Ok::<_, std::io::Error>(Frame::data(frame))
        })
        .chain(
            futures::stream::once(async move {
                match ending {
                    Ending::End => None,
                    // An error from the body makes hyper close the connection mid-body. A pause
                    // first lets hyper flush what was sent before (it writes out while the body is
                    // pending), so the client sees the chunks, then the broken connection.
                    Ending::Drop => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Some(Err(std::io::Error::other("connection dropped by the mock")))
                    }
                    Ending::Stall => futures::future::pending().await,
                }
            })
            .filter_map(|x| async move { x }),
        );
    let mut headers = headers.to_vec();
    headers.push(("cache-control".into(), "no-cache".into()));
    respond_with(
        200,
        "text/event-stream",
        &headers,
        BodyExt::boxed(StreamBody::new(body)),
    )
}

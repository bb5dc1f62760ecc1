//! Outages the server plays for a while, as a real gateway has them: an overload (529, or
//! `overloaded_error` as a stream's first event) and maintenance (the AI/ML API's 500).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::Response;
use serde_json::json;

use crate::response::{full, Body};

/// A window in which every model call (chat completions, Messages) fails; the catalogue, the
/// account and batches answer as usual. Started with the server
/// ([`MockBuilder::outage`](crate::MockBuilder::outage)) or at any time
/// ([`MockServer::outage`](crate::MockServer::outage)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outage {
    kind: Kind,
    length: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Overloaded,
    OverloadedInStream,
    Maintenance,
}

impl Outage {
    /// Anthropic's overload for `length`: status 529 with its `overloaded_error` body.
    pub fn overloaded(length: Duration) -> Self {
        Outage {
            kind: Kind::Overloaded,
            length,
        }
    }

    /// An overload that a stream reports after its start, for `length`: a stream answers 200
    /// and then its first event is the error (an `error` event of type `overloaded_error` on
    /// the Messages endpoint, an error chunk on the chat endpoint); a call that is not a stream
    /// gets the 529.
    pub fn overloaded_in_stream(length: Duration) -> Self {
        Outage {
            kind: Kind::OverloadedInStream,
            length,
        }
    }

    /// The AI/ML API's maintenance for `length`: status 500 with its message ("The model is
    /// under maintenance, please contact us at help@aimlapi.com.") in its error body.
    pub fn maintenance(length: Duration) -> Self {
        Outage {
            kind: Kind::Maintenance,
            length,
        }
    }
}

/// The outage being played, if any: when it ends.
#[derive(Debug, Default)]
pub(crate) struct Outages(Mutex<Option<(Instant, Kind)>>);

impl Outages {
    pub(crate) fn start(&self, outage: &Outage) {
        let ends = Instant::now() + outage.length;
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((ends, outage.kind));
    }

    pub(crate) fn end(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The failing answer to a model call to `path` (the request's `body`), while an outage
    /// lasts.
    pub(crate) fn answer(
        &self,
        path: &str,
        id: u64,
        body: &serde_json::Value,
    ) -> Option<Response<Body>> {
        let kind = {
            let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match *now {
                Some((ends, kind)) if Instant::now() < ends => kind,
                Some(_) => {
                    *now = None;
                    return None;
                }
                None => return None,
            }
        };
        let json = "application/json";
        let overloaded = json!({
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"}
        });
        let streams = || body.get("stream") == Some(&serde_json::Value::Bool(true));
        Some(match kind {
            Kind::OverloadedInStream if streams() => {
                let event = if path.ends_with("/messages") {
                    format!("event: error\ndata: {overloaded}\n\n")
                } else {
                    let chunk = json!({
                        "id": format!("mock-{id:08x}"),
                        "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}],
                        "error": {"code": 529, "message": "Overloaded"}
                    });
                    format!("data: {chunk}\n\n")
                };
                full(200, "text/event-stream", event, &[])
            }
            Kind::Overloaded | Kind::OverloadedInStream => {
                full(529, json, overloaded.to_string(), &[])
            }
            Kind::Maintenance => full(
                500,
                json,
                json!({
                    "message": "The model is under maintenance, please contact us at help@aimlapi.com.",
                    "path": path,
                    "requestId": format!("mock-{id:08x}"),
                    "statusCode": 500,
                    "timestamp": "2026-01-01T00:00:00.000Z",
                })
                .to_string(),
                &[],
            ),
        })
    }
}

/// A limit of so many model calls a window, windows counted from the server's start: each
/// answer carries the OpenAI-style `x-ratelimit-*-requests` headers; a call over the limit gets
/// 429 with them and `retry-after-ms`.
#[derive(Debug)]
pub(crate) struct RateLimit {
    requests: u64,
    per: Duration,
    started: Instant,
    /// The window and the calls counted in it.
    window: Mutex<(u128, u64)>,
    /// The 429s sent.
    pub(crate) refused: std::sync::atomic::AtomicU64,
}

impl RateLimit {
    pub(crate) fn new(requests: u64, per: Duration) -> Self {
        RateLimit {
            requests,
            per: per.max(Duration::from_millis(1)),
            started: Instant::now(),
            window: Mutex::new((0, 0)),
            refused: Default::default(),
        }
    }

    /// Counts a call: the headers its answer carries, and whether it is over the limit.
    pub(crate) fn count(&self) -> (Vec<(String, String)>, bool) {
        let elapsed = self.started.elapsed();
        let at = elapsed.as_nanos() / self.per.as_nanos();
        let used = {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if w.0 != at {
                *w = (at, 0);
            }
            w.1 += 1;
            w.1
        };
        let ends = self.per.as_nanos() * (at + 1) - elapsed.as_nanos();
        let reset_ms = (ends as f64 / 1e6).ceil() as u64;
        let over = used > self.requests;
        let mut headers = vec![
            (
                "x-ratelimit-limit-requests".to_string(),
                self.requests.to_string(),
            ),
            (
                "x-ratelimit-remaining-requests".to_string(),
                self.requests.saturating_sub(used).to_string(),
            ),
            (
                "x-ratelimit-reset-requests".to_string(),
                format!("{reset_ms}ms"),
            ),
        ];
        if over {
            self.refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            headers.push(("retry-after-ms".to_string(), reset_ms.to_string()));
        }
        (headers, over)
    }
}

//! Message batches as the mock keeps them: each batch's requests with the outcome scripted for
//! each when it was made, a lifecycle in (scaled) time, and the answers the vendor's routes give
//! at each point of it, in the answer form the server is set up with ([`BatchForm`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::clock::{later, timestamp};

use serde_json::{json, Value};

use crate::bodies;
use crate::reply::{Kind, Reply, Script};

/// How the status route writes its answer (every form the vendor's documents show or imply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchForm {
    /// A JSON array of the elements, as the vendor's documented answers are.
    #[default]
    Array,
    /// One element per line (JSON lines), as the vendor's example reads first.
    Lines,
    /// Each element alone, one after another with nothing between: a single object when there
    /// is one (a status, a batch object, one result).
    Bare,
}

/// What one request of a batch ends as ([`MockServer::script_batch`](crate::MockServer::script_batch)).
#[derive(Clone, Debug, PartialEq, Eq)]
// A test's script of a few outcomes: a reply held inline reads better than a box, and the size
// of the bare variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum BatchOutcome {
    /// Answered as `/v1/messages` would answer it: a scripted or documented reply is a
    /// `succeeded` result, a [`Reply::status`] an `errored` one with the error type of its status.
    Reply(Reply),
    /// `expired`.
    Expired,
    /// `canceled`.
    Canceled,
}

/// One request as it will end.
struct Request {
    custom_id: String,
    model: String,
    outcome: BatchOutcome,
}

/// A batch the mock made.
struct MockBatch {
    id: String,
    made: Instant,
    made_at: SystemTime,
    requests: Vec<Request>,
    canceled: Option<(Instant, SystemTime)>,
}

/// Where a batch is at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    Canceling,
    Ended,
    /// Its expiry came first: every request not answered is `expired`.
    Expired,
}

/// Every batch, and the outcomes scripted for requests to come.
#[derive(Default)]
pub(crate) struct Batches {
    batches: Mutex<HashMap<String, MockBatch>>,
    scripted: Mutex<HashMap<String, BatchOutcome>>,
    /// Replies for the next requests to the status route, before the batch is looked at.
    polls: Mutex<std::collections::VecDeque<Reply>>,
}

/// The error type Anthropic gives a status.
fn error_type(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

impl Batches {
    /// Queues a reply for the next request to the status route.
    pub(crate) fn push_poll(&self, reply: Reply) {
        self.polls.lock().expect("lock").push_back(reply);
    }

    /// The reply queued for this request to the status route, if any.
    pub(crate) fn next_poll(&self) -> Option<Reply> {
        self.polls.lock().expect("lock").pop_front()
    }

    /// Scripts how the request with this `custom_id` ends, in the next batch that has one.
    pub(crate) fn script(&self, custom_id: &str, outcome: BatchOutcome) {
        self.scripted
            .lock()
            .expect("lock")
            .insert(custom_id.to_string(), outcome);
    }

    /// Makes a batch of `body`'s requests; `next_reply` gives the reply of a request with no
    /// outcome scripted (the queue, as for `/v1/messages`). The batch object.
    pub(crate) fn create(
        &self,
        id: String,
        body: &Value,
        mut next_reply: impl FnMut() -> Reply,
        timing: &Timing,
    ) -> Value {
        let mut scripted = self.scripted.lock().expect("lock");
        let requests = body["requests"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let custom_id = r["custom_id"].as_str().unwrap_or_default().to_string();
                let outcome = scripted
                    .remove(&custom_id)
                    .unwrap_or_else(|| BatchOutcome::Reply(next_reply()));
                Request {
                    model: r["params"]["model"].as_str().unwrap_or_default().into(),
                    custom_id,
                    outcome,
                }
            })
            .collect();
        drop(scripted);
        let batch = MockBatch {
            id: id.clone(),
            made: Instant::now(),
            made_at: SystemTime::now(),
            requests,
            canceled: None,
        };
        let object = batch.object(timing);
        self.batches.lock().expect("lock").insert(id, batch);
        object
    }

    /// `GET /v1/batches?batch_id=`: a status while it runs, the batch object while it cancels,
    /// the results once it has ended; `None` for an unknown id.
    pub(crate) fn status(&self, id: &str, timing: &Timing) -> Option<Vec<Value>> {
        let batches = self.batches.lock().expect("lock");
        let batch = batches.get(id)?;
        Some(match batch.phase(timing) {
            Phase::Running if timing.progress => vec![batch.object(timing)],
            Phase::Running => vec![json!({"id": batch.id, "status": "generating"})],
            Phase::Canceling => {
                let mut object = batch.object(timing);
                object["status"] = json!("cancelled");
                vec![object]
            }
            phase => batch.results(phase),
        })
    }

    /// `POST /v1/batches/cancel/{id}`: the batch object, canceling; the wrapped upstream 400
    /// once it has ended; `None` for an unknown id.
    pub(crate) fn cancel(&self, id: &str, timing: &Timing) -> Option<Result<Value, String>> {
        let mut batches = self.batches.lock().expect("lock");
        let batch = batches.get_mut(id)?;
        if matches!(batch.phase(timing), Phase::Ended | Phase::Expired) {
            let upstream = json!({
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": format!("Batch {id} cannot be canceled because it has already finished processing."),
                },
                "request_id": format!("req_mock{}", id.len()),
            });
            return Some(Err(format!("400 {upstream}")));
        }
        batch
            .canceled
            .get_or_insert((Instant::now(), SystemTime::now()));
        Some(Ok(batch.object(timing)))
    }
}

/// How long batches take: the end after `delay` (a cancel ends one after `delay / 4`), the
/// expiry after `expiry`; and what a running batch's status says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    pub(crate) delay: Duration,
    pub(crate) expiry: Duration,
    /// Whether a running batch's status is its batch object (with counts that move), not the
    /// gateway's `generating`.
    pub(crate) progress: bool,
}

impl MockBatch {
    fn phase(&self, timing: &Timing) -> Phase {
        let age = self.made.elapsed();
        if let Some((at, _)) = self.canceled {
            let ends = (at - self.made) + timing.delay / 4;
            return match age >= ends.min(timing.delay) {
                true => Phase::Ended,
                false => Phase::Canceling,
            };
        }
        if timing.expiry < timing.delay && age >= timing.expiry {
            return Phase::Expired;
        }
        if age >= timing.delay {
            Phase::Ended
        } else {
            Phase::Running
        }
    }

    /// The outcome of each request once the batch is in `phase` (ended or expired).
    fn outcome_kind(&self, request: &Request, phase: Phase) -> &'static str {
        // A cancel is taken only before the end, when no request has its answer yet.
        let canceled_early = self.canceled.is_some();
        match (&request.outcome, phase) {
            (BatchOutcome::Expired, _) | (_, Phase::Expired) => "expired",
            (BatchOutcome::Canceled, _) => "canceled",
            _ if canceled_early => "canceled",
            (BatchOutcome::Reply(r), _) if matches!(r.kind, Kind::Status { .. }) => "errored",
            _ => "succeeded",
        }
    }

    /// How many requests have their answer: all once ended; while running, the requests in
    /// order, spread evenly over the delay.
    fn answered(&self, phase: Phase, timing: &Timing) -> usize {
        let n = self.requests.len();
        match phase {
            Phase::Running => {
                let share =
                    self.made.elapsed().as_secs_f64() / timing.delay.as_secs_f64().max(1e-9);
                ((share * n as f64) as usize).min(n)
            }
            Phase::Canceling => 0,
            Phase::Ended | Phase::Expired => n,
        }
    }

    fn counts(&self, timing: &Timing) -> Value {
        let phase = self.phase(timing);
        let answered = self.answered(phase, timing);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (i, r) in self.requests.iter().enumerate() {
            let kind = match phase {
                Phase::Running if i < answered => self.outcome_kind(r, Phase::Ended),
                Phase::Running | Phase::Canceling => "processing",
                _ => self.outcome_kind(r, phase),
            };
            *counts.entry(kind).or_default() += 1;
        }
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        json!({
            "processing": n("processing"),
            "succeeded": n("succeeded"),
            "errored": n("errored"),
            "canceled": n("canceled"),
            "expired": n("expired"),
        })
    }

    fn object(&self, timing: &Timing) -> Value {
        let phase = self.phase(timing);
        let status = match phase {
            Phase::Running => "in_progress",
            Phase::Canceling => "canceling",
            Phase::Ended | Phase::Expired => "ended",
        };
        let ended = matches!(phase, Phase::Ended | Phase::Expired)
            .then(|| timestamp(later(self.made_at, timing.delay.min(timing.expiry))));
        json!({
            "id": self.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": self.counts(timing),
            "ended_at": ended,
            "created_at": timestamp(self.made_at),
            "expires_at": timestamp(later(self.made_at, timing.expiry)),
            "archived_at": null,
            "cancel_initiated_at": self.canceled.map(|(_, at)| timestamp(at)),
            "results_url": null,
        })
    }

    /// Every request's result, in no particular order, as the API gives them: the last
    /// request's first, then the others in order.
    fn results(&self, phase: Phase) -> Vec<Value> {
        let mut results: Vec<Value> = self
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let result = match (self.outcome_kind(r, phase), &r.outcome) {
                    ("succeeded", BatchOutcome::Reply(reply)) => {
                        let script = match &reply.kind {
                            Kind::Scripted(s) => s.clone(),
                            _ => Script {
                                text: Some("Hello! How can I help you today?".into()),
                                usage: (12, 10),
                                ..Script::default()
                            },
                        };
                        let id = format!("msg_batch{i:05}{}", self.id.len());
                        let mut message = bodies::scripted_message(&script, &r.model, &id);
                        message["usage"]["service_tier"] = json!("batch");
                        json!({"type": "succeeded", "message": message})
                    }
                    ("errored", BatchOutcome::Reply(reply)) => {
                        let (status, body) = match &reply.kind {
                            Kind::Status { status, body } => (*status, body.clone()),
                            _ => (500, None),
                        };
                        let message = body.unwrap_or_else(|| format!("scripted status {status}"));
                        json!({"type": "errored", "error": {"type": "error", "error": {
                            "type": error_type(status), "message": message}}})
                    }
                    (kind, _) => json!({"type": kind}),
                };
                json!({"custom_id": r.custom_id, "result": result})
            })
            .collect();
        results.rotate_right(1);
        results
    }
}

/// `elements` written in `form`.
pub(crate) fn write(elements: &[Value], form: BatchForm) -> String {
    let texts = elements.iter().map(Value::to_string);
    match form {
        BatchForm::Array => format!("[{}]", texts.collect::<Vec<_>>().join(",\n")),
        BatchForm::Lines => texts.map(|t| t + "\n").collect(),
        BatchForm::Bare => texts.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_writes_the_elements() {
        let e = [json!({"a": 1}), json!({"b": 2})];
        assert_eq!(write(&e, BatchForm::Array), "[{\"a\":1},\n{\"b\":2}]");
        assert_eq!(write(&e, BatchForm::Lines), "{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(write(&e[..1], BatchForm::Bare), "{\"a\":1}");
    }
}

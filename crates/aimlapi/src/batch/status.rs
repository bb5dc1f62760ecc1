//! [`BatchStatus`]: where a batch stands, read from whichever answer the status route gave, and
//! the sum of several (a submission split into batches).

use aimlapi_types as types;

/// Where a batch is in its lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchState {
    /// Requests are being answered (`in_progress`, or the gateway's `generating`).
    InProgress,
    /// A cancel was asked for; requests not answered yet will end `canceled`.
    Canceling,
    /// Every request has a result: the results can be read.
    Ended,
    /// A state this crate does not know, as the server wrote it.
    Other(String),
}

impl BatchState {
    /// The state a batch object's `processing_status` (or a status's `status`) names.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "in_progress" | "generating" => BatchState::InProgress,
            "canceling" | "cancelling" => BatchState::Canceling,
            "ended" => BatchState::Ended,
            other => BatchState::Other(other.to_string()),
        }
    }

    /// Whether the batch will change no more.
    pub fn is_ended(&self) -> bool {
        *self == BatchState::Ended
    }
}

/// How many of a batch's requests are in each state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestCounts {
    /// Not answered yet.
    pub processing: u64,
    /// Answered.
    pub succeeded: u64,
    /// Failed.
    pub errored: u64,
    /// Canceled before an answer.
    pub canceled: u64,
    /// Reached the batch's expiry before an answer.
    pub expired: u64,
}

impl RequestCounts {
    /// All the requests counted.
    pub fn total(&self) -> u64 {
        // Saturating: the counts come from a server.
        [self.succeeded, self.errored, self.canceled, self.expired]
            .into_iter()
            .fold(self.processing, u64::saturating_add)
    }

    /// The requests that have a result.
    pub fn done(&self) -> u64 {
        self.total().saturating_sub(self.processing)
    }

    pub(crate) fn add(&mut self, other: &RequestCounts) {
        self.processing = self.processing.saturating_add(other.processing);
        self.succeeded = self.succeeded.saturating_add(other.succeeded);
        self.errored = self.errored.saturating_add(other.errored);
        self.canceled = self.canceled.saturating_add(other.canceled);
        self.expired = self.expired.saturating_add(other.expired);
    }
}

impl From<&types::BatchRequestCounts> for RequestCounts {
    fn from(c: &types::BatchRequestCounts) -> Self {
        let n = |v: Option<i64>| v.map_or(0, |v| v.max(0) as u64);
        RequestCounts {
            processing: n(c.processing),
            succeeded: n(c.succeeded),
            errored: n(c.errored),
            canceled: n(c.canceled),
            expired: n(c.expired),
        }
    }
}

/// Where a batch (or every batch of a split submission) stands.
#[derive(Clone, Debug)]
pub struct BatchStatus {
    /// The state: of the one batch, or of all of them (ended when all have, in progress while
    /// any is, canceling while any is and none is in progress).
    pub state: BatchState,
    /// The request counts, when the answer gave them: a batch object gives them; a
    /// `generating` status gives none (`None`); ended batches' are counted from their results.
    pub counts: Option<RequestCounts>,
    /// The requests submitted, when this handle knows (it was made by a submit here).
    pub requests: Option<u64>,
    /// The batch object, when the last answer was one (one batch only).
    pub batch: Option<types::MessageBatch>,
}

impl BatchStatus {
    /// A batch in `state`, with nothing else known (no counts, no batch object).
    pub(crate) fn in_state(state: BatchState) -> BatchStatus {
        BatchStatus {
            state,
            counts: None,
            requests: None,
            batch: None,
        }
    }

    /// The status a batch object says: its `processing_status` and request counts.
    pub(crate) fn of_batch(batch: types::MessageBatch) -> BatchStatus {
        BatchStatus {
            state: BatchState::parse(&batch.processing_status),
            counts: Some(RequestCounts::from(&batch.request_counts)),
            requests: None,
            batch: Some(batch),
        }
    }

    /// The share of requests with a result, from 0 to 1, when the counts or the submitted
    /// number say.
    pub fn progress(&self) -> Option<f64> {
        if self.state.is_ended() {
            return Some(1.0);
        }
        let counts = self.counts?;
        let total = self.requests.unwrap_or(counts.total());
        (total > 0).then(|| counts.done() as f64 / total as f64)
    }

    /// The status of all of `parts` (the batches of one submission).
    pub(crate) fn merged(parts: Vec<BatchStatus>) -> BatchStatus {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        let any = |s: &BatchState| parts.iter().any(|p| p.state == *s);
        let state = if parts.iter().all(|p| p.state.is_ended()) {
            BatchState::Ended
        } else if let Some(other) = parts.iter().find_map(|p| match &p.state {
            BatchState::Other(o) => Some(o.clone()),
            _ => None,
        }) {
            BatchState::Other(other)
        } else if any(&BatchState::InProgress) {
            BatchState::InProgress
        } else {
            BatchState::Canceling
        };
        let counts = parts
            .iter()
            .try_fold(RequestCounts::default(), |mut sum, p| {
                sum.add(&p.counts?);
                Some(sum)
            });
        // Saturating: a saved handle's counts may be anything.
        let requests = parts
            .iter()
            .try_fold(0u64, |sum, p| Some(sum.saturating_add(p.requests?)));
        BatchStatus {
            state,
            counts,
            requests,
            batch: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(state: BatchState, counts: Option<RequestCounts>) -> BatchStatus {
        BatchStatus {
            state,
            counts,
            requests: Some(2),
            batch: None,
        }
    }

    #[test]
    fn split_batches_add_up() {
        let one = RequestCounts {
            processing: 1,
            succeeded: 1,
            ..Default::default()
        };
        let two = RequestCounts {
            succeeded: 1,
            expired: 1,
            ..Default::default()
        };
        let s = BatchStatus::merged(vec![
            part(BatchState::InProgress, Some(one)),
            part(BatchState::Ended, Some(two)),
        ]);
        assert_eq!(s.state, BatchState::InProgress);
        assert_eq!(s.counts.unwrap().succeeded, 2);
        assert_eq!(s.requests, Some(4));
        assert_eq!(s.progress(), Some(0.75));
        let s = BatchStatus::merged(vec![
            part(BatchState::Ended, Some(two)),
            part(BatchState::Ended, Some(two)),
        ]);
        assert_eq!(
            (s.state.clone(), s.progress()),
            (BatchState::Ended, Some(1.0))
        );
        let s = BatchStatus::merged(vec![
            part(BatchState::Canceling, None),
            part(BatchState::Ended, Some(two)),
        ]);
        assert_eq!((s.state, s.counts), (BatchState::Canceling, None));
    }

    #[test]
    fn counts_a_server_sends_never_overflow() {
        let huge = RequestCounts {
            processing: u64::MAX,
            succeeded: u64::MAX,
            ..Default::default()
        };
        assert_eq!((huge.total(), huge.done()), (u64::MAX, 0));
        let mut sum = huge;
        sum.add(&huge);
        assert_eq!(sum.succeeded, u64::MAX);
    }
}

//! The one account the mock keeps: every chat and Messages call it answers lands in it, as the
//! vendor's does. The request log has a row at once (a failed call at cost 0); the ledger's
//! charge, the usage figures and the balance move a configurable moment after the answer
//! ([`MockBuilder::charge_delay`](crate::MockBuilder::charge_delay)), as the vendor's charges
//! land after the response. Bounded: the oldest calls go first past [`ACCOUNT_LIMIT`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// How many calls the account keeps; the oldest go first.
pub const ACCOUNT_LIMIT: usize = 10_000;

/// One call the mock answered (or refused with a status).
#[derive(Clone, Debug)]
pub(crate) struct Call {
    /// Its place in the account: later calls have larger numbers.
    pub(crate) seq: u64,
    /// When it was answered.
    pub(crate) at: SystemTime,
    /// The model it named.
    pub(crate) model: String,
    /// Whether it was answered (a 2xx); failed calls are in the log at cost 0, never charged.
    pub(crate) succeeded: bool,
    /// What it cost.
    pub(crate) usd: f64,
    /// The same in credits.
    pub(crate) credits: u64,
    /// Tokens in.
    pub(crate) input: u64,
    /// Tokens out.
    pub(crate) output: u64,
    /// The `x-inference-id` it was answered with: the ledger's `reference_id`.
    pub(crate) inference_id: String,
    /// The `X-Client-Request-Id` it carried, if any.
    pub(crate) client_request_id: Option<String>,
    /// The prefix of the key it was made with.
    pub(crate) key_prefix: String,
}

/// The account's calls, the log route's recent reads (for its rate limit) and the scripted
/// metrics.
#[derive(Default)]
pub(crate) struct Account {
    calls: Mutex<VecDeque<Call>>,
    next: Mutex<u64>,
    log_reads: Mutex<VecDeque<Instant>>,
    metrics: Mutex<Option<Value>>,
    /// The keys made through the key routes, as they answer them (no secrets).
    keys: Mutex<Vec<Value>>,
}

impl Account {
    /// Adds `call`, numbered after every call before it.
    pub(crate) fn record(&self, mut call: Call) {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *next += 1;
        call.seq = *next;
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        while calls.len() >= ACCOUNT_LIMIT {
            calls.pop_front();
        }
        calls.push_back(call);
    }

    /// Every call kept, newest first.
    pub(crate) fn newest_first(&self) -> Vec<Call> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.iter().rev().cloned().collect()
    }

    /// Counts a read of the log route: false when `limit` reads were made in the last `per`
    /// already (the read is refused and not counted), with how long until one more is allowed.
    pub(crate) fn log_read(&self, limit: usize, per: Duration) -> Result<(), Duration> {
        let now = Instant::now();
        let mut reads = self.log_reads.lock().unwrap_or_else(|e| e.into_inner());
        while reads
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= per)
        {
            reads.pop_front();
        }
        if reads.len() >= limit {
            let oldest = reads.front().copied().unwrap_or(now);
            return Err(per.saturating_sub(now.saturating_duration_since(oldest)));
        }
        reads.push_back(now);
        Ok(())
    }

    /// `f` over the keys made so far (oldest first), under one lock.
    pub(crate) fn with_keys<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
        f(&mut self.keys.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Sets what `GET /models/metrics` answers (`None`: the documented example).
    pub(crate) fn set_metrics(&self, report: Option<Value>) {
        *self.metrics.lock().unwrap_or_else(|e| e.into_inner()) = report;
    }

    /// What `GET /models/metrics` answers.
    pub(crate) fn metrics(&self) -> Option<Value> {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The prefix the vendor shows for a key: its first eight characters.
pub(crate) fn key_prefix(key: &str) -> String {
    key.chars().take(8).collect()
}

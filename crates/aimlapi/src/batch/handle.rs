//! [`Batch`]: a submitted batch (or the batches of one split submission): its status, a wait
//! for its end, a cancel, its results as a stream. [`BatchHandle`] is what to keep to pick it up
//! again in another process.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use aimlapi_types as types;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use reqwest::header::HeaderMap;

use super::read::{Answer, Element};
use super::status::{BatchState, BatchStatus, RequestCounts};
use super::wait::Wait;
use crate::completion::Completion;
use crate::error::Error;
use crate::http::meta::ResponseMeta;
use crate::model::{Model, ModelFacts};
use crate::transport::Transport;

/// What identifies a submitted batch, to keep (it is `Serialize` and `Deserialize`) and pick
/// up again with [`Client::resume_batch`](crate::Client::resume_batch), in this process or
/// another: the batch ids (more than one when [`submit_all`](super::BatchBuilder::submit_all)
/// split the submission) and how many requests each holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchHandle {
    /// The batches' ids, in submission order.
    pub ids: Vec<String>,
    /// The requests each batch holds, when known (in the order of `ids`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<u64>,
}

impl BatchHandle {
    /// The handle of a batch made elsewhere, by its id.
    pub fn from_id(id: impl Into<String>) -> Self {
        BatchHandle {
            ids: vec![id.into()],
            requests: Vec::new(),
        }
    }
}

/// Why one request of a batch has no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The request failed (`errored`): the error's type (`invalid_request_error`,
    /// `overloaded_error`, ...) and message.
    #[error("the request failed: {error_type}: {message}")]
    Errored {
        /// The error's type.
        error_type: String,
        /// What went wrong.
        message: String,
    },
    /// A cancel came before the request was answered (`canceled`).
    #[error("the batch was canceled before the request was answered")]
    Canceled,
    /// The batch's expiry came before the request was answered (`expired`).
    #[error("the batch expired before the request was answered")]
    Expired,
    /// A result of another type (or a `succeeded` one without its message), as it came.
    #[error("a result of type `{kind}`")]
    Other {
        /// The result's `type`.
        kind: String,
        /// The whole result.
        result: serde_json::Value,
    },
}

/// One request's result: its `custom_id`, and its answer or why there is none.
pub type BatchItem = (
    String,
    Result<Completion<types::MessageResponse>, BatchError>,
);

/// A submitted batch: one, or the batches of a split submission, watched as one.
#[derive(Clone, Debug)]
pub struct Batch {
    transport: Transport,
    handle: BatchHandle,
}

impl Batch {
    pub(crate) fn new(transport: Transport, handle: BatchHandle) -> Self {
        Batch { transport, handle }
    }

    /// What to keep to pick the batch up again ([`Client::resume_batch`](crate::Client::resume_batch)).
    pub fn handle(&self) -> &BatchHandle {
        &self.handle
    }

    /// The batch ids.
    pub fn ids(&self) -> &[String] {
        &self.handle.ids
    }

    fn url(&self) -> String {
        format!("{}/v1/batches", self.transport.base_url())
    }

    /// Where the batch stands. Once a batch has ended, the status route answers with its
    /// results: reading stops at the first (the state is known then), so an ended batch's
    /// counts are those of a batch object the gateway sent, else `None`. The whole answer is
    /// read within the request timeout ([`Timeouts::request`](crate::Timeouts::request)).
    pub async fn status(&self) -> Result<BatchStatus, Error> {
        let mut parts = Vec::with_capacity(self.handle.ids.len());
        for (i, id) in self.handle.ids.iter().enumerate() {
            let mut part = self.one_status(id).await?;
            part.requests = self.handle.requests.get(i).copied();
            parts.push(part);
        }
        Ok(BatchStatus::merged(parts))
    }

    /// An ended batch's request counts, from its results, read through (one at a time, none
    /// kept) as [`results`](Self::results) reads them, each within its time and size bounds:
    /// what [`status`](Self::status) no longer counts, since it may mean reading hundreds of MB.
    /// Before the batch has ended, the error [`results`](Self::results) gives.
    pub async fn counts(&self) -> Result<RequestCounts, Error> {
        let mut counts = RequestCounts::default();
        let mut results = self.results();
        while let Some(item) = results.next().await {
            let (_, answer) = item?;
            let n = match answer {
                Ok(_) => &mut counts.succeeded,
                Err(BatchError::Canceled) => &mut counts.canceled,
                Err(BatchError::Expired) => &mut counts.expired,
                Err(_) => &mut counts.errored,
            };
            *n = n.saturating_add(1);
        }
        Ok(counts)
    }

    /// One batch's status, its answer read within the request timeout.
    async fn one_status(&self, id: &str) -> Result<BatchStatus, Error> {
        let limit = self.transport.request_timeout();
        match tokio::time::timeout(limit, self.read_status(id)).await {
            Ok(status) => status,
            Err(_) => Err(Error::Timeout {
                after: limit,
                waiting_for: "the batch's status",
            }),
        }
    }

    async fn read_status(&self, id: &str) -> Result<BatchStatus, Error> {
        let mut answer = self.open(id).await?;
        let mut status: Option<BatchStatus> = None;
        while let Some(element) = answer.next().await {
            match element? {
                Element::Result(_) => {
                    // Results mean the batch has ended, whatever else the answer held; the rest
                    // (perhaps hundreds of MB) is for `results()`.
                    let mut ended = status.unwrap_or(BatchStatus::in_state(BatchState::Ended));
                    ended.state = BatchState::Ended;
                    return Ok(ended);
                }
                Element::Batch(batch) => status = Some(BatchStatus::of_batch(*batch)),
                Element::Status(s) => {
                    let state = BatchState::parse(&s.status);
                    match &mut status {
                        // A status beside a batch object says the state; the counts stay.
                        Some(known) => known.state = state,
                        None => status = Some(BatchStatus::in_state(state)),
                    }
                }
            }
        }
        status.ok_or_else(|| Error::Decode {
            message: format!("batch {id}: an answer with no status, batch object or result"),
            body: String::new(),
        })
    }

    /// `GET /v1/batches?batch_id=id`, read as it arrives.
    async fn open(&self, id: &str) -> Result<Answer, Error> {
        let body = self
            .transport
            .get_stream(&self.url(), &[("batch_id", id)], "batch_status")
            .await?;
        Ok(Answer::new(
            body,
            self.transport.max_body(),
            self.transport.request_timeout(),
        ))
    }

    /// Asks for every batch of this handle to stop: requests not answered yet end `canceled`.
    /// The status after it (`Canceling`). A batch that has ended already is the `400` the API
    /// sends ([`ErrorKind::BadRequest`](crate::ErrorKind::BadRequest)), its upstream error in
    /// [`HttpError::upstream`](crate::error::HttpError::upstream).
    pub async fn cancel(&self) -> Result<BatchStatus, Error> {
        let mut parts = Vec::new();
        for (i, id) in self.handle.ids.iter().enumerate() {
            let url = format!("{}/cancel/{id}", self.url());
            let batch: types::MessageBatch = self
                .transport
                .send_bytes(
                    reqwest::Method::POST,
                    &url,
                    bytes::Bytes::new(),
                    false,
                    "batch_cancel",
                )
                .await?;
            let mut part = BatchStatus::of_batch(batch);
            part.requests = self.handle.requests.get(i).copied();
            parts.push(part);
        }
        Ok(BatchStatus::merged(parts))
    }

    /// The batch's status after each poll, until it has ended (the last item) or the deadline
    /// passed (an [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error, the last item). A
    /// poll that fails for a moment (a `429`, a `5xx`, a timeout or a broken connection) is tried
    /// again after the next pause, at least as long as a `Retry-After` asked (heard up to the retry
    /// policy's `max_retry_after`); another error ends
    /// the stream. Dropping the stream stops polling. Each poll is a [`status`](Self::status),
    /// raced against the time left: one that has not answered by the deadline ends the wait
    /// there.
    pub fn watch(&self, wait: Wait) -> impl Stream<Item = Result<BatchStatus, Error>> + Send {
        let batch = self.clone();
        let cap = self.transport.retry_policy().max_retry_after;
        super::wait::watch(wait, cap, move || {
            let batch = batch.clone();
            async move { batch.status().await }
        })
    }

    /// Polls until the batch has ended ([`watch`](Self::watch)), calling `progress` with each
    /// status; returns the last. Fails with [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) at
    /// the deadline. Dropping the future stops polling.
    pub async fn wait(
        &self,
        wait: Wait,
        progress: impl FnMut(&BatchStatus),
    ) -> Result<BatchStatus, Error> {
        super::wait::wait_for(wait, self.watch(wait), progress).await
    }

    /// The results, as they are read: `(custom_id, answer or why there is none)`, in the
    /// order the API sends them (the batches of a split submission one after another), each
    /// answer with its usage and its cost at batch prices. Memory holds one result at a time.
    /// Asked for before the batch has ended, the stream's first item is an error saying so; an
    /// answer that says the batch has ended but carries no results is a
    /// [`Decode`](crate::ErrorKind::Decode) error saying that.
    ///
    /// Each result may have at most [`max_response_body`](crate::ClientBuilder::max_response_body)
    /// bytes (and take as much again decoded: past either, an
    /// [`ErrorKind::ResponseTooLarge`](crate::ErrorKind::ResponseTooLarge) error ends the
    /// stream), and must arrive whole within the request timeout
    /// ([`Timeouts::request`](crate::Timeouts::request)) of being asked for (the idle timeout
    /// holds between pieces as for any stream); past it, an
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error ends the stream.
    ///
    /// The results' cost is not added to [`Client::spent`](crate::Client::spent): reading the
    /// results twice would count it twice.
    pub fn results(&self) -> BatchResults {
        let state = Reading {
            batch: self.clone(),
            ids: self.handle.ids.clone().into(),
            current: None,
            failed: false,
        };
        let stream = futures::stream::unfold(state, |mut s| async move {
            let item = s.next().await?;
            Some((item, s))
        });
        BatchResults {
            inner: stream.boxed(),
        }
    }
}

/// Where reading the results of a handle's batches is: the batches not opened yet, the reader of
/// the one being read; after an error, nothing more (no next batch is opened).
struct Reading {
    batch: Batch,
    ids: std::collections::VecDeque<String>,
    current: Option<ResultReader>,
    failed: bool,
}

impl Reading {
    async fn next(&mut self) -> Option<Result<BatchItem, Error>> {
        while !self.failed {
            if let Some(reader) = &mut self.current {
                match reader.next().await {
                    Some(item) => {
                        self.failed = item.is_err();
                        return Some(item);
                    }
                    None => self.current = None,
                }
            }
            let id = self.ids.pop_front()?;
            match self.batch.open(&id).await {
                Ok(answer) => {
                    self.current = Some(ResultReader {
                        transport: self.batch.transport.clone(),
                        id,
                        answer,
                        models: HashMap::new(),
                        done: false,
                    })
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

struct ResultReader {
    transport: Transport,
    id: String,
    answer: Answer,
    /// Each model named, with its standard facts, looked up once.
    models: HashMap<String, (Model, Option<ModelFacts>)>,
    done: bool,
}

impl ResultReader {
    async fn next(&mut self) -> Option<Result<BatchItem, Error>> {
        if self.done {
            return None;
        }
        let element = match self.answer.next().await? {
            Ok(e) => e,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        match element {
            Element::Result(line) => Some(Ok(self.item(*line))),
            Element::Batch(b) => {
                self.done = true;
                Some(Err(self.not_ended(&b.processing_status)))
            }
            Element::Status(s) => {
                self.done = true;
                Some(Err(self.not_ended(&s.status)))
            }
        }
    }

    /// The error for an answer that holds no results: the batch has not ended (wait for it),
    /// or it says it has and the answer is wrong.
    fn not_ended(&self, state: &str) -> Error {
        if BatchState::parse(state).is_ended() {
            return Error::Decode {
                message: format!(
                    "batch {} is `{state}` but its answer carries no results",
                    self.id
                ),
                body: String::new(),
            };
        }
        Error::InvalidRequest(format!(
            "batch {} has no results yet: it is `{state}` (wait for it to end first)",
            self.id
        ))
    }

    fn item(&mut self, line: types::BatchResultLine) -> BatchItem {
        let (custom_id, result) = (line.custom_id, line.result);
        let kind = result.type_.clone().unwrap_or_default();
        let answer = match kind.as_str() {
            "succeeded" if result.message.is_some() => {
                let mut result = result;
                let message = result.message.take().expect("checked");
                Ok(self.completion(message))
            }
            "errored" => {
                let error = result.error.as_ref().and_then(|e| e.error.as_ref());
                Err(BatchError::Errored {
                    error_type: error
                        .and_then(|e| e.type_.clone())
                        .unwrap_or_else(|| "error".into()),
                    message: error.and_then(|e| e.message.clone()).unwrap_or_default(),
                })
            }
            "canceled" => Err(BatchError::Canceled),
            "expired" => Err(BatchError::Expired),
            _ => Err(other(
                &kind,
                serde_json::to_value(&result).unwrap_or_default(),
            )),
        };
        (custom_id, answer)
    }

    fn completion(
        &mut self,
        message: types::MessageResponse,
    ) -> Completion<types::MessageResponse> {
        let id = message.model.as_deref().unwrap_or_default();
        if !self.models.contains_key(id) {
            let model = Model::from_id(id);
            let facts = self.transport.model_facts(&model);
            self.models.insert(id.to_string(), (model, facts));
        }
        let (model, standard) = &self.models[id];
        // Batch prices where the usage says the batch tier served it (or says nothing).
        let tier = message
            .usage
            .as_ref()
            .and_then(|u| u.service_tier.as_deref());
        let facts = match tier {
            None | Some("batch") => standard.map(|f| f.at_batch_prices()),
            Some(_) => *standard,
        };
        // The answer's status and attempts; its headers (cost, ids) are the whole answer's, not
        // this request's, and stay with it.
        let base = self.answer.meta();
        let meta = ResponseMeta::new(base.status, HeaderMap::new(), base.attempts, model.clone())
            .with_facts(facts)
            .with_gateway(&base.gateway);
        let done = Completion {
            value: message,
            meta,
        };
        // Each result read joins the client's running total.
        self.transport.spend().count(done.cost());
        done
    }
}

fn other(kind: &str, result: serde_json::Value) -> BatchError {
    BatchError::Other {
        kind: kind.to_string(),
        result,
    }
}

/// A batch's results as they are read ([`Batch::results`]): a [`Stream`] of
/// `Result<`[`BatchItem`]`, Error>`; an `Err` item (the connection, an answer that is not one)
/// ends it.
pub struct BatchResults {
    inner: BoxStream<'static, Result<BatchItem, Error>>,
}

impl std::fmt::Debug for BatchResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResults").finish_non_exhaustive()
    }
}

impl Stream for BatchResults {
    type Item = Result<BatchItem, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl BatchResults {
    /// Every result, gathered by `custom_id` (for batches small enough to hold).
    pub async fn collect_map(
        mut self,
    ) -> Result<HashMap<String, Result<Completion<types::MessageResponse>, BatchError>>, Error>
    {
        let mut out = HashMap::new();
        while let Some(item) = self.next().await {
            let (id, answer) = item?;
            out.insert(id, answer);
        }
        Ok(out)
    }
}

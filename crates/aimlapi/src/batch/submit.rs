//! [`BatchBuilder`]: requests from the conversation API, each with its `custom_id`, checked and
//! written in the Messages shape, then submitted as one batch, or as several when they are over
//! a batch's limits ([`BatchLimits`]).

use std::collections::HashSet;

use aimlapi_types as types;

use super::handle::{Batch, BatchHandle};
use crate::chat::Chat;
use crate::error::Error;
use crate::transport::Transport;

/// How much one batch may hold: Anthropic's published limits by default, 100,000 requests and
/// 256 MB of body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// The most requests in one batch.
    pub max_requests: usize,
    /// The most bytes one batch's body may have.
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_requests: 100_000,
            max_bytes: 256 * 1000 * 1000,
        }
    }
}

/// `{"requests":[` and `]}`.
const ENVELOPE: usize = 15;

/// Requests for a batch, each a [`Chat`] with its `custom_id`: built with
/// [`Client::batch`](crate::Client::batch), sent with [`submit`](Self::submit) (one batch) or
/// [`submit_all`](Self::submit_all) (as many as the limits need).
///
/// Each request is written as [`Chat::send_message`] writes it (the Messages endpoint's shape,
/// the model id as given) and checked the same way: against the model's Messages page, or, for
/// a model with only a chat page, against that page. Nothing is sent unless every request passes
/// and every `custom_id` is unique and well-formed (1 to 64 of `A-Z a-z 0-9 _ -`).
#[derive(Clone, Debug)]
#[must_use = "a batch does nothing until it is submitted"]
pub struct BatchBuilder {
    transport: Transport,
    requests: Vec<(String, Chat)>,
    limits: BatchLimits,
}

impl BatchBuilder {
    pub(crate) fn new(transport: Transport) -> Self {
        BatchBuilder {
            transport,
            requests: Vec::new(),
            limits: BatchLimits::default(),
        }
    }

    /// Adds a request: `chat` as it would be sent with [`Chat::send_message`], under
    /// `custom_id`, the id its result will carry. The chat's headers and timeout do not apply
    /// (the batch is one request); its extra body fields do.
    pub fn request(mut self, custom_id: impl Into<String>, chat: Chat) -> Self {
        self.requests.push((custom_id.into(), chat));
        self
    }

    /// Adds each `(custom_id, chat)`.
    pub fn requests<S: Into<String>>(
        mut self,
        requests: impl IntoIterator<Item = (S, Chat)>,
    ) -> Self {
        self.requests
            .extend(requests.into_iter().map(|(id, chat)| (id.into(), chat)));
        self
    }

    /// The limits one batch is held to (default [`BatchLimits::default`]: Anthropic's).
    pub fn limits(mut self, limits: BatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many requests there are.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The body one batch of these requests would go out as, as JSON (for logs and tests).
    pub fn body(&self) -> Result<serde_json::Value, Error> {
        let items = self.items()?;
        let body = join(items.iter().map(Vec::as_slice));
        serde_json::from_slice(&body).map_err(|e| Error::InvalidRequest(e.to_string()))
    }

    /// What the requests would cost at most, about: for each, its `max_tokens` of output and
    /// its body's length over 4 in input tokens (a token is about 4 characters of English
    /// text), at its model's batch prices. `None` when a request's model has no known prices.
    /// A client's [`Budget`](crate::budget::Budget) is checked with it before the batch is sent.
    pub fn estimated_cost(&self) -> Option<f64> {
        let items = self.items().ok()?;
        self.estimate(&items)
    }

    fn estimate(&self, items: &[Vec<u8>]) -> Option<f64> {
        let mut total = 0.0;
        for ((_, chat), item) in self.requests.iter().zip(items) {
            let facts = self.transport.model_facts(chat.model())?.at_batch_prices();
            let params: serde_json::Value = serde_json::from_slice(item).ok()?;
            let output = params
                .pointer("/params/max_tokens")
                .and_then(serde_json::Value::as_u64)?;
            total += facts.cost(item.len() as u64 / 4, output);
        }
        Some(total)
    }

    /// Submits the requests as one batch. Over the limits (more requests than
    /// [`BatchLimits::max_requests`], a body over [`BatchLimits::max_bytes`]) nothing is sent and
    /// the error names the limit: [`submit_all`](Self::submit_all) splits instead.
    pub async fn submit(self) -> Result<Batch, Error> {
        let items = self.items()?;
        let groups = self.groups(&items)?;
        if groups.len() > 1 {
            let n = items.len();
            let bytes: usize = ENVELOPE + items.iter().map(|i| i.len() + 1).sum::<usize>();
            let limit = if n > self.limits.max_requests {
                format!(
                    "{n} requests, over the limit of {}",
                    self.limits.max_requests
                )
            } else {
                format!("{bytes} bytes, over the limit of {}", self.limits.max_bytes)
            };
            return Err(Error::InvalidRequest(format!(
                "a batch of {limit}; BatchBuilder::submit_all splits it into {} batches",
                groups.len()
            )));
        }
        self.send(&items, groups).await
    }

    /// Submits the requests as few batches as the limits allow, in order; the [`Batch`] watches
    /// them all and reads their results one batch after another (every `custom_id` once). If a
    /// later batch cannot be submitted, the error is [`Error::PartlySubmitted`] with the ids of
    /// those that were, so they can be waited for or canceled.
    pub async fn submit_all(self) -> Result<Batch, Error> {
        let items = self.items()?;
        let groups = self.groups(&items)?;
        self.send(&items, groups).await
    }

    async fn send(
        &self,
        items: &[Vec<u8>],
        groups: Vec<std::ops::Range<usize>>,
    ) -> Result<Batch, Error> {
        // A budget that could not pay for the whole batch refuses it before anything is sent.
        let ahead = self.estimate(items).unwrap_or(0.0);
        self.transport
            .within_budget_ahead(&tracing::Span::current(), ahead)
            .await?;
        let url = format!("{}/v1/batches", self.transport.base_url());
        let mut handle = BatchHandle {
            ids: Vec::new(),
            requests: Vec::new(),
        };
        for range in groups {
            let count = range.len();
            let body = join(items[range].iter().map(Vec::as_slice));
            let made: Result<types::MessageBatch, Error> = self
                .transport
                .send_bytes(
                    reqwest::Method::POST,
                    &url,
                    body.into(),
                    true,
                    "batch_create",
                )
                .await;
            let id = made.and_then(|b| {
                b.id.ok_or_else(|| Error::Decode {
                    message: "the batch created has no `id`".into(),
                    body: String::new(),
                })
            });
            match id {
                Ok(id) => {
                    handle.ids.push(id);
                    handle.requests.push(count as u64);
                }
                Err(e) if handle.ids.is_empty() => return Err(e),
                Err(e) => {
                    return Err(Error::PartlySubmitted {
                        batch_ids: handle.ids,
                        error: Box::new(e),
                    })
                }
            }
        }
        Ok(Batch::new(self.transport.clone(), handle))
    }

    /// Each request as its JSON item, `{"custom_id": .., "params": ..}`, after every check.
    fn items(&self) -> Result<Vec<Vec<u8>>, Error> {
        if self.requests.is_empty() {
            return Err(Error::InvalidRequest(
                "an empty batch: add a request with BatchBuilder::request".into(),
            ));
        }
        let mut seen = HashSet::with_capacity(self.requests.len());
        let mut items = Vec::with_capacity(self.requests.len());
        for (id, chat) in &self.requests {
            check_id(id)?;
            if !seen.insert(id.as_str()) {
                return Err(Error::InvalidRequest(format!(
                    "custom_id `{id}` is in the batch twice: each request needs its own"
                )));
            }
            let params = chat.batch_params().map_err(|error| Error::InBatch {
                custom_id: id.clone(),
                error: Box::new(error),
            })?;
            let mut item = Vec::with_capacity(params.len() + id.len() + 32);
            item.extend_from_slice(b"{\"custom_id\":");
            serde_json::to_writer(&mut item, id).expect("a string writes");
            item.extend_from_slice(b",\"params\":");
            item.extend_from_slice(&params);
            item.push(b'}');
            items.push(item);
        }
        Ok(items)
    }

    /// The items cut into batches within the limits, in order.
    fn groups(&self, items: &[Vec<u8>]) -> Result<Vec<std::ops::Range<usize>>, Error> {
        let BatchLimits {
            max_requests,
            max_bytes,
        } = self.limits;
        let mut groups = Vec::new();
        let (mut start, mut bytes) = (0, ENVELOPE);
        for (i, item) in items.iter().enumerate() {
            let size = item.len() + 1;
            if ENVELOPE + size > max_bytes {
                return Err(Error::InvalidRequest(format!(
                    "request `{}` is {} bytes: alone it is over a batch's limit of {max_bytes}",
                    self.requests[i].0,
                    item.len()
                )));
            }
            if i > start && (i - start >= max_requests.max(1) || bytes + size > max_bytes) {
                groups.push(start..i);
                (start, bytes) = (i, ENVELOPE);
            }
            bytes += size;
        }
        groups.push(start..items.len());
        Ok(groups)
    }
}

/// A `custom_id` as Anthropic takes them: 1 to 64 of `A-Z a-z 0-9 _ -`.
fn check_id(id: &str) -> Result<(), Error> {
    let fine = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if fine {
        return Ok(());
    }
    Err(Error::InvalidRequest(format!(
        "custom_id {id:?}: a custom_id is 1 to 64 of A-Z a-z 0-9 _ -"
    )))
}

/// `{"requests":[a,b,...]}`.
fn join<'a>(items: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut body = b"{\"requests\":[".to_vec();
    for (i, item) in items.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"]}");
    body
}

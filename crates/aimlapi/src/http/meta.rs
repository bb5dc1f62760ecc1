//! [`ResponseMeta`]: what comes back beside a body (status, ids, cost headers, attempts).

use reqwest::header::{HeaderMap, HeaderName};
use reqwest::StatusCode;

use crate::error::id_headers;
use crate::model::{Model, ModelFacts};

const USD_SPENT: HeaderName = HeaderName::from_static("x-aimlapi-usd-spent");
const CREDITS_USED: HeaderName = HeaderName::from_static("x-aimlapi-credits-used");

/// What came with a successful response, beside the body.
#[derive(Clone, Debug)]
pub struct ResponseMeta {
    /// The status.
    pub status: StatusCode,
    /// The request id: `x-request-id`, `x-inference-id`, `x-generation-id` or `x-client-request-id`.
    pub request_id: Option<String>,
    /// The `X-Client-Request-Id` the request carried (the caller's, or one this crate made).
    pub client_request_id: Option<String>,
    /// The AI/ML API's id of the call (`x-inference-id`): what its billing and usage logs
    /// name it by.
    pub inference_id: Option<String>,
    /// OpenRouter's id of the generation (`x-generation-id`), for
    /// [`Client::generation`](crate::Client::generation).
    pub generation_id: Option<String>,
    /// What the AI/ML API charged, in US dollars (`x-aimlapi-usd-spent`, non-streaming only).
    pub usd_spent: Option<f64>,
    /// What the AI/ML API charged, in credits (`x-aimlapi-credits-used`, non-streaming only).
    pub credits_used: Option<f64>,
    /// How many attempts it took (1 without retries).
    pub attempts: u32,
    /// The model the request named, as this crate understands it.
    pub model: Model,
    /// The model's facts when the call was made: from a catalogue listing the client fetched
    /// with prices, else this crate's table; what [`estimated_cost`] prices usage with.
    ///
    /// [`estimated_cost`]: crate::Completion::estimated_cost
    pub facts: Option<ModelFacts>,
    /// The gateway that answered: its base URL.
    pub gateway: String,
    /// The gateway the call moved from (its base URL), when it failed over.
    pub moved_from: Option<String>,
    /// All response headers.
    pub headers: HeaderMap,
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, attempts: u32, model: Model) -> Self {
        let ids = id_headers(&headers);
        let number = |name: &HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        let (usd_spent, credits_used) = (number(&USD_SPENT), number(&CREDITS_USED));
        let owned = |id: Option<&str>| id.map(str::to_string);
        ResponseMeta {
            status,
            request_id: owned(ids.iter().find_map(|id| *id)),
            client_request_id: None,
            inference_id: owned(ids[1]),
            generation_id: owned(ids[2]),
            usd_spent,
            credits_used,
            attempts,
            facts: None,
            model,
            gateway: String::new(),
            moved_from: None,
            headers,
        }
    }

    /// The rate limits the answer named, whichever header family the gateway sends (read from
    /// [`headers`](Self::headers) when asked).
    pub fn rate_limits(&self) -> crate::rate_limits::RateLimits {
        crate::rate_limits::RateLimits::from_headers(&self.headers)
    }

    pub(crate) fn with_client_request_id(mut self, id: String) -> Self {
        self.client_request_id = Some(id);
        self
    }

    pub(crate) fn with_gateway(mut self, base_url: &str) -> Self {
        self.gateway = base_url.to_string();
        self
    }

    pub(crate) fn with_facts(mut self, facts: Option<ModelFacts>) -> Self {
        self.facts = facts;
        self
    }
}

//! What comes back beside a body: [`ResponseMeta`], and [`Completion`], a body with its meta.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::error::request_id;
use crate::model::Model;
use crate::request::{ChatResponse, TokenUsage};

/// What came with a successful response, beside the body.
#[derive(Clone, Debug)]
pub struct ResponseMeta {
    /// The status.
    pub status: StatusCode,
    /// The request id: `x-request-id`, `x-inference-id`, `x-generation-id` or `x-client-request-id`.
    pub request_id: Option<String>,
    /// What the AI/ML API charged, in US dollars (`x-aimlapi-usd-spent`, non-streaming only).
    pub usd_spent: Option<f64>,
    /// What the AI/ML API charged, in credits (`x-aimlapi-credits-used`, non-streaming only).
    pub credits_used: Option<f64>,
    /// How many attempts it took (1 without retries).
    pub attempts: u32,
    /// The model the request named, as this crate understands it.
    pub model: Model,
    /// All response headers.
    pub headers: HeaderMap,
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, attempts: u32, model: Model) -> Self {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        ResponseMeta {
            status,
            request_id: request_id(&headers),
            usd_spent: number("x-aimlapi-usd-spent"),
            credits_used: number("x-aimlapi-credits-used"),
            attempts,
            model,
            headers,
        }
    }
}

/// A typed response and what came with it.
#[derive(Clone, Debug)]
pub struct Completion<T> {
    /// The response body.
    pub value: T,
    /// Status, request id, cost headers, attempts.
    pub meta: ResponseMeta,
}

impl<T: ChatResponse> Completion<T> {
    /// The token usage, when the response has it.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.value.token_usage()
    }

    /// The text of the first choice's message, when it has one.
    pub fn text(&self) -> Option<&str> {
        self.value.text()
    }

    /// The usage priced with the model's facts, in US dollars: `None` for a model this crate
    /// does not know or a response without usage. The vendor's own figure, when it sends one,
    /// is [`ResponseMeta::usd_spent`].
    pub fn estimated_cost(&self) -> Option<f64> {
        let usage = self.usage()?;
        Some(
            self.meta
                .model
                .facts()?
                .cost(usage.prompt_tokens, usage.completion_tokens),
        )
    }
}

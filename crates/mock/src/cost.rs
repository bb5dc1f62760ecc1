//! What an answer cost, and the generation stats kept for OpenRouter's
//! `GET /api/v1/generation?id=<id>`.
//!
//! The dollars are the answer's tokens at the catalogue's token prices for the model asked for
//! (the mock's own test data, `fixtures/catalogue.json`), or at [`DEFAULT_USD_PER_MTOK`] when the
//! catalogue quotes none; credits are the dollars times [`CREDITS_PER_USD`], rounded.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::catalogue;

/// Credits per US dollar (the vendor's examples: 1892 credits are $0.000946).
pub const CREDITS_PER_USD: u64 = 2_000_000;

/// The prices, in US dollars per million tokens in and out, of a model the catalogue quotes no
/// token prices for.
pub const DEFAULT_USD_PER_MTOK: (f64, f64) = (3.0, 15.0);

/// How many generations the server keeps for the stats endpoint; the oldest go first.
pub const GENERATION_LIMIT: usize = 10_000;

/// What one answer cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cost {
    /// US dollars, rounded to nine decimals (the precision of `x-aimlapi-usd-spent`).
    pub(crate) usd: f64,
    /// Credits, an integer.
    pub(crate) credits: u64,
}

impl Cost {
    /// `prompt` tokens in and `completion` tokens out, at the prices of the first of `models`
    /// the catalogue (or the page table) knows.
    pub(crate) fn of(models: &[&str], prompt: u64, completion: u64) -> Cost {
        let (input, output) = models
            .iter()
            .find_map(|m| prices(m))
            .unwrap_or((DEFAULT_USD_PER_MTOK.0 / 1e6, DEFAULT_USD_PER_MTOK.1 / 1e6));
        Cost::usd(prompt as f64 * input + completion as f64 * output)
    }

    /// A cost of `usd` dollars.
    pub(crate) fn usd(usd: f64) -> Cost {
        let usd = if usd.is_finite() && usd > 0.0 {
            (usd * 1e9).round() / 1e9
        } else {
            0.0
        };
        // A float cast saturates: absurd token counts give u64::MAX credits, not a panic.
        let credits = (usd * CREDITS_PER_USD as f64).round() as u64;
        Cost { usd, credits }
    }

    /// The vendor's figures an answer already carries in `meta.usage`, when it does.
    pub(crate) fn carried(answer: &Value) -> Option<Cost> {
        let usage = answer.pointer("/meta/usage")?;
        let usd = usage.get("usd_spent")?.as_f64()?;
        let credits = usage.get("credits_used")?.as_f64()?;
        Some(Cost {
            usd,
            credits: credits.round() as u64,
        })
    }

    /// `meta` as the AI/ML API sends it: `{"usage": {"credits_used", "usd_spent"}}`.
    pub(crate) fn meta(&self) -> Value {
        json!({"usage": {"credits_used": self.credits, "usd_spent": self.usd}})
    }

    /// The `x-aimlapi-credits-used` and `x-aimlapi-usd-spent` headers.
    pub(crate) fn headers(&self) -> [(String, String); 2] {
        [
            ("x-aimlapi-credits-used".into(), self.credits.to_string()),
            ("x-aimlapi-usd-spent".into(), format!("{:.9}", self.usd)),
        ]
    }
}

/// The price of one token in and one out for `model`: its catalogue entry's, else (an id the
/// catalogue does not list, e.g. `claude-3-5-haiku`) the entry of the page the mock validates it
/// against.
fn prices(model: &str) -> Option<(f64, f64)> {
    if model.is_empty() {
        return None;
    }
    if let Some(p) = catalogue::find(model).and_then(catalogue::token_prices) {
        return Some(p);
    }
    let page = crate::validate::schemas().document_of(model)?;
    aimlapi_types::MODEL_PAGES
        .iter()
        .filter(|p| p.page == page)
        .flat_map(|p| p.ids.iter())
        .find_map(|id| catalogue::find(id).and_then(catalogue::token_prices))
}

/// One answer as the stats endpoint reports it.
#[derive(Clone, Debug)]
pub(crate) struct Generation {
    /// The answer's `id`.
    pub(crate) id: String,
    /// The `x-inference-id` the answer went out with.
    pub(crate) inference_id: String,
    /// The model the answer names.
    pub(crate) model: String,
    /// Prompt tokens.
    pub(crate) prompt: u64,
    /// Completion tokens.
    pub(crate) completion: u64,
    /// What it cost.
    pub(crate) cost: Cost,
    /// The finish reason, in the chat endpoint's words (`stop`, `tool_calls`, ...).
    pub(crate) finish_reason: Option<String>,
    /// Whether it was streamed.
    pub(crate) streamed: bool,
    /// Whether the stream was cut (dropped or stalled) before its end.
    pub(crate) cancelled: bool,
}

impl Generation {
    /// `{"data": {...}}` as OpenRouter's stats endpoint answers.
    pub(crate) fn stats(&self) -> Value {
        // The provider's own words for the finish reason (Anthropic's).
        let native = self.finish_reason.as_deref().map(|r| match r {
            "stop" => "end_turn",
            "tool_calls" => "tool_use",
            "length" => "max_tokens",
            other => other,
        });
        json!({"data": {
            "id": self.id,
            "upstream_id": format!("msg_upstream_{}", self.id),
            "total_cost": self.cost.usd,
            "cache_discount": 0,
            "upstream_inference_cost": self.cost.usd,
            "model": self.model,
            "provider_name": "Anthropic",
            // Fixed timings, in milliseconds: the mock does not wait for a model.
            "latency": 250,
            "generation_time": 200,
            "finish_reason": self.finish_reason,
            "native_finish_reason": native,
            "tokens_prompt": self.prompt,
            "tokens_completion": self.completion,
            "native_tokens_prompt": self.prompt,
            "native_tokens_completion": self.completion,
            "native_tokens_reasoning": 0,
            "native_tokens_cached": 0,
            "streamed": self.streamed,
            "cancelled": self.cancelled,
            "is_byok": false,
        }})
    }
}

/// The last [`GENERATION_LIMIT`] generations, by id (the latest of an id wins).
#[derive(Default)]
pub(crate) struct Generations {
    kept: Mutex<VecDeque<Generation>>,
}

impl Generations {
    /// Keeps `generation`, dropping the oldest beyond the limit.
    pub(crate) fn keep(&self, generation: Generation) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        while kept.len() >= GENERATION_LIMIT {
            kept.pop_front();
        }
        kept.push_back(generation);
    }

    /// The generation answered with this `x-inference-id`.
    pub(crate) fn of_inference(&self, inference_id: &str) -> Option<Generation> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .rev()
            .find(|g| g.inference_id == inference_id)
            .cloned()
    }

    /// The latest generation with this id.
    pub(crate) fn find(&self, id: &str) -> Option<Generation> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().rev().find(|g| g.id == id).cloned()
    }
}

/// The prompt and completion tokens of a chat answer's `usage` (0 for what it lacks).
pub(crate) fn chat_tokens(usage: Option<&Value>) -> (u64, u64) {
    let count = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
    (
        count("prompt_tokens").unwrap_or(0),
        count("completion_tokens").unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_s_example_converts() {
        let c = Cost::usd(0.000946);
        assert_eq!(c.credits, 1892);
        assert_eq!(c.headers()[1].1, "0.000946000");
    }

    #[test]
    fn prices_come_from_the_catalogue_or_the_default() {
        // 3.5 Haiku at $0.80 / $4 per million; unknown ids at the default.
        let c = Cost::of(&["anthropic/claude-3-5-haiku"], 1_000_000, 1_000_000);
        assert!((c.usd - 4.8).abs() < 1e-9, "{c:?}");
        let c = Cost::of(&["CLAUDE-3-5-HAIKU-LATEST"], 1_000_000, 0);
        assert!((c.usd - 0.8).abs() < 1e-9, "{c:?}");
        // Not listed, but validated against the 3.5 Haiku page.
        let c = Cost::of(&["claude-3-5-haiku"], 1_000_000, 0);
        assert!((c.usd - 0.8).abs() < 1e-9, "{c:?}");
        let c = Cost::of(&["", "no-such-model"], 1_000_000, 1_000_000);
        assert!((c.usd - 18.0).abs() < 1e-9, "{c:?}");
        // Absurd counts saturate.
        let c = Cost::of(&["anthropic/claude-3-opus"], u64::MAX, u64::MAX);
        assert!(c.usd.is_finite());
    }
}

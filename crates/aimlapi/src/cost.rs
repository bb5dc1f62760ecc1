//! [`Cost`]: what a call cost, preferring the vendor's own figure to an estimate, and the
//! running total a client keeps ([`Client::spent`](crate::Client::spent)).

use std::sync::atomic::{AtomicU64, Ordering};

use aimlapi_types as types;

/// What a call cost, in US dollars, and where the figure comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    /// The amount, in US dollars.
    pub usd: f64,
    /// Where it comes from.
    pub source: CostSource,
}

/// Where a [`Cost`] comes from, the vendor's own figures first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CostSource {
    /// The body's `meta.usage.usd_spent` (the AI/ML API; the final chunk of a stream).
    Body,
    /// The `x-aimlapi-usd-spent` header (the AI/ML API's non-streaming answers).
    Header,
    /// OpenRouter's `usage.cost`.
    OpenRouterUsage,
    /// This crate's estimate: the usage priced with the model's facts.
    Estimate,
}

impl Cost {
    /// Whether this is this crate's estimate rather than the vendor's figure.
    pub fn is_estimate(&self) -> bool {
        self.source == CostSource::Estimate
    }
}

/// A figure the vendor put in an answer's body: `meta.usage.usd_spent`, then OpenRouter's
/// `usage.cost`.
pub(crate) fn body_cost(meta: Option<&types::Meta>, openrouter: Option<f64>) -> Option<Cost> {
    let spent = meta
        .and_then(|m| m.usage.as_ref())
        .and_then(|u| u.usd_spent)
        .filter(|usd| usd.is_finite() && *usd >= 0.0);
    let figure = |usd, source| Cost { usd, source };
    spent.map(|usd| figure(usd, CostSource::Body)).or_else(|| {
        openrouter
            .filter(|usd| usd.is_finite() && *usd >= 0.0)
            .map(|usd| figure(usd, CostSource::OpenRouterUsage))
    })
}

/// The body's figure, else the header's, else the estimate: the order [`Cost`] prefers.
pub(crate) fn choose(
    body: Option<Cost>,
    header: Option<f64>,
    estimate: impl FnOnce() -> Option<f64>,
) -> Option<Cost> {
    let header = header.filter(|usd| usd.is_finite() && *usd >= 0.0);
    body.or(header.map(|usd| Cost {
        usd,
        source: CostSource::Header,
    }))
    .or_else(|| {
        estimate().map(|usd| Cost {
            usd,
            source: CostSource::Estimate,
        })
    })
}

/// A running total of US dollars, shared by a client and what it hands out.
#[derive(Debug, Default)]
pub(crate) struct Spend(AtomicU64);

impl Spend {
    /// Adds what a call cost, when it has a cost.
    pub(crate) fn count(&self, cost: Option<Cost>) {
        if let Some(cost) = cost {
            self.add(cost.usd);
        }
    }

    /// Adds `usd` (a finite, non-negative amount).
    fn add(&self, usd: f64) {
        if !(usd.is_finite() && usd > 0.0) {
            return;
        }
        let mut old = self.0.load(Ordering::Relaxed);
        loop {
            let new = (f64::from_bits(old) + usd).to_bits();
            match self
                .0
                .compare_exchange_weak(old, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
    }

    pub(crate) fn total(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

//! Picking, among models a service holds interchangeable, the one fastest now by the live
//! metrics ([`Account::model_metrics`](super::Account::model_metrics)).

use aimlapi_types::{MeasuredModels, MetricsReport, ModelMetrics, Percentiles};

/// Which of a model's live figures to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Milliseconds to the first token: lower is faster.
    TtftMs,
    /// Output tokens per second: higher is faster (so a higher percentile is the faster tail).
    Tps,
    /// Milliseconds for the whole answer: lower is faster.
    DurationMs,
}

/// Which percentile of a figure to compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Percentile {
    /// The median.
    P50,
    /// The 75th percentile.
    P75,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
}

impl Figure {
    fn of(self, m: &ModelMetrics) -> Option<&Percentiles> {
        match self {
            Figure::TtftMs => m.ttft_ms.as_ref(),
            Figure::Tps => m.tps.as_ref(),
            Figure::DurationMs => m.duration_ms.as_ref(),
        }
    }

    /// Whether `a` is faster than `b` by this figure.
    fn faster(self, a: f64, b: f64) -> bool {
        match self {
            Figure::Tps => a > b,
            Figure::TtftMs | Figure::DurationMs => a < b,
        }
    }
}

impl Percentile {
    fn of(self, p: &Percentiles) -> Option<f64> {
        match self {
            Percentile::P50 => p.p50,
            Percentile::P75 => p.p75,
            Percentile::P90 => p.p90,
            Percentile::P99 => p.p99,
        }
    }
}

/// The figures `report` has for `model` (matched exactly, as the route matches names), in
/// either shape of its `models`.
fn metrics_of<'r>(report: &'r MetricsReport, model: &str) -> Option<&'r ModelMetrics> {
    match report.models.as_ref()? {
        MeasuredModels::Array(entries) => entries
            .iter()
            .find(|e| e.alias.as_deref() == Some(model))
            .and_then(|e| e.metrics.as_ref()),
        MeasuredModels::Object(by_id) => by_id.get(model),
    }
}

/// The one of `candidates` fastest now by `figure` at `percentile` in `report`; a model the
/// report has no such figure for is passed over (absent is "no data", never zero); the first
/// candidate when none has data (or `None` when there are no candidates).
pub fn fastest<'c>(
    report: &MetricsReport,
    candidates: &[&'c str],
    figure: Figure,
    percentile: Percentile,
) -> Option<&'c str> {
    let mut best: Option<(&'c str, f64)> = None;
    for &model in candidates {
        let value = metrics_of(report, model)
            .and_then(|m| figure.of(m))
            .and_then(|p| percentile.of(p))
            .filter(|v| v.is_finite());
        if let Some(v) = value {
            if best.is_none_or(|(_, b)| figure.faster(v, b)) {
                best = Some((model, v));
            }
        }
    }
    best.map(|(m, _)| m).or_else(|| candidates.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> MetricsReport {
        serde_json::from_value(serde_json::json!({
            "window_seconds": 300,
            "models": {
                "a": {"ttft_ms": {"p50": 400, "p99": 3000}, "tps": {"p50": 50, "p99": 60}},
                "b": {"ttft_ms": {"p50": 500, "p99": 900}, "tps": {"p50": 40, "p99": 95}},
                "c": {"duration_ms": {"p50": null}},
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_fastest_by_the_chosen_figure_in_its_own_direction_skipping_missing_data() {
        let r = report();
        let all = ["c", "a", "b"];
        assert_eq!(
            fastest(&r, &all, Figure::TtftMs, Percentile::P50),
            Some("a")
        );
        assert_eq!(
            fastest(&r, &all, Figure::TtftMs, Percentile::P99),
            Some("b")
        );
        // tps: higher is faster, so p99 is the faster tail.
        assert_eq!(fastest(&r, &all, Figure::Tps, Percentile::P50), Some("a"));
        assert_eq!(fastest(&r, &all, Figure::Tps, Percentile::P99), Some("b"));
        // No model has duration data (c's is null, a and b have none): the first.
        assert_eq!(
            fastest(&r, &all, Figure::DurationMs, Percentile::P50),
            Some("c")
        );
        assert_eq!(
            fastest(&r, &["zz", "b"], Figure::TtftMs, Percentile::P50),
            Some("b")
        );
        assert_eq!(fastest(&r, &[], Figure::Tps, Percentile::P50), None);
    }
}

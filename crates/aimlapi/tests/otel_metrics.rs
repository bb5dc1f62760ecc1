//! With the `otel` feature, the GenAI client metrics through the `opentelemetry` metrics API into
//! the SDK's in-memory metric exporter: `gen_ai.client.operation.duration` and
//! `gen_ai.client.token.usage` for every model call, `gen_ai.client.operation.time_to_first_chunk`
//! for streams, with the conventions' units and attributes.
//!
//! The meter provider is the process's global one, set before the client is built; everything is
//! one test so that no other test's calls land in the same figures.

use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Reply};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, HistogramDataPoint, Metric, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// The data points of the histogram `name`, after a flush.
fn histogram<T: Copy + 'static>(
    exporter: &InMemoryMetricExporter,
    name: &str,
    unit: &str,
    pick: fn(&AggregatedMetrics) -> Option<&MetricData<T>>,
) -> Vec<(Vec<KeyValue>, u64, T)> {
    let exported = exporter.get_finished_metrics().unwrap();
    let metric: Vec<&Metric> = exported
        .iter()
        .flat_map(|r| r.scope_metrics())
        .filter(|s| s.scope().name() == "aimlapi")
        .flat_map(|s| s.metrics())
        .filter(|m| m.name() == name)
        .collect();
    let metric = *metric
        .last()
        .unwrap_or_else(|| panic!("no {name} in {exported:#?}"));
    assert_eq!(metric.unit(), unit, "{name}");
    let Some(MetricData::Histogram(h)) = pick(metric.data()) else {
        panic!("{name} is not a histogram of its type: {:?}", metric.data());
    };
    h.data_points()
        .map(|p: &HistogramDataPoint<T>| (p.attributes().cloned().collect(), p.count(), p.sum()))
        .collect()
}

fn has(attributes: &[KeyValue], key: &str, value: impl Into<Value>) -> bool {
    let value = value.into();
    attributes
        .iter()
        .any(|kv| kv.key.as_str() == key && kv.value == value)
}

#[tokio::test]
async fn model_calls_record_the_genai_client_metrics() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(provider.clone());

    let mock = MockServer::builder().start().await.unwrap();
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    mock.push(Reply::text("Paris.").usage(9, 2));
    client
        .chat("claude-sonnet-4-5")
        .user("The capital of France?")
        .send()
        .await
        .unwrap();
    mock.push(
        Reply::text("Cached hello.")
            .usage(10, 5)
            .cache_tokens(1200, 300),
    );
    client
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .stream_message()
        .await
        .unwrap()
        .completion()
        .await
        .unwrap();
    provider.force_flush().unwrap();

    let port = i64::from(
        reqwest::Url::parse(mock.base_url())
            .unwrap()
            .port()
            .unwrap(),
    );
    let durations = histogram(
        &exporter,
        "gen_ai.client.operation.duration",
        "s",
        |d| match d {
            AggregatedMetrics::F64(m) => Some(m),
            _ => None,
        },
    );
    let calls: u64 = durations.iter().map(|(_, n, _)| n).sum();
    assert_eq!(calls, 2, "{durations:?}");
    for (attributes, _, sum) in &durations {
        assert!(*sum > 0.0);
        assert!(
            has(attributes, "gen_ai.operation.name", "chat"),
            "{attributes:?}"
        );
        assert!(
            has(attributes, "gen_ai.provider.name", "anthropic"),
            "{attributes:?}"
        );
        assert!(has(attributes, "server.port", port), "{attributes:?}");
        assert!(
            has(attributes, "server.address", "127.0.0.1"),
            "{attributes:?}"
        );
        assert!(
            attributes
                .iter()
                .any(|kv| kv.key.as_str() == "gen_ai.request.model"),
            "{attributes:?}"
        );
    }

    let tokens = histogram(
        &exporter,
        "gen_ai.client.token.usage",
        "{token}",
        |d| match d {
            AggregatedMetrics::U64(m) => Some(m),
            _ => None,
        },
    );
    let of = |kind: &str| -> (u64, u64) {
        tokens
            .iter()
            .filter(|(a, ..)| has(a, "gen_ai.token.type", kind.to_string()))
            .fold((0, 0), |(n, s), (_, count, sum)| (n + count, s + sum))
    };
    // Two calls each: 9 + (10 + 1200 + 300) input tokens by the Anthropic rule, 2 + 5 output.
    assert_eq!(of("input"), (2, 9 + 1510), "{tokens:?}");
    assert_eq!(of("output"), (2, 2 + 5), "{tokens:?}");

    let first = histogram(
        &exporter,
        "gen_ai.client.operation.time_to_first_chunk",
        "s",
        |d| match d {
            AggregatedMetrics::F64(m) => Some(m),
            _ => None,
        },
    );
    let streams: u64 = first.iter().map(|(_, n, _)| n).sum();
    assert_eq!(streams, 1, "only the stream: {first:?}");
}

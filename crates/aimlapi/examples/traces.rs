//! Each call's span as an OpenTelemetry pipeline receives it, by the GenAI semantic conventions:
//! the `tracing` spans go through `tracing-opentelemetry` into an OpenTelemetry tracer provider
//! (here with an in-memory exporter standing in for OTLP), and the exported spans are printed
//! with their `gen_ai.*` attributes: a call, then the same question streamed from the Messages
//! endpoint.
//!
//! ```sh
//! cargo run --example traces -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example traces -- "Name a prime number."
//! ```

mod common;

use aimlapi::Provider;
use futures::StreamExt;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), aimlapi::Error> {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("traces-example"));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("a tracing subscriber");

    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![
            aimlapi_mock::Reply::text("7.").usage(12, 2),
            aimlapi_mock::Reply::text("Seven.")
                .usage(12, 3)
                .cache_tokens(1024, 0),
        ],
    )
    .await;
    let client = setup.client;
    let question = setup
        .prompt
        .unwrap_or_else(|| "Name a prime number.".to_string());
    let model = "claude-sonnet-4-5";

    let done = client
        .chat(model)
        .user(question.as_str())
        .max_tokens(50)
        .send()
        .await?;
    println!("answer: {}", done.text().unwrap_or_default());
    let mut events = client
        .chat(model)
        .user(question.as_str())
        .max_tokens(50)
        .stream_message()
        .await?;
    while let Some(event) = events.next().await {
        event?;
    }
    drop(events);

    for span in exporter.get_finished_spans().unwrap_or_default() {
        println!("\nspan {:?} ({:?})", span.name, span.span_kind);
        let mut attributes: Vec<_> = span
            .attributes
            .iter()
            .filter(|kv| {
                !kv.key.as_str().starts_with("code.") && !kv.key.as_str().starts_with("thread.")
            })
            .map(|kv| format!("  {} = {}", kv.key, kv.value))
            .collect();
        attributes.sort();
        println!("{}", attributes.join("\n"));
    }
    let _ = provider.shutdown();
    Ok(())
}

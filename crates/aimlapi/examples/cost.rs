//! What a call cost: the vendor's own figure (the body's `meta.usage`, the
//! `x-aimlapi-usd-spent` header, OpenRouter's `usage.cost`) beside this crate's estimate from
//! the usage and the model's prices, and the client's running total.
//!
//! ```sh
//! cargo run --example cost -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example cost -- "What is 2 + 2?"
//! ```

mod common;

use aimlapi::catalogue::Section;
use aimlapi::Provider;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![aimlapi_mock::Reply::text("4.").usage(14, 2)],
    )
    .await;
    let client = setup.client;
    let model = "anthropic/claude-sonnet-4.5";
    // The catalogue's prices, so the estimate uses them (the crate's own table otherwise).
    let listed = client
        .models()
        .include(Section::Pricing)
        .id(model)
        .send()
        .await?;
    if listed.facts(model).is_none() {
        eprintln!("(the catalogue lists no token prices for {model}: no estimate)");
    }
    let question = setup.prompt.unwrap_or_else(|| "What is 2 + 2?".to_string());
    let done = client
        .chat(model)
        .user(question)
        .max_tokens(100)
        .send()
        .await?;
    println!("{}", done.text().unwrap_or_default());
    match done.cost() {
        Some(cost) => println!("cost: ${:.6} ({:?})", cost.usd, cost.source),
        None => println!("cost: unknown"),
    }
    match done.estimated_cost() {
        Some(usd) => println!("estimate from usage: ${usd:.6}"),
        None => println!("estimate from usage: none (no usage or no prices)"),
    }
    println!(
        "request id {:?}, inference id {:?}; this client so far: ${:.6}",
        done.meta.client_request_id,
        done.meta.inference_id,
        client.spent()
    );
    Ok(())
}

//! One chat completion with Claude 3.5 Haiku through OpenRouter, with its ranking headers and
//! provider routing.
//!
//! ```sh
//! cargo run --example openrouter -- --offline   # against a local mock server
//! OPENROUTER_API_KEY=... cargo run --example openrouter -- "What is a monad?"
//! ```

mod common;

use aimlapi::types::{KnownOpenRouterModelId, OpenRouterRequest, ProviderRouting};
use aimlapi::Provider;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    let provider = Provider::OpenRouter {
        referer: Some("https://github.com/aimlapi-rust".into()),
        title: Some("aimlapi example".into()),
    };
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        provider,
        "OPENROUTER_API_KEY to your OpenRouter key (https://openrouter.ai/keys)",
        vec![],
    )
    .await;
    let client = setup.client;
    let prompt = setup.prompt.unwrap_or_else(|| "Hello".to_string());
    let request: OpenRouterRequest = OpenRouterRequest::builder()
        .model(KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(prompt)])
        .provider(Some(ProviderRouting {
            allow_fallbacks: Some(true),
            ..Default::default()
        }))
        .try_into()?;
    match client.chat_completion(&request).await {
        Ok(done) => {
            println!("{}", done.text().unwrap_or_default());
            eprintln!(
                "[about ${:.6}; generation id {:?}]",
                done.estimated_cost().unwrap_or_default(),
                done.meta.request_id
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    Ok(())
}

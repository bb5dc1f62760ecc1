//! One chat completion with Claude 3.5 Haiku through OpenRouter, with its ranking headers and
//! provider routing.
//!
//! ```sh
//! OPENROUTER_API_KEY=... cargo run --example openrouter -- "What is a monad?"
//! ```

use aimlapi::types::{KnownOpenRouterModelId, OpenRouterRequest, ProviderRouting};
use aimlapi::{Client, Provider};

#[tokio::main]
async fn main() {
    let provider = Provider::OpenRouter {
        referer: Some("https://github.com/aimlapi-rust".into()),
        title: Some("aimlapi example".into()),
    };
    let client = match Client::builder().provider(provider).build() {
        Ok(c) => c,
        Err(_) => {
            eprintln!("no key: set OPENROUTER_API_KEY to your OpenRouter key (https://openrouter.ai/keys) and run again");
            std::process::exit(2);
        }
    };
    let prompt = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Hello".to_string());
    let request: OpenRouterRequest = OpenRouterRequest::builder()
        .model(KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::user(prompt)])
        .provider(Some(ProviderRouting {
            allow_fallbacks: Some(true),
            ..Default::default()
        }))
        .try_into()
        .expect("model and messages are set");
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
}

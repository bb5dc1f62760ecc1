//! One chat completion with Claude 3.5 Haiku through OpenRouter, with its ranking headers and
//! provider routing.
//!
//! ```sh
//! cargo run --example openrouter -- --offline   # against a local mock server
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
    // `--offline`: a local mock server replays the documented answer; no key, no network.
    let offline = std::env::args().any(|a| a == "--offline");
    let mock = if offline {
        eprintln!(
            "[offline: a replay of the documented answer from a local mock server, not the model]"
        );
        Some(aimlapi_mock::MockServer::start().await)
    } else {
        None
    };
    let mut builder = Client::builder().provider(provider);
    if let Some(mock) = &mock {
        builder = builder.base_url(mock.base_url()).api_key("offline");
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(_) => {
            eprintln!("no key: set OPENROUTER_API_KEY to your OpenRouter key (https://openrouter.ai/keys) and run again, or pass --offline");
            std::process::exit(2);
        }
    };
    let prompt = std::env::args()
        .skip(1)
        .find(|a| a != "--offline")
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

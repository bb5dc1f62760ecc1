//! One non-streaming chat completion with Claude 3.5 Haiku on the AI/ML API.
//!
//! ```sh
//! cargo run --example chat -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example chat -- "What is a monad?"
//! ```

use aimlapi::types::{Claude35HaikuRequest, KnownClaude35HaikuModelId};
use aimlapi::{Client, Provider};

#[tokio::main]
async fn main() {
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
    let mut builder = Client::builder().provider(Provider::AimlApi);
    if let Some(mock) = &mock {
        builder = builder.base_url(mock.base_url()).api_key("offline");
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(_) => {
            eprintln!("no key: set AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys) and run again, or pass --offline");
            std::process::exit(2);
        }
    };
    let prompt = std::env::args()
        .skip(1)
        .find(|a| a != "--offline")
        .unwrap_or_else(|| "Hello".to_string());
    let request: Claude35HaikuRequest = Claude35HaikuRequest::builder()
        .model(KnownClaude35HaikuModelId::Claude35HaikuLatest)
        .messages(vec![aimlapi::user(prompt)])
        .try_into()
        .expect("model and messages are set");
    match client.chat_completion(&request).await {
        Ok(done) => {
            println!("{}", done.text().unwrap_or_default());
            if let Some(u) = done.usage() {
                eprintln!(
                    "[{} in, {} out; about ${:.6}; charged {:?} USD; request id {:?}]",
                    u.prompt_tokens,
                    u.completion_tokens,
                    done.estimated_cost().unwrap_or_default(),
                    done.meta.usd_spent,
                    done.meta.request_id
                );
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

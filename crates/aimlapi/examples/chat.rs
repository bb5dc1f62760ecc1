//! One non-streaming chat completion with Claude 3.5 Haiku on the AI/ML API.
//!
//! ```sh
//! cargo run --example chat -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example chat -- "What is a monad?"
//! ```

mod common;

use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::Provider;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![],
    )
    .await;
    let client = setup.client;
    let prompt = setup.prompt.unwrap_or_else(|| "Hello".to_string());
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::Claude35HaikuLatest)
        .messages(vec![aimlapi::request::user(prompt)])
        .try_into()?;
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
    Ok(())
}

//! A streaming chat completion with Claude 3.5 Haiku on the AI/ML API, printing each piece of
//! text as it arrives.
//!
//! ```sh
//! cargo run --example stream -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example stream -- "Tell me about mankind."
//! ```

mod common;

use std::io::Write;

use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::{Provider, RequestOptions, StreamItem};
use futures::StreamExt;

#[tokio::main]
async fn main() {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![],
    )
    .await;
    let client = setup.client;
    let prompt = setup
        .prompt
        .unwrap_or_else(|| "Hi! What do you think about mankind?".to_string());
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::user(prompt)])
        .try_into()
        .expect("model and messages are set");
    let mut stream = match client.stream(&request, &RequestOptions::default()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout();
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamItem::Chunk(chunk)) => {
                for choice in &chunk.choices {
                    if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_deref()) {
                        let _ = out.write_all(text.as_bytes());
                        let _ = out.flush();
                    }
                }
                if let Some(u) = &chunk.usage {
                    eprintln!(
                        "\n[{:?} in, {:?} out]",
                        u.prompt_tokens, u.completion_tokens
                    );
                }
            }
            Ok(StreamItem::Comment(_)) => {}
            Err(e) => {
                eprintln!("\nerror: {e}");
                std::process::exit(1);
            }
        }
    }
    println!();
}

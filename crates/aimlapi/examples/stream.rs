//! A streamed answer from Claude Haiku 4.5 on the AI/ML API: the text as it arrives, then the
//! token counts and the request id.
//!
//! ```sh
//! cargo run --example stream -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example stream -- "Tell me about mankind."
//! ```

mod common;

use std::io::Write;

use aimlapi::chat::StreamDelta;
use aimlapi::Provider;
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![],
    )
    .await;
    let prompt = setup
        .prompt
        .unwrap_or_else(|| "Hi! What do you think about mankind?".to_string());
    let mut stream = setup
        .client
        .chat("claude-haiku-4-5")
        .user(prompt)
        .stream()
        .await?;
    let mut out = std::io::stdout();
    while let Some(delta) = stream.next().await {
        match delta? {
            StreamDelta::Text(text) => {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            StreamDelta::Reasoning(thought) => eprint!("[thinking: {thought}]"),
            StreamDelta::Usage(u) => eprintln!(
                "\n[{} in, {} out; request id {:?}]",
                u.prompt_tokens,
                u.completion_tokens,
                stream.meta().request_id
            ),
            _ => {}
        }
    }
    println!();
    Ok(())
}

//! A streaming chat completion with Claude 3.5 Haiku on the AI/ML API, printing each piece of
//! text as it arrives.
//!
//! ```sh
//! cargo run --example stream -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example stream -- "Tell me about mankind."
//! ```

use std::io::Write;

use aimlapi::types::{Claude35HaikuRequest, KnownClaude35HaikuModelId};
use aimlapi::{Client, Provider, RequestOptions, StreamItem};
use futures::StreamExt;

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
        .unwrap_or_else(|| "Hi! What do you think about mankind?".to_string());
    let request: Claude35HaikuRequest = Claude35HaikuRequest::builder()
        .model(KnownClaude35HaikuModelId::AnthropicClaude35Haiku)
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

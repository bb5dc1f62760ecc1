//! Claude Sonnet 5 through Anthropic's Messages endpoint of the AI/ML API, thinking on: the
//! thinking streams first, then the answer; the whole message is folded at the end.
//!
//! ```sh
//! cargo run --example messages -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example messages -- "Is 1001 a prime?"
//! ```

mod common;

use std::io::Write;

use aimlapi::sse::{Fold, MessageAccumulator};
use aimlapi::types::{BlockDelta, MessageStreamEvent};
use aimlapi::Provider;
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![aimlapi_mock::Reply::text("No: 1001 = 7 × 11 × 13.")
            .thinking(
                "1001 is odd; try 7: 7 × 143 = 1001, and 143 = 11 × 13.",
                "sig-offline-example",
            )
            .usage(24, 61)],
    )
    .await;
    let question = setup
        .prompt
        .unwrap_or_else(|| "Is 1001 a prime?".to_string());
    let mut events = setup
        .client
        .chat("anthropic/claude-sonnet-5")
        .user(question)
        .max_tokens(4000)
        .thinking(2048)
        .stream_message()
        .await?;
    let mut fold = MessageAccumulator::new();
    let mut out = std::io::stdout();
    while let Some(event) = events.next().await {
        let event = event?;
        if let MessageStreamEvent::ContentBlockDeltaEvent(e) = &event {
            match &e.delta {
                Some(BlockDelta::ThinkingDelta(d)) => {
                    eprint!("{}", d.thinking.as_deref().unwrap_or_default())
                }
                Some(BlockDelta::TextDelta(d)) => {
                    let _ = out.write_all(d.text.as_deref().unwrap_or_default().as_bytes());
                    let _ = out.flush();
                }
                _ => {}
            }
        }
        if let MessageStreamEvent::ContentBlockStopEvent(_) = &event {
            eprintln!();
        }
        fold.push(&event)?;
    }
    let message = fold.finish()?;
    let (input, output) = message
        .usage
        .map(|u| (u.input_tokens, u.output_tokens))
        .unwrap_or_default();
    eprintln!(
        "\n[stop reason {:?}; {input:?} in, {output:?} out]",
        message.stop_reason
    );
    Ok(())
}

//! One conversation with Claude Sonnet 4.5, carried on with Claude Opus 5: each model gets it in
//! the request shape its page takes, and each answer is added to it for the next turn.
//!
//! ```sh
//! cargo run --example conversation -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example conversation -- "Name a prime number."
//! ```

mod common;

use aimlapi::{Conversation, Provider};

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![
            aimlapi_mock::Reply::text("7.").usage(18, 3),
            aimlapi_mock::Reply::text("11: the next prime after 7.").usage(31, 9),
        ],
    )
    .await;
    let client = setup.client;
    let question = setup
        .prompt
        .unwrap_or_else(|| "Name a prime number.".to_string());
    let mut conversation = Conversation::new()
        .system("Answer in one short sentence.")
        .user(question);
    let done = client
        .chat("claude-sonnet-4-5")
        .conversation(conversation.clone())
        .max_tokens(200)
        .send()
        .await?;
    println!("Sonnet 4.5: {}", done.text().unwrap_or_default());

    // The answer joins the conversation; Opus 5 (whose page takes no `temperature`) goes on.
    conversation.push(done.turn());
    let conversation = conversation.user("And the next one after it?");
    let done = client
        .chat("anthropic/claude-opus-5")
        .conversation(conversation)
        .max_tokens(200)
        .send()
        .await?;
    println!("Opus 5: {}", done.text().unwrap_or_default());
    if let Some(u) = done.usage() {
        eprintln!(
            "[{} in, {} out; finish reason {:?}; request id {:?}]",
            u.prompt_tokens,
            u.completion_tokens,
            done.finish_reason(),
            done.meta.request_id
        );
    }
    Ok(())
}

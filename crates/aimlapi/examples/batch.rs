//! A message batch: a few hundred prompts submitted at once, answered within a day at half the
//! price. Shows progress while it waits, a few answers, and what the batch cost beside what the
//! same calls would have cost one by one.
//!
//! ```sh
//! cargo run --example batch -- --offline   # against a local mock server
//! AIMLAPI_API_KEY=... cargo run --example batch
//! ```

mod common;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use aimlapi::batch::{BatchStatus, Wait};
use aimlapi::catalogue::Section;
use aimlapi::{Model, Provider};
use futures::StreamExt;

const MODEL: &str = "claude-sonnet-4-5-20250929";
const PROMPTS: usize = 300;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    // Offline, the mock ends a batch in three seconds (the vendor's hour, scaled) and reports
    // its counts as they move.
    let mock = aimlapi_mock::MockServer::builder()
        .batch_delay(Duration::from_secs(3))
        .batch_progress(true);
    let setup = common::setup_on(
        mock,
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        (0..PROMPTS)
            .map(|i| aimlapi_mock::Reply::text(format!("{} is {}.", i, parity(i))).usage(18, 6))
            .collect(),
    )
    .await;
    let client = setup.client;
    // The catalogue's prices, so each result's cost can be estimated.
    client.models().include(Section::Pricing).send().await?;

    let mut batch = client.batch();
    for i in 0..PROMPTS {
        let chat = client
            .chat(MODEL)
            .system("Answer in one short sentence.")
            .user(format!("Is {i} odd or even?"))
            .max_tokens(50);
        batch = batch.request(format!("q-{i:03}"), chat);
    }
    let batch = batch.submit().await?;
    // Keep this to pick the batch up again after a restart (`client.resume_batch(handle)`).
    let handle = serde_json::to_string(batch.handle()).expect("a handle serializes");
    eprintln!("submitted {PROMPTS} requests: {handle}");

    let wait = Wait::new()
        .interval(Duration::from_millis(250), Duration::from_secs(30))
        .deadline(Duration::from_secs(25 * 3600));
    let terminal = std::io::stderr().is_terminal();
    batch.wait(wait, |status| show(status, terminal)).await?;
    eprintln!();

    let mut answered = 0;
    let (mut batch_usd, mut one_by_one_usd) = (0.0, 0.0);
    let mut results = batch.results();
    while let Some(item) = results.next().await {
        let (id, answer) = item?;
        match answer {
            Ok(done) => {
                answered += 1;
                if answered <= 3 {
                    println!("{id}: {}", done.text().unwrap_or_default());
                }
                if let (Some(cost), Some(usage)) = (done.cost(), done.usage()) {
                    batch_usd += cost.usd;
                    let standard = client.model_facts(&Model::from_id(MODEL));
                    one_by_one_usd += standard.map_or(0.0, |f| f.price(&usage));
                }
            }
            Err(why) => println!("{id}: no answer: {why}"),
        }
    }
    println!("{answered} of {PROMPTS} answered");
    println!("the batch cost ${batch_usd:.6}; the same calls one by one: ${one_by_one_usd:.6}");
    Ok(())
}

fn parity(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "even"
    } else {
        "odd"
    }
}

/// A progress bar on a terminal, a line per status otherwise.
fn show(status: &BatchStatus, terminal: bool) {
    let share = status.progress();
    // Once ended, every request submitted has its result (the last poll reads no counts).
    let ended = status.requests.filter(|_| status.state.is_ended());
    let done = status.counts.map(|c| c.done()).or(ended).unwrap_or(0);
    if terminal {
        let filled = (share.unwrap_or(0.0) * 30.0).round() as usize;
        eprint!(
            "\r[{}{}] {:>3.0}% {done} answered ({:?})   ",
            "#".repeat(filled),
            ".".repeat(30 - filled.min(30)),
            share.unwrap_or(0.0) * 100.0,
            status.state
        );
        let _ = std::io::stderr().flush();
    } else {
        eprintln!("{:?}: {done} answered", status.state);
    }
}

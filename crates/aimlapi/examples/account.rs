//! The account: the balance, the last day's spend by model, the last calls with what each
//! cost, and which of three interchangeable models is fastest right now.
//!
//! ```sh
//! cargo run --example account -- --offline   # a local mock account, with a few calls made first
//! AIMLAPI_API_KEY=... cargo run --example account
//! ```

mod common;

use std::time::Duration;

use aimlapi::account::{fastest, Figure, Percentile, Window};
use aimlapi::Provider;
use futures::{StreamExt, TryStreamExt};

const MODELS: [&str; 3] = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5"];

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    let mock = aimlapi_mock::MockServer::builder().charge_delay(Duration::from_millis(100));
    let setup = common::setup_on(
        mock,
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        Vec::new(),
    )
    .await;
    let client = setup.client.clone();
    if let Some(mock) = setup.mock() {
        // Offline the account is empty: a few calls give it something to show, and the
        // metrics are scripted.
        for (i, model) in MODELS.iter().cycle().take(5).enumerate() {
            client
                .chat(*model)
                .user(format!("Question {i}"))
                .send()
                .await?;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        mock.set_metrics(Some(serde_json::json!({
            "window_seconds": 300,
            "models": {
                "claude-sonnet-4-5": {"ttft_ms": {"p50": 820, "p90": 1400}},
                "claude-haiku-4-5": {"ttft_ms": {"p50": 390, "p90": 2600}},
            }
        })));
    }
    let account = client.account();

    let balance = account.balance().await?;
    println!(
        "balance: {:.6} {}",
        balance.current_balance.unwrap_or_default(),
        balance.currency.as_deref().unwrap_or("USD")
    );

    let day = account
        .usage_detail(Window::days(1), Some("model"), None)
        .await?;
    println!("\nthe last day, by model:");
    println!("  {:<28} {:>9} {:>12}", "model", "requests", "spend (USD)");
    for m in day.models.unwrap_or_default() {
        println!(
            "  {:<28} {:>9} {:>12.6}",
            m.model.as_deref().unwrap_or("?"),
            m.requests.unwrap_or_default(),
            m.spend.unwrap_or_default()
        );
    }

    println!("\nthe last calls:");
    // The newest five: one page of five, and no more asked for.
    let last: Vec<_> = account
        .logs(Window::hours(24))
        .page_size(5)
        .rows()
        .take(5)
        .try_collect()
        .await?;
    for row in last {
        println!(
            "  {}  {:<9} {:<28} {:>10.6} USD",
            row.created.as_deref().unwrap_or("?"),
            row.status.as_deref().unwrap_or("?"),
            row.model.as_deref().unwrap_or("?"),
            row.cost.and_then(|c| c.usd).unwrap_or_default()
        );
    }

    let metrics = account.model_metrics(&MODELS).await?;
    let pick = fastest(&metrics, &MODELS, Figure::TtftMs, Percentile::P50);
    println!(
        "\nfastest to a first token now (median): {}",
        pick.unwrap_or("none")
    );
    Ok(())
}

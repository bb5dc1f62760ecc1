//! One client over two gateways: calls move from the AI/ML API to OpenRouter while the first is
//! overloaded, the breaker keeps them off it, and a probe after the cool-down brings them back.
//!
//! ```sh
//! cargo run --example failover -- --offline   # two local mocks, the first overloaded for 3 s
//! AIMLAPI_API_KEY=... OPENROUTER_API_KEY=... cargo run --example failover
//! ```

use std::time::{Duration, Instant};

use aimlapi::failover::{BreakerPolicy, FailoverPolicy};
use aimlapi::{Client, Provider, RetryPolicy};
use aimlapi_mock::{MockServer, Outage};

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    let offline = std::env::args().any(|a| a == "--offline");
    // Offline: two mocks, one per gateway; the first plays a 3 s overload.
    let mocks = match offline {
        true => {
            let a = MockServer::start().await;
            let b = MockServer::start().await;
            a.outage(Outage::overloaded(Duration::from_secs(3)));
            eprintln!("[offline: two local mock gateways, the first overloaded for 3 s]");
            Some((a, b))
        }
        false => None,
    };
    let mut first = Client::builder()
        .provider(Provider::AimlApi)
        .retry(RetryPolicy {
            max_retries: 1,
            ..RetryPolicy::default()
        });
    let mut second = Client::builder().provider(Provider::open_router());
    if let Some((a, b)) = &mocks {
        first = first.base_url(a.base_url()).api_key("offline-a");
        second = second
            .base_url(format!("{}/api", b.base_url()))
            .api_key("offline-b");
    }
    let client = first
        .fallback(second)
        .failover(FailoverPolicy {
            breaker: BreakerPolicy {
                failures: 3,
                cool_down: Duration::from_secs(1),
                ..BreakerPolicy::default()
            },
            ..FailoverPolicy::default()
        })
        .build()?;

    let began = Instant::now();
    for i in 0..12 {
        let done = client
            .chat("claude-sonnet-4-5")
            .user(format!("Question {i}: one word for the sea?"))
            .max_tokens(20)
            .send()
            .await?;
        let moved = match &done.meta.moved_from {
            Some(from) => format!(" (moved from {from})"),
            None => String::new(),
        };
        println!(
            "{:>5.1} s  call {i:>2}: answered by {}{moved}",
            began.elapsed().as_secs_f64(),
            done.meta.gateway,
        );
        for g in client.gateways() {
            println!("           {:<10} {:?}", g.name, g.state);
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    Ok(())
}

//! The Claude models of the AI/ML API's catalogue, with context, output limit and prices, as a
//! table. The catalogue needs no key; a second listing is answered from the client's cache when
//! the server says nothing changed (`304`).
//!
//! ```sh
//! cargo run --example models -- --offline   # against a local mock server
//! cargo run --example models
//! ```

use aimlapi::catalogue::Section;
use aimlapi::{Client, Provider};
use aimlapi_mock::MockServer;

#[tokio::main]
async fn main() -> Result<(), aimlapi::Error> {
    let offline = std::env::args().any(|a| a == "--offline");
    let mock = if offline {
        eprintln!(
            "[offline: the catalogue of a local mock server, its own test data, not the vendor's]"
        );
        Some(MockServer::start().await)
    } else {
        None
    };
    // No key needed: the AI/ML API's address, as a custom provider (no key is asked for).
    let base_url = match &mock {
        Some(m) => m.base_url().to_string(),
        None => Provider::AimlApi.base_url().to_string(),
    };
    let client = Client::builder()
        .provider(Provider::Custom { base_url })
        .build()?;
    let catalogue = client
        .models()
        .include(Section::Pricing)
        .tag("playground:chat")
        .send()
        .await?;
    println!(
        "{:<38} {:>9} {:>8} {:>10} {:>10} {:>10}",
        "model", "context", "output", "in $/M", "out $/M", "read $/M"
    );
    let mut shown = 0;
    for m in catalogue.models() {
        let Some(id) = m.id.as_deref().filter(|id| id.contains("claude")) else {
            continue;
        };
        shown += 1;
        match catalogue.facts(id) {
            Some(f) => println!(
                "{id:<38} {:>9} {:>8} {:>10.2} {:>10.2} {:>10.3}",
                f.context_window,
                f.max_output_tokens,
                f.input_usd_per_mtok,
                f.output_usd_per_mtok,
                f.cache_read_usd_per_mtok
            ),
            None => println!("{id:<38} (no token prices listed)"),
        }
    }
    let again = client
        .models()
        .include(Section::Pricing)
        .tag("playground:chat")
        .send()
        .await?;
    eprintln!(
        "{shown} Claude models; listed again: {}",
        if again.from_cache() {
            "unchanged (304), from the client's cache"
        } else {
            "the server sent it whole"
        }
    );
    Ok(())
}

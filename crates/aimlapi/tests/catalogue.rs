//! The model catalogue through the mock (its own test data): sections, filters, the ETag cache,
//! the lookup of one model, the facts a listing with prices gives; OpenRouter's generation stats.

use aimlapi::catalogue::Section;
use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use aimlapi_mock::MockServer;

mod common;

fn client(base_url: String) -> Client {
    Client::builder()
        .provider(Provider::Custom { base_url })
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn listings_with_and_without_sections_and_filters() {
    let mock = MockServer::start().await;
    let c = client(mock.base_url().to_string());

    // The default projection: identity only, no prices.
    let all = c.models().send().await.unwrap();
    assert!(all.models().len() > 20, "{}", all.models().len());
    assert!(all.models().iter().all(|m| m.pricing.is_none()));
    assert!(!all.from_cache());
    assert_eq!(all.facts("claude-sonnet-4-5"), None);

    // With prices: the facts of a model found by an alias.
    let priced = c.models().include(Section::Pricing).send().await.unwrap();
    let sonnet = priced
        .find("claude-sonnet-4-5")
        .expect("found by its alias");
    assert_eq!(sonnet.id.as_deref(), Some("anthropic/claude-sonnet-4.5"));
    let facts = priced.facts("CLAUDE-SONNET-4-5").unwrap();
    assert_eq!(
        (
            facts.context_window,
            facts.input_usd_per_mtok,
            facts.output_usd_per_mtok
        ),
        (200_000, 3.0, 15.0)
    );

    // Filtered by an alias: that one model, under its canonical id.
    let one = c.models().id("claude-sonnet-4-5").send().await.unwrap();
    let ids: Vec<_> = one.models().iter().map(|m| m.id.clone().unwrap()).collect();
    assert_eq!(ids, ["anthropic/claude-sonnet-4.5"]);

    // By capability (OR within, AND with another filter): every model listed declares it.
    let vision = c
        .models()
        .include(Section::Capabilities)
        .capability("vision")
        .send()
        .await
        .unwrap();
    assert!(!vision.models().is_empty());
    assert!(vision.models().len() < all.models().len());
    for m in vision.models() {
        assert!(
            m.capabilities.iter().flatten().any(|c| c == "vision"),
            "{:?}",
            m.id
        );
    }
    let image_out = c
        .models()
        .capability("vision")
        .output_modality("image")
        .send()
        .await
        .unwrap();
    assert!(
        image_out.models().is_empty(),
        "no model both sees and draws here"
    );

    // What the server received.
    let queries: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.path, r.query))
        .collect();
    assert!(
        queries.contains(&"/v1/models include=pricing".to_string()),
        "{queries:?}"
    );
}

#[tokio::test]
async fn a_second_listing_is_answered_from_the_cache_after_a_304() {
    let mock = MockServer::start().await;
    let c = client(mock.base_url().to_string());
    let first = c.models().include(Section::Pricing).send().await.unwrap();
    let second = c.models().include(Section::Pricing).send().await.unwrap();
    assert!(!first.from_cache());
    assert!(second.from_cache());
    assert_eq!(
        serde_json::to_value(first.list()).unwrap(),
        serde_json::to_value(second.list()).unwrap()
    );
    let requests = mock.requests();
    let (a, b) = (&requests[0], &requests[1]);
    assert_eq!(a.header("if-none-match"), None);
    let tag = b
        .header("if-none-match")
        .expect("the second asks with the ETag");
    assert!(tag.starts_with("W/\""), "{tag}");
    // Another listing (another query) has its own tag: sent whole.
    let other = c.models().id("claude-sonnet-4-5").send().await.unwrap();
    assert!(!other.from_cache());
}

#[tokio::test]
async fn one_model_by_id_or_alias_and_its_facts_price_the_client_s_calls() {
    let mock = MockServer::start().await;
    let c = client(mock.base_url().to_string());
    let m = c
        .model("anthropic/claude-sonnet-4.5", &[Section::Pricing])
        .await
        .unwrap();
    assert_eq!(m.aliases.as_deref().unwrap()[0], "claude-sonnet-4-5");
    assert!(m.pricing.is_some());
    let by_alias = c.model("claude-sonnet-4-5", &[]).await.unwrap();
    assert_eq!(by_alias.id, m.id);
    let err = c.model("no-such-model", &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // Sonnet 4.5 has no prices in this crate's own table; the lookup gave them.
    let sonnet = aimlapi::Model::from_id("claude-sonnet-4-5");
    assert_eq!(sonnet.facts(), None);
    let facts = c.model_facts(&sonnet).unwrap();
    assert_eq!(facts.input_usd_per_mtok, 3.0);
    let aiml = Client::builder()
        .base_url(mock.base_url())
        .api_key("k")
        .build()
        .unwrap();
    aiml.model("claude-sonnet-4-5", &[Section::Pricing])
        .await
        .unwrap();
    let done = aiml
        .chat("claude-sonnet-4-5")
        .user("Hi")
        .send()
        .await
        .unwrap();
    assert_eq!(done.meta.facts, Some(facts));
    let usage = done.usage().unwrap();
    let expected = facts.price(&usage);
    assert_eq!(done.estimated_cost(), Some(expected));
}

#[tokio::test]
async fn openrouter_generation_stats_parse() {
    let mock = MockServer::start().await;
    let or = common::openrouter_client(mock.base_url());
    let done = or
        .chat("anthropic/claude-3.5-haiku")
        .user("Hi")
        .send()
        .await
        .unwrap();
    let id = done.value.id.clone().unwrap();
    assert_eq!(done.meta.generation_id.as_deref(), Some(id.as_str()));
    let stats = or.generation(&id).await.unwrap();
    assert_eq!(stats.id.as_deref(), Some(id.as_str()));
    let usage = done.usage().unwrap();
    assert_eq!(stats.tokens_prompt, Some(usage.prompt_tokens as i64));
    let cost = done.cost().unwrap();
    assert_eq!(stats.total_cost, Some(cost.usd));
    let err = or.generation("gen-unknown").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

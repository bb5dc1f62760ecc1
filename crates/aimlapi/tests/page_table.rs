//! The page table against the typed setters: for every bundled request body and every property
//! it takes, a conversation that sets the property through its typed setter on `Chat` passes
//! the checks and produces a body that validates against that body's schema. The table is the
//! generated `MODEL_PAGES`: a page that gains a property fails here until a setter writes it
//! (or the property is one the client sets itself, listed in `SET_BY_THE_CLIENT`).

use aimlapi::chat::{
    Plugin, ReasoningSettings, SearchFilters, ThinkingMode, ToolChoice, Unsupported,
};
use aimlapi::tools::ToolSpec;
use aimlapi::types::{self, ModelPage, WireShape, MODEL_PAGES};
use aimlapi::{Chat, Client, Provider};
use aimlapi_mock::{MockServer, Reply};
use serde_json::{json, Value};

mod common;

/// What the client writes itself: `model` (the chat's model), `messages` (its conversation),
/// `stream` and `stream_options` (set by `stream()`, with `include_usage` where the page takes
/// it; a stream's body is validated by the mock in the streaming tests).
const SET_BY_THE_CLIENT: &[&str] = &["model", "messages", "stream", "stream_options"];

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a value of the generated type")
}

fn lookup() -> ToolSpec {
    ToolSpec::from_schema(
        "lookup",
        Some("Looks a word up."),
        json!({"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]}),
    )
    .unwrap()
}

/// `chat` with `property` set through its typed setter; `None` for a property no setter writes.
fn set(chat: Chat, page: &ModelPage, property: &str) -> Option<Chat> {
    let filters = |f: SearchFilters| chat.clone().search_filters(&f);
    Some(match property {
        "max_tokens" => chat.max_tokens(500),
        "temperature" => chat.temperature(0.5),
        "top_p" => chat.top_p(0.9),
        "top_k" => chat.top_k(20),
        "stop" | "stop_sequences" => chat.stop(["END"]),
        "system" => chat.system("Be brief."),
        "metadata" => chat.user_id("user-123"),
        "thinking" => match page.thinking.first().copied() {
            Some("adaptive") => chat.thinking(ThinkingMode::Adaptive),
            Some("disabled") => chat.thinking(ThinkingMode::Disabled),
            _ => chat.max_tokens(4000).thinking(2048),
        },
        "tools" => chat.tool(lookup()),
        "tool_choice" => chat.tool(lookup()).tool_choice(ToolChoice::any()),
        "parallel_tool_calls" => chat
            .tool(lookup())
            .tool_choice(ToolChoice::auto().parallel(false)),
        "models" => chat.fallback_models(["anthropic/claude-3-haiku"]),
        "reasoning" => chat.reasoning(ReasoningSettings::effort(types::ReasoningEffort::Low)),
        "seed" => chat.seed(42),
        "frequency_penalty" => chat.frequency_penalty(0.5),
        "presence_penalty" => chat.presence_penalty(0.5),
        "repetition_penalty" => chat.repetition_penalty(1.1),
        "min_p" => chat.min_p(0.05),
        "top_a" => chat.top_a(0.2),
        "logit_bias" => chat.logit_bias([(50256, -100), (1000, 5)]),
        "logprobs" => chat.logprobs(true),
        "top_logprobs" => chat.top_logprobs(3),
        "n" => chat.n(2),
        "reasoning_effort" => chat.reasoning_effort(types::ReasoningEffort::Low),
        "web_search_options" => chat.web_search_options(typed(json!({
            "search_context_size": "low",
            "user_location": {"type": "approximate", "approximate": {"country": "NO"}}
        }))),
        "prediction" => chat.prediction("The answer is"),
        "max_completion_tokens" => chat.max_completion_tokens(500),
        "audio" => chat
            .modalities([types::Modality::Text, types::Modality::Audio])
            .audio(typed(json!({"format": "mp3", "voice": "alloy"}))),
        "modalities" => chat.modalities([types::Modality::Text]),
        "response_format" => chat.response_format(typed(json!({"type": "json_object"}))),
        "provider" if page.shape != WireShape::OpenRouter => chat.upstream("auto"),
        "provider" => chat.provider(typed(json!({
            "order": ["anthropic"], "allow_fallbacks": false, "data_collection": "deny",
            "require_parameters": true, "sort": "price"
        }))),
        "plugins" => chat.plugins([Plugin::web().setting("max_results", 3)]),
        "transforms" => chat.transforms(["middle-out"]),
        "echo" => chat.echo(false),
        "normalize_tool_schemas" => chat.normalize_tool_schemas(true),
        "search_mode" => filters(SearchFilters {
            mode: Some("web".into()),
            ..SearchFilters::default()
        }),
        "search_recency_filter" => filters(SearchFilters {
            recency: Some("week".into()),
            ..SearchFilters::default()
        }),
        "search_domain_filter" => filters(SearchFilters {
            domains: vec!["docs.rs".into(), "-example.com".into()],
            ..SearchFilters::default()
        }),
        "search_after_date_filter" => filters(SearchFilters {
            published_after: Some("3/1/2026".into()),
            ..SearchFilters::default()
        }),
        "search_before_date_filter" => filters(SearchFilters {
            published_before: Some("12/1/2026".into()),
            ..SearchFilters::default()
        }),
        "last_updated_after_filter" => filters(SearchFilters {
            updated_after: Some("3/1/2026".into()),
            ..SearchFilters::default()
        }),
        "last_updated_before_filter" => filters(SearchFilters {
            updated_before: Some("12/1/2026".into()),
            ..SearchFilters::default()
        }),
        "return_images" => filters(SearchFilters {
            return_images: Some(true),
            ..SearchFilters::default()
        }),
        "return_related_questions" => filters(SearchFilters {
            return_related_questions: Some(true),
            ..SearchFilters::default()
        }),
        _ => return None,
    })
}

#[tokio::test]
async fn every_property_of_every_page_has_a_setter_whose_body_validates() {
    let mock = MockServer::start().await;
    let aiml = common::test_client(Provider::AimlApi, mock.base_url());
    let openrouter: Client = common::openrouter_client(mock.base_url());
    let mut missing = Vec::new();
    let mut checked = 0;
    let mut shadowed = Vec::new();
    for page in MODEL_PAGES {
        let client = match page.shape {
            WireShape::OpenRouter => &openrouter,
            _ => &aiml,
        };
        // An id the client reads this page for (an id several pages list belongs to the first).
        let owns = |id: &&&str| {
            let m = aimlapi::Model::from_id(id);
            let own = if page.shape.is_messages() {
                m.messages_page()
            } else {
                m.page()
            };
            own.is_some_and(|p| p.page == page.page)
        };
        let Some(model) = page.ids.iter().find(owns).copied() else {
            shadowed.push(page.page);
            continue;
        };
        for property in page.properties {
            if SET_BY_THE_CLIENT.contains(property) {
                continue;
            }
            let base = client.chat(model).user("Look up 'tea'.");
            let Some(chat) = set(base, page, property) else {
                missing.push(format!("{}: {property}", page.page));
                continue;
            };
            let chat = chat.unsupported(Unsupported::Refuse);
            let body = if page.shape.is_messages() {
                mock.push(Reply::text("ok"));
                chat.send_message()
                    .await
                    .unwrap_or_else(|e| panic!("{} `{property}`: {e}", page.page));
                mock.requests().pop().unwrap().body
            } else {
                chat.body()
                    .unwrap_or_else(|e| panic!("{} `{property}`: {e}", page.page))
            };
            assert!(
                body.get(*property).is_some(),
                "{} `{property}` is not in the body: {body:#}",
                page.page
            );
            common::assert_valid_against(page.page, &body);
            checked += 1;
        }
    }
    assert!(
        missing.is_empty(),
        "properties without a setter:\n{}",
        missing.join("\n")
    );
    assert!(checked > 300, "only {checked} (page, property) pairs");
    println!("{checked} (page, property) pairs set, checked and validated");
    if !shadowed.is_empty() {
        println!(
            "NOT CHECKED: pages whose every id the client reads from an earlier page: {shadowed:?}"
        );
    }
}

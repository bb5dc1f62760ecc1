//! Every request body the seeds show builds through the generated types and serializes to the
//! documented JSON; the model field takes any id.

use aimlapi_tests::fixture_json;
use aimlapi_types::*;
use serde::Serialize;
use serde_json::{json, Value};

fn user(text: &str) -> Message {
    UserMessage::builder()
        .role(UserMessageRole::User)
        .content(UserContent::String(text.into()))
        .try_into()
        .map(Message::UserMessage)
        .expect("a complete user message")
}

fn haiku(model: ModelId, text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::builder()
        .model(model)
        .messages(vec![user(text)])
        .try_into()
        .expect("a complete request")
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn seed_000_request_serializes_as_documented() {
    let req = haiku(KnownModelId::Claude35HaikuLatest.into(), "Hello");
    assert_eq!(to_json(&req), fixture_json("seed-000-request.json"));
    insta::assert_json_snapshot!(req);
}

#[test]
fn seed_001_request_serializes_as_documented_in_the_anthropic_dialect() {
    let message: AnthropicMessage =
        serde_json::from_value(json!({"role": "user", "content": "Hello"})).unwrap();
    let req: AnthropicChatRequest = AnthropicChatRequest::builder()
        .model(ModelId::from(KnownModelId::Claude35SonnetLatest))
        .messages(vec![message])
        .try_into()
        .unwrap();
    assert_eq!(to_json(&req), fixture_json("seed-001-request.json"));
    insta::assert_json_snapshot!(req);
}

#[test]
fn seed_003_requests_serialize_as_documented() {
    // `claude-3-5-haiku` is not in the document's enum: it passes through as it is.
    let hello = haiku(ModelId::String("claude-3-5-haiku".into()), "Hello");
    assert_eq!(to_json(&hello), fixture_json("seed-003-request-hello.json"));

    let mankind = haiku(
        KnownModelId::AnthropicClaude35Haiku.into(),
        "Hi! What do you think about mankind?",
    );
    assert_eq!(
        to_json(&mankind),
        fixture_json("seed-003-request-mankind.json")
    );

    let mut stream = mankind.clone();
    stream.stream = Some(true);
    assert_eq!(
        to_json(&stream),
        fixture_json("seed-003-request-stream.json")
    );
    insta::assert_json_snapshot!(
        "seed_003_requests",
        [to_json(&hello), to_json(&mankind), to_json(&stream)]
    );
}

#[test]
fn seed_002_openrouter_request_carries_the_openrouter_model_id() {
    let req: OpenRouterRequest = OpenRouterRequest::builder()
        .model(OpenRouterModelId::from(
            KnownOpenRouterModelId::AnthropicClaude35Haiku,
        ))
        .messages(vec![user("Hello")])
        .top_k(Some(0))
        .provider(Some(ProviderRouting {
            order: vec!["Anthropic".into()],
            allow_fallbacks: Some(false),
            ..Default::default()
        }))
        .try_into()
        .unwrap();
    let v = to_json(&req);
    assert_eq!(v["model"], "anthropic/claude-3.5-haiku");
    assert_eq!(
        v["provider"],
        json!({"order": ["Anthropic"], "allow_fallbacks": false})
    );
    insta::assert_json_snapshot!(req);
}

#[test]
fn model_ids_parse_known_or_pass_through() {
    let known: ModelId = serde_json::from_value(json!("claude-3-5-haiku-latest")).unwrap();
    assert!(matches!(
        known,
        ModelId::KnownModelId(KnownModelId::Claude35HaikuLatest)
    ));
    let other: ModelId = serde_json::from_value(json!("claude-3-5-haiku")).unwrap();
    assert!(matches!(&other, ModelId::String(s) if s == "claude-3-5-haiku"));
    // Every id seed 001 lists for Claude 3.5 Sonnet is a known id.
    for id in [
        "anthropic/claude-3.5-sonnet",
        "anthropic/claude-3.5-sonnet-20240620",
        "anthropic/claude-3.5-sonnet-20241022",
        "claude-3-5-sonnet-20240620",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-sonnet-latest",
    ] {
        let m: ModelId = serde_json::from_value(json!(id)).unwrap();
        assert!(matches!(m, ModelId::KnownModelId(_)), "{id}");
        assert_eq!(to_json(&m), json!(id));
    }
}

/// typify derives one name for the system message's content (text parts only) and the user
/// message's (text, image, audio and file parts) and keeps whichever came first (typify#695); the
/// xtask names them itself (`SystemContent`, `UserContent`) and checks nothing was lost. This is
/// the user-visible half: an image part goes through, in both directions.
#[test]
fn a_user_message_with_an_image_url_part_round_trips() {
    let wire = json!({"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}
    ]});
    let built = Message::UserMessage(UserMessage {
        role: UserMessageRole::User,
        name: None,
        content: UserContent::Array(vec![
            serde_json::from_value(json!({"type": "text", "text": "What is in this picture?"}))
                .unwrap(),
            serde_json::from_value(json!({"type": "image_url",
                "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}))
            .unwrap(),
        ]),
    });
    assert_eq!(to_json(&built), wire);
    let parsed: Message = serde_json::from_value(wire.clone()).unwrap();
    let Message::UserMessage(UserMessage {
        content: UserContent::Array(parts),
        ..
    }) = &parsed
    else {
        panic!("parsed as {parsed:?}")
    };
    assert!(
        matches!(&parts[1], UserContentPart::ImageUrlPart(p) if to_json(&p.image_url.url) == "https://example.com/cat.png")
    );
    assert_eq!(to_json(&parsed), wire);
    // The system message's content stays text-only: an image part is refused there.
    let system_with_image =
        json!({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]});
    assert!(serde_json::from_value::<SystemMessage>(system_with_image).is_err());
}

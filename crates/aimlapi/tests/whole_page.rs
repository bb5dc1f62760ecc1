//! The whole page from the conversation API: requests to the Messages endpoint checked against
//! the Messages shape (not the model's chat page), tool choice in each dialect, tools from JSON
//! schemas and server tools, structured outputs on every page, turns sent back as they came.

use aimlapi::chat::{Cache, ThinkingDisplay, ThinkingMode};
use aimlapi::{Client, ErrorKind, Provider, RequestOptions};
use aimlapi_mock::MockServer;
use serde_json::{json, Value};

mod common;

fn client(mock: &MockServer) -> Client {
    common::test_client(Provider::AimlApi, mock.base_url())
}

/// `claude-haiku-4-5` has a chat page and no Messages page: what the Messages shape documents
/// goes to `/v1/messages` for it, whatever the chat page says.
#[tokio::test]
async fn the_messages_shape_decides_on_the_messages_endpoint() {
    let mock = MockServer::start().await;
    let aiml = client(&mock);
    let model = "claude-haiku-4-5";
    assert!(aimlapi::Model::from_id(model).messages_page().is_none());
    let base = || {
        aiml.chat(model)
            .system("You answer from the handbook.")
            .cache(Cache::OneHour)
            .user("What does chapter 2 say?")
            .cache(Cache::FiveMinutes)
            .max_tokens(4000)
            .stop(["END"])
    };
    base()
        .send_message()
        .await
        .expect("cache_control and stop_sequences are sent");
    let body = mock.requests().pop().unwrap().body;
    assert_eq!(body["system"][0]["cache_control"]["ttl"], "1h");
    assert_eq!(
        body["messages"][0]["content"][0]["cache_control"]["ttl"],
        "5m"
    );
    assert_eq!(body["stop_sequences"], json!(["END"]));
    for mode in [
        ThinkingMode::Enabled {
            budget_tokens: 2048,
        },
        ThinkingMode::Adaptive,
        ThinkingMode::Disabled,
    ] {
        base()
            .thinking(mode)
            .send_message()
            .await
            .unwrap_or_else(|e| panic!("thinking {} refused: {e}", mode.kind()));
        let body = mock.requests().pop().unwrap().body;
        assert_eq!(body["thinking"]["type"], mode.kind());
    }
    base()
        .thinking(ThinkingMode::Adaptive)
        .thinking_display(ThinkingDisplay::Omitted)
        .send_message()
        .await
        .expect("display is in the Messages shape");
    assert_eq!(
        mock.requests().pop().unwrap().body["thinking"]["display"],
        "omitted"
    );

    // What no page of the endpoint lists is refused before sending, naming it, and goes with
    // the opt-in.
    let sent = mock.requests().len();
    let refused = base()
        .fallback_models(["claude-sonnet-4-5"])
        .send_message()
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unsupported);
    let text = refused.to_string();
    assert!(
        text.contains("`models`") && text.contains("send_unsupported"),
        "{text}"
    );
    assert_eq!(mock.requests().len(), sent, "nothing was sent");
    base()
        .fallback_models(["claude-sonnet-4-5"])
        .options(RequestOptions {
            send_unsupported: true,
            ..RequestOptions::default()
        })
        .send_message()
        .await
        .ok();
    assert_eq!(
        mock.requests().pop().unwrap().body["models"],
        json!(["claude-sonnet-4-5"])
    );
}

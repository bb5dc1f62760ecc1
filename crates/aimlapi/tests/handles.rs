//! The handles a client gives out own a cheap clone of its transport: they outlive the client
//! and move into a task, as reqwest's `RequestBuilder` does.

fn owned<T: Send + 'static>(value: T) -> T {
    value
}

#[tokio::test]
async fn a_chat_and_a_catalogue_query_outlive_their_client_and_move_into_a_task() {
    let client = aimlapi::Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("test-key")
        .build()
        .unwrap();
    let chat = owned(client.chat("claude-sonnet-4-5").user("Hello"));
    let query = owned(client.models());
    drop(client);
    let body = tokio::spawn(async move { chat.body() })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(body["messages"][0]["content"], "Hello");
    tokio::spawn(async move { drop(query) }).await.unwrap();
}

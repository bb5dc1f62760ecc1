//! The generated clients reach `https://` URLs on their own with the default features: a TLS
//! ClientHello arrives at a loopback listener (which reads it and hangs up).

use aimlapi_client::chat_completion::Client;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn an_https_url_gets_a_tls_client_hello() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 3];
        socket.read_exact(&mut head).await.unwrap();
        head
    });
    let client = Client::new(&format!("https://127.0.0.1:{port}"), Default::default());
    let body: aimlapi_types::ChatCompletionRequest = serde_json::from_value(serde_json::json!({
        "model": "claude-3-5-haiku-latest",
        "messages": [{"role": "user", "content": "Hello"}],
    }))
    .unwrap();
    assert!(client.create_chat_completion(&body).await.is_err());
    let head = tokio::time::timeout(std::time::Duration::from_secs(10), first_bytes)
        .await
        .expect("no connection reached the listener")
        .unwrap();
    assert_eq!(head[..2], [22, 3], "not a TLS handshake: {head:?}");
}

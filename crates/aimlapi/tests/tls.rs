//! HTTPS works with whichever TLS feature the crate was built with: a client sends a TLS
//! ClientHello to an `https://` URL (a loopback listener reads it and hangs up; nothing leaves
//! the machine). CI runs this with the default features (ring), with `rustls-ring` alone and
//! with `rustls-aws-lc` alone.

use std::time::Duration;

use aimlapi::{Client, ErrorKind, Provider, RetryPolicy};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

mod common;

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
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(format!("https://127.0.0.1:{port}"))
        .api_key("k")
        .retry(RetryPolicy::none())
        .request_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = client.chat_completion(&common::hello()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    // A TLS record: handshake (22), protocol version 3.x.
    let head = tokio::time::timeout(std::time::Duration::from_secs(10), first_bytes)
        .await
        .expect("no connection reached the listener")
        .unwrap();
    assert_eq!(head[..2], [22, 3], "not a TLS handshake: {head:?}");
}

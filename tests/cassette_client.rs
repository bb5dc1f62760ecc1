//! The one line a service's test starts from: a replaying mock and a client pointed at it.

use aimlapi_mock::{Cassettes, MockServer, Mode, Reply};

#[tokio::test]
async fn a_service_test_replays_its_cassette_in_one_line() {
    let dir = std::env::temp_dir().join(format!("aimlapi-cassette-client-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // Recorded once in front of a stand-in gateway...
    let gateway = MockServer::start().await;
    gateway.push(Reply::text("Paris."));
    let recorder = MockServer::builder()
        .cassettes(
            Cassettes::new(&dir)
                .mode(Mode::RecordAll)
                .upstream(gateway.base_url()),
        )
        .start()
        .await
        .unwrap();
    let asked = recorder
        .client()
        .chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .send()
        .await
        .unwrap();
    drop((recorder, gateway));
    assert!(dir
        .join("cassette_client.a_service_test_replays_its_cassette_in_one_line.json")
        .is_file());

    // ... replayed with nothing behind it.
    let (_mock, client) = MockServer::replay_client(&dir).await.unwrap();
    let replayed = client
        .chat("claude-sonnet-4-5")
        .user("Capital of France?")
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.text().as_deref(), Some("Paris."));
    assert_eq!(
        serde_json::to_value(&replayed.value).unwrap(),
        serde_json::to_value(&asked.value).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! What the examples share: a client for the real API from the environment's key, or, with
//! `--offline`, for a local mock server, which says plainly that its answers are a replay.

// Each example uses part of this.
#![allow(dead_code)]

use aimlapi::{Client, Provider};
use aimlapi_mock::{MockBuilder, MockServer, Reply};

/// A client, the prompt from the command line, and the mock it talks to when offline.
pub struct Setup {
    pub client: Client,
    pub prompt: Option<String>,
    /// Kept alive for as long as the client is used.
    _mock: Option<MockServer>,
}

impl Setup {
    /// The mock, when offline.
    pub fn mock(&self) -> Option<&MockServer> {
        self._mock.as_ref()
    }
}

/// Builds the client for `provider`. Without a key (and without `--offline`) it prints what to
/// set, `key_help`, and exits with status 2. Offline, the mock plays `script` (or, when empty,
/// the documented answer).
pub async fn setup(provider: Provider, key_help: &str, script: Vec<Reply>) -> Setup {
    setup_on(MockServer::builder(), provider, key_help, script).await
}

/// [`setup`] with the mock set up as `mock` says when offline.
pub async fn setup_on(
    mock: MockBuilder,
    provider: Provider,
    key_help: &str,
    script: Vec<Reply>,
) -> Setup {
    let offline = std::env::args().any(|a| a == "--offline");
    let mock = if offline {
        let what = if script.is_empty() {
            "a replay of the documented answer"
        } else {
            "a scripted replay"
        };
        eprintln!("[offline: {what} from a local mock server, not the model]");
        let mock = mock.start().await.expect("bind 127.0.0.1");
        script.into_iter().for_each(|r| mock.push(r));
        Some(mock)
    } else {
        None
    };
    let mut builder = Client::builder().provider(provider);
    if let Some(mock) = &mock {
        builder = builder.base_url(mock.base_url()).api_key("offline");
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(_) => {
            eprintln!("no key: set {key_help} and run again, or pass --offline");
            std::process::exit(2);
        }
    };
    Setup {
        client,
        prompt: std::env::args().skip(1).find(|a| a != "--offline"),
        _mock: mock,
    }
}

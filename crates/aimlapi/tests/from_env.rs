//! `Client::from_env` reports what really went wrong. One test, in a binary of its own, because
//! it sets process-wide environment variables.

use aimlapi::provider::ProviderKind;
use aimlapi::{Client, ErrorKind};

fn set(aiml: Option<&str>, openrouter: Option<&str>) {
    for (var, value) in [
        ("AIMLAPI_API_KEY", aiml),
        ("OPENROUTER_API_KEY", openrouter),
    ] {
        match value {
            Some(v) => std::env::set_var(var, v),
            None => std::env::remove_var(var),
        }
    }
}

#[test]
fn from_env_reports_the_real_cause() {
    set(None, None);
    let err = Client::from_env().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = err.to_string();
    assert!(
        text.contains("AIMLAPI_API_KEY") && text.contains("OPENROUTER_API_KEY"),
        "{text}"
    );

    // A key with a line break in it is set: the error says so, not "no API key".
    set(Some("sk-abc\ndef"), None);
    let err = Client::from_env().unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("no API key"), "{text}");
    assert!(
        text.contains("AIMLAPI_API_KEY") && text.contains("header cannot carry"),
        "{text}"
    );
    assert!(
        !text.contains("sk-abc"),
        "the key stays out of errors: {text}"
    );

    set(None, Some("sk-or-\u{7f}x"));
    let text = Client::from_env().unwrap_err().to_string();
    assert!(
        text.contains("OPENROUTER_API_KEY") && text.contains("header cannot carry"),
        "{text}"
    );

    set(None, Some("sk-or-good"));
    assert_eq!(
        Client::from_env().unwrap().provider().kind(),
        ProviderKind::OpenRouter
    );
    set(Some("sk-good"), Some("sk-or-good"));
    assert_eq!(
        Client::from_env().unwrap().provider().kind(),
        ProviderKind::AimlApi
    );
    set(None, None);
}

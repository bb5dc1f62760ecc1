//! A tool loop: the model may call `get_weather`, whose arguments are a Rust type; the loop runs
//! it and sends the result back until the model answers.
//!
//! ```sh
//! cargo run --example tools -- --offline   # against a local mock server with a scripted call
//! AIMLAPI_API_KEY=... cargo run --example tools -- "Should I take an umbrella in Oslo?"
//! ```

use aimlapi::schemars::JsonSchema;
use aimlapi::types::{Claude35HaikuRequest, KnownClaude35HaikuModelId};
use aimlapi::{ChatResponse, Client, Provider, ToolLoop, ToolSpec, Toolbox};
use serde::{Deserialize, Serialize};

/// Get the current weather in a city.
#[derive(Debug, Deserialize, JsonSchema)]
struct GetWeather {
    /// The city, e.g. "Oslo".
    city: String,
    /// The temperature scale; Celsius when absent.
    unit: Option<Unit>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

#[derive(Serialize)]
struct Weather {
    city: String,
    temperature: f64,
    unit: &'static str,
    rain_chance: f64,
}

/// A stand-in for a real weather service.
async fn get_weather(args: GetWeather) -> Result<Weather, String> {
    let celsius = 7.0;
    let (temperature, unit) = match args.unit {
        Some(Unit::Fahrenheit) => (celsius * 9.0 / 5.0 + 32.0, "F"),
        _ => (celsius, "C"),
    };
    Ok(Weather {
        city: args.city,
        temperature,
        unit,
        rain_chance: 0.8,
    })
}

#[tokio::main]
async fn main() {
    // `--offline`: a local mock server plays a scripted tool call and answer; no key, no network.
    let offline = std::env::args().any(|a| a == "--offline");
    let mock = if offline {
        eprintln!("[offline: a scripted replay from a local mock server, not the model]");
        let mock = aimlapi_mock::MockServer::start().await;
        mock.push(aimlapi_mock::Reply::tool_call(
            "call_1",
            "get_weather",
            r#"{"city":"Oslo","unit":"celsius"}"#,
        ));
        mock.push(aimlapi_mock::Reply::text(
            "It is 7 C in Oslo with an 80% chance of rain: take the umbrella.",
        ));
        Some(mock)
    } else {
        None
    };
    let mut builder = Client::builder().provider(Provider::AimlApi);
    if let Some(mock) = &mock {
        builder = builder.base_url(mock.base_url()).api_key("offline");
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(_) => {
            eprintln!("no key: set AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys) and run again, or pass --offline");
            std::process::exit(2);
        }
    };
    let prompt = std::env::args()
        .skip(1)
        .find(|a| a != "--offline")
        .unwrap_or_else(|| "Should I take an umbrella in Oslo today?".to_string());
    let tools = Toolbox::new().add(
        ToolSpec::new::<GetWeather>("get_weather").expect("GetWeather is a struct"),
        get_weather,
    );
    let request: Claude35HaikuRequest = Claude35HaikuRequest::builder()
        .model(KnownClaude35HaikuModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::user(prompt)])
        .try_into()
        .expect("model and messages are set");
    let settings = ToolLoop {
        streaming: true,
        ..ToolLoop::default()
    };
    match client.run_tools(request, &tools, &settings).await {
        Ok(run) => {
            for call in &run.calls {
                eprintln!(
                    "[tool {}({}) -> {}]",
                    call.name, call.arguments, call.result
                );
            }
            println!("{}", run.response.text().unwrap_or_default());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

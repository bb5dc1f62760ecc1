//! A tool loop: the model may call `get_weather`, whose arguments are a Rust type; the loop runs
//! it and sends the result back until the model answers.
//!
//! ```sh
//! cargo run --example tools -- --offline   # against a local mock server with a scripted call
//! AIMLAPI_API_KEY=... cargo run --example tools -- "Should I take an umbrella in Oslo?"
//! ```
//!
//! In a service this example needs `features = ["derive", "builder", "typed-tools"]`: the
//! derive of `aimlapi::schemars::JsonSchema` (or derive with your own schemars 1.x), the
//! generated request's builder, and `Client::run_tools` on a generated request.

mod common;

use aimlapi::schemars::JsonSchema;
use aimlapi::tools::{ToolLoop, ToolSpec, Toolbox};
use aimlapi::types::{ChatCompletionRequest, KnownModelId};
use aimlapi::Answer;
use aimlapi::Provider;
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
async fn main() -> Result<(), aimlapi::Error> {
    // With `--offline`, a local mock server answers; no key, no network.
    let setup = common::setup(
        Provider::AimlApi,
        "AIMLAPI_API_KEY to your AI/ML API key (https://aimlapi.com/app/keys)",
        vec![
            aimlapi_mock::Reply::tool_call(
                "call_1",
                "get_weather",
                r#"{"city":"Oslo","unit":"celsius"}"#,
            ),
            aimlapi_mock::Reply::text(
                "It is 7 C in Oslo with an 80% chance of rain: take the umbrella.",
            ),
        ],
    )
    .await;
    let client = setup.client;
    let prompt = setup
        .prompt
        .unwrap_or_else(|| "Should I take an umbrella in Oslo today?".to_string());
    let tools = Toolbox::new().add(
        ToolSpec::new::<GetWeather>("get_weather").expect("GetWeather is a struct"),
        get_weather,
    );
    let request: ChatCompletionRequest = ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(prompt)])
        .try_into()?;
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
    Ok(())
}

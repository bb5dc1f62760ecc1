//! Request tracing (`x-inference-id`, the echoed `X-Client-Request-Id`) on every route, the cost
//! of each answer (body, headers, a stream's last chunk, OpenRouter's `usage.cost`), leaving it
//! out, and OpenRouter's generation stats agreeing with the answers.

use std::collections::BTreeSet;

use aimlapi::{Client, Provider};
use aimlapi_mock::{Format, MockServer, Reply, CREDITS_PER_USD};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

/// A request to the mock: method, path, extra headers, JSON body (none for `Value::Null`).
async fn send(
    mock: &MockServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (u16, HeaderMap, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", mock.base_url()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    if !body.is_null() {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Hi"}]})
}

fn message(model: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "Hi"}]})
}

/// The JSON payloads of a stream's `data:` lines (`[DONE]` left out).
fn data_lines(body: &str) -> Vec<Value> {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn every_route_s_response_has_a_fresh_inference_id_and_echoes_a_valid_client_id() {
    let mock = MockServer::start().await;
    let haiku = "anthropic/claude-3-5-haiku";
    let cases: Vec<(&str, &str, Value, Option<&str>, u16)> = vec![
        (
            "POST",
            "/v1/chat/completions",
            chat(haiku, false),
            None,
            200,
        ),
        ("POST", "/chat/completions", chat(haiku, true), None, 200),
        (
            "POST",
            "/api/v1/chat/completions",
            chat(haiku, false),
            None,
            200,
        ),
        (
            "POST",
            "/v1/messages",
            message("anthropic/claude-sonnet-5", false),
            None,
            200,
        ),
        (
            "POST",
            "/v1/messages",
            message("anthropic/claude-sonnet-5", true),
            None,
            200,
        ),
        ("GET", "/v1/models", Value::Null, None, 200),
        ("GET", "/model/claude-opus-4", Value::Null, None, 200),
        ("GET", "/api/v1/generation?id=nope", Value::Null, None, 404),
        ("GET", "/nowhere", Value::Null, None, 404),
        // An invalid body, a scripted error, an unparsable script.
        (
            "POST",
            "/v1/chat/completions",
            json!({"model": haiku}),
            None,
            400,
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat(haiku, false),
            Some("status=503"),
            503,
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat(haiku, true),
            Some("status=429"),
            429,
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat(haiku, false),
            Some("nonsense"),
            400,
        ),
    ];
    let mut inference_ids = BTreeSet::new();
    for (i, (method, path, body, script, status)) in cases.iter().enumerate() {
        let client_id = format!("case-{i}:{method}.{}", path.len());
        let mut headers = vec![("X-Client-Request-Id", client_id.as_str())];
        if let Some(script) = script {
            headers.push(("x-mock-reply", script));
        }
        let (got, response, text) = send(&mock, method, path, &headers, body).await;
        assert_eq!(got, *status, "{method} {path}: {text}");
        let inference_id = header(&response, "x-inference-id").unwrap().to_string();
        assert_eq!(inference_id.len(), 21, "{inference_id}");
        assert!(
            inference_id.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{inference_id}"
        );
        assert!(
            inference_ids.insert(inference_id.clone()),
            "{inference_id} twice"
        );
        assert_eq!(
            header(&response, "x-client-request-id"),
            Some(client_id.as_str()),
            "{path}"
        );
        // The mock kept the header it received, and the id it answered with.
        let seen = mock.requests().pop().unwrap();
        assert_eq!(seen.header("x-client-request-id"), Some(client_id.as_str()));
        assert_eq!(seen.inference_id, inference_id);
    }
    // Values outside the alphabet or the length are dropped without a word.
    let longest = "a".repeat(128);
    let too_long = "a".repeat(129);
    for (value, echoed) in [
        ("order-8f21c4", true),
        ("A.b_c:D-9", true),
        (longest.as_str(), true),
        (too_long.as_str(), false),
        ("has space", false),
        ("slash/no", false),
        ("quote\"", false),
        ("", false),
    ] {
        let (status, response, _) = send(
            &mock,
            "POST",
            "/v1/chat/completions",
            &[("x-client-request-id", value)],
            &chat(haiku, false),
        )
        .await;
        assert_eq!(status, 200, "{value:?}");
        let back = header(&response, "x-client-request-id");
        assert_eq!(back, echoed.then_some(value), "{value:?}");
        assert!(header(&response, "x-inference-id").is_some());
    }
    // Bytes that are not ASCII are dropped too.
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-client-request-id",
        reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
    );
    let response = reqwest::Client::new()
        .get(format!("{}/v1/models", mock.base_url()))
        .headers(headers)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-client-request-id").is_none());
    // Two servers do not hand out the same ids.
    let other = MockServer::start().await;
    let (_, response, _) = send(&other, "GET", "/v1/models", &[], &Value::Null).await;
    assert!(!inference_ids.contains(header(&response, "x-inference-id").unwrap()));
}

#[tokio::test]
async fn a_scripted_tracing_header_wins() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Hi").header("x-inference-id", "scripted"));
    let (_, response, _) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    assert_eq!(header(&response, "x-inference-id"), Some("scripted"));
}

#[tokio::test]
async fn non_streaming_answers_carry_their_cost_in_the_body_and_headers() {
    let mock = MockServer::start().await;
    // Claude 3.5 Haiku at $0.80 / $4 per million tokens: 1000 in, 500 out.
    mock.push(Reply::text("Paris.").usage(1000, 500));
    let (status, headers, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(header(&headers, "x-aimlapi-credits-used"), Some("5600"));
    assert_eq!(header(&headers, "x-aimlapi-usd-spent"), Some("0.002800000"));
    assert_eq!(
        body["meta"],
        json!({"usage": {"credits_used": 5600, "usd_spent": 0.0028}})
    );
    assert_eq!(body["usage"]["cost"], 0.0028);
    assert_eq!(body["usage"]["prompt_tokens"], 1000);

    // The documented answer (seed 003: 137 in, 914 out) is priced the same way.
    let (_, headers, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    let usd = (137.0 * 0.8 + 914.0 * 4.0) / 1e6;
    assert!(
        close(body["meta"]["usage"]["usd_spent"].as_f64().unwrap(), usd),
        "{body}"
    );
    assert!(
        close(body["usage"]["cost"].as_f64().unwrap(), usd),
        "{body}"
    );
    let credits = (usd * CREDITS_PER_USD as f64).round() as u64;
    assert_eq!(body["meta"]["usage"]["credits_used"], credits);
    assert_eq!(
        header(&headers, "x-aimlapi-credits-used"),
        Some(credits.to_string().as_str())
    );
    assert_eq!(
        header(&headers, "x-aimlapi-usd-spent"),
        Some(format!("{usd:.9}").as_str())
    );
    assert!(body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
        .starts_with("Hello!"));

    // A model the catalogue does not price is priced at the default ($3 / $15 per million).
    let open = MockServer::builder().validate(false).start().await.unwrap();
    open.push(Reply::text("ok").usage(1_000_000, 0));
    let (_, headers, _) = send(
        &open,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("my-proxy-model", false),
    )
    .await;
    assert_eq!(header(&headers, "x-aimlapi-usd-spent"), Some("3.000000000"));
    assert_eq!(header(&headers, "x-aimlapi-credits-used"), Some("6000000"));

    // The Messages endpoint: Claude Sonnet 5 at $3 / $15, 20 in and 4 out.
    mock.push(Reply::text("Seven.").usage(20, 4));
    let (_, headers, body) = send(
        &mock,
        "POST",
        "/v1/messages",
        &[],
        &message("anthropic/claude-sonnet-5", false),
    )
    .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["meta"],
        json!({"usage": {"credits_used": 240, "usd_spent": 0.00012}})
    );
    assert_eq!(header(&headers, "x-aimlapi-usd-spent"), Some("0.000120000"));
    assert_eq!(header(&headers, "x-aimlapi-credits-used"), Some("240"));
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
}

#[tokio::test]
async fn the_client_reads_the_vendor_s_figures_from_the_mock() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Paris.").usage(1000, 500));
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("k")
        .build()
        .unwrap();
    let request: aimlapi::types::ChatCompletionRequest =
        serde_json::from_value(chat("anthropic/claude-3-5-haiku", false)).unwrap();
    let done = client.chat_completion(&request).await.unwrap();
    assert_eq!(done.meta.usd_spent, Some(0.0028));
    assert_eq!(done.meta.credits_used, Some(5600.0));
    // The vendor's dollars agree with the client's own estimate from the same prices.
    let estimate = done.estimated_cost().unwrap();
    assert!(close(estimate, 0.0028), "{estimate}");
}

#[tokio::test]
async fn streams_carry_no_cost_headers_but_their_last_chunk_has_meta() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Paris.").usage(1000, 500));
    let (status, headers, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", true),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/event-stream"));
    assert!(header(&headers, "x-aimlapi-credits-used").is_none());
    assert!(header(&headers, "x-aimlapi-usd-spent").is_none());
    let chunks = data_lines(&body);
    let last = chunks.last().unwrap();
    assert_eq!(
        last["meta"],
        json!({"usage": {"credits_used": 5600, "usd_spent": 0.0028}})
    );
    assert_eq!(last["usage"]["cost"], 0.0028);
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c.get("meta").is_none()));
    // Every chunk of a scripted stream carries the completion's id.
    let id = chunks[0]["id"].as_str().unwrap();
    assert!(id.starts_with("gen-"), "{id}");
    assert!(chunks.iter().all(|c| c["id"] == id));

    // The documented transcript: the usage chunk has the cost, the last chunk the meta.
    let (_, _, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", true),
    )
    .await;
    let chunks = data_lines(&body);
    let usd = (16.0 * 0.8 + 77.0 * 4.0) / 1e6;
    let with_usage = chunks.iter().find(|c| !c["usage"].is_null()).unwrap();
    assert!(close(with_usage["usage"]["cost"].as_f64().unwrap(), usd));
    let meta = &chunks.last().unwrap()["meta"]["usage"];
    assert!(close(meta["usd_spent"].as_f64().unwrap(), usd), "{meta}");

    // The format used before 2026-02-13 carried no cost.
    mock.push(
        Reply::text("Paris.")
            .usage(1000, 500)
            .format(Format::Legacy),
    );
    let (_, _, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", true),
    )
    .await;
    assert!(!body.contains("meta") && !body.contains("cost"), "{body}");

    // A Messages stream has no cost headers either.
    let (_, headers, body) = send(
        &mock,
        "POST",
        "/v1/messages",
        &[],
        &message("anthropic/claude-sonnet-5", true),
    )
    .await;
    assert!(header(&headers, "x-aimlapi-usd-spent").is_none());
    assert!(body.contains("event: message_stop"));
}

/// A chat answer, a chat stream and a message, each without any cost.
async fn answers_without_cost(
    mock: &MockServer,
    script: &[(&str, &str)],
) -> Vec<(HeaderMap, String)> {
    let mut out = Vec::new();
    for (path, body) in [
        (
            "/v1/chat/completions",
            chat("anthropic/claude-3-5-haiku", false),
        ),
        (
            "/v1/chat/completions",
            chat("anthropic/claude-3-5-haiku", true),
        ),
        (
            "/api/v1/chat/completions",
            chat("anthropic/claude-3-5-haiku", false),
        ),
        ("/v1/messages", message("anthropic/claude-sonnet-5", false)),
    ] {
        let (status, headers, text) = send(mock, "POST", path, script, &body).await;
        assert_eq!(status, 200, "{path}: {text}");
        out.push((headers, text));
    }
    out
}

#[tokio::test]
async fn the_cost_can_be_left_out_per_reply_per_header_or_per_server() {
    let assert_no_cost = |answers: Vec<(HeaderMap, String)>, how: &str| {
        for (headers, body) in answers {
            assert!(
                header(&headers, "x-aimlapi-credits-used").is_none(),
                "{how}"
            );
            assert!(header(&headers, "x-aimlapi-usd-spent").is_none(), "{how}");
            assert!(!body.contains("\"meta\""), "{how}: {body}");
            assert!(!body.contains("\"cost\""), "{how}: {body}");
            assert!(header(&headers, "x-inference-id").is_some(), "{how}");
        }
    };
    let mock = MockServer::start().await;
    for _ in 0..4 {
        mock.push(Reply::text("Hi").usage(10, 2).without_cost());
    }
    assert_no_cost(
        answers_without_cost(&mock, &[]).await,
        "Reply::without_cost",
    );
    assert_no_cost(
        answers_without_cost(&mock, &[("x-mock-reply", "text=Hi; usage=10,2; no-cost")]).await,
        "x-mock-reply: no-cost",
    );
    let off = MockServer::builder().cost(false).start().await.unwrap();
    assert_no_cost(
        answers_without_cost(&off, &[]).await,
        "MockBuilder::cost(false)",
    );
    // Without cost, the documented answer is the documented body as it is.
    let (_, _, body) = send(
        &off,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    assert_eq!(body, include_str!("../fixtures/seed-003-response.json"));
    assert_eq!(
        Reply::parse("no-cost").unwrap(),
        Reply::documented().without_cost()
    );

    // The client sees no vendor figure.
    let client = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(off.base_url())
        .api_key("k")
        .build()
        .unwrap();
    let request: aimlapi::types::ChatCompletionRequest =
        serde_json::from_value(chat("anthropic/claude-3-5-haiku", false)).unwrap();
    let done = client.chat_completion(&request).await.unwrap();
    assert_eq!((done.meta.usd_spent, done.meta.credits_used), (None, None));
}

#[tokio::test]
async fn openrouter_s_path_gets_usage_cost_and_the_generation_id_without_the_aiml_figures() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Hi").usage(3, 1));
    let (status, headers, body) = send(
        &mock,
        "POST",
        "/api/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-haiku", false),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    // Claude 3 Haiku at $0.25 / $1.25 per million.
    assert!(close(
        body["usage"]["cost"].as_f64().unwrap(),
        (3.0 * 0.25 + 1.25) / 1e6
    ));
    assert!(body.get("meta").is_none());
    assert!(header(&headers, "x-aimlapi-usd-spent").is_none());
    assert_eq!(header(&headers, "x-generation-id"), body["id"].as_str());
    // A stream on that path: the cost in the usage chunk, no meta.
    mock.push(Reply::text("Hi").usage(3, 1));
    let (_, headers, body) = send(
        &mock,
        "POST",
        "/api/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-haiku", true),
    )
    .await;
    let chunks = data_lines(&body);
    assert!(chunks.iter().all(|c| c.get("meta").is_none()));
    assert!(chunks.last().unwrap()["usage"]["cost"].is_number());
    assert_eq!(
        header(&headers, "x-generation-id"),
        chunks[0]["id"].as_str()
    );
}

/// The stats of the answer with this id, or the status when there are none.
async fn stats(mock: &MockServer, id: &str, auth: Option<&str>) -> Result<Value, u16> {
    let path = format!("/api/v1/generation?id={id}");
    let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
    let (status, _, body) = send(mock, "GET", &path, &headers, &Value::Null).await;
    match status {
        200 => Ok(serde_json::from_str::<Value>(&body).unwrap()["data"].clone()),
        other => Err(other),
    }
}

#[tokio::test]
async fn generation_stats_agree_with_the_answers_the_mock_gave() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Hi").usage(1000, 500));
    let (_, _, body) = send(
        &mock,
        "POST",
        "/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    let answer: Value = serde_json::from_str(&body).unwrap();
    let id = answer["id"].as_str().unwrap();
    let data = stats(&mock, id, None).await.unwrap();
    let fields: BTreeSet<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "id",
        "upstream_id",
        "total_cost",
        "cache_discount",
        "upstream_inference_cost",
        "model",
        "provider_name",
        "latency",
        "generation_time",
        "finish_reason",
        "native_finish_reason",
        "tokens_prompt",
        "tokens_completion",
        "native_tokens_prompt",
        "native_tokens_completion",
        "native_tokens_reasoning",
        "native_tokens_cached",
        "streamed",
        "cancelled",
        "is_byok",
    ] {
        assert!(fields.contains(field), "{field} missing: {data}");
    }
    assert_eq!(data["id"], id);
    assert_eq!(data["total_cost"], answer["usage"]["cost"]);
    assert_eq!(data["total_cost"], answer["meta"]["usage"]["usd_spent"]);
    assert_eq!(
        (
            data["tokens_prompt"].as_u64(),
            data["tokens_completion"].as_u64()
        ),
        (Some(1000), Some(500))
    );
    assert_eq!(data["model"], "anthropic/claude-3-5-haiku");
    assert_eq!(
        (
            data["finish_reason"].as_str(),
            data["native_finish_reason"].as_str()
        ),
        (Some("stop"), Some("end_turn"))
    );
    assert_eq!(
        (
            data["streamed"].as_bool(),
            data["cancelled"].as_bool(),
            data["is_byok"].as_bool()
        ),
        (Some(false), Some(false), Some(false))
    );

    // A streamed tool call, on OpenRouter's path; then one cut short.
    mock.push(Reply::tool_call("call_1", "get_weather", "{}").usage(40, 12));
    let (_, headers, _) = send(
        &mock,
        "POST",
        "/api/v1/chat/completions",
        &[],
        &chat("anthropic/claude-3-haiku", true),
    )
    .await;
    let id = header(&headers, "x-generation-id").unwrap();
    let data = stats(&mock, id, None).await.unwrap();
    assert_eq!(
        (data["streamed"].as_bool(), data["cancelled"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        (
            data["finish_reason"].as_str(),
            data["native_finish_reason"].as_str()
        ),
        (Some("tool_calls"), Some("tool_use"))
    );
    assert!(close(
        data["total_cost"].as_f64().unwrap(),
        (40.0 * 0.25 + 12.0 * 1.25) / 1e6
    ));
    mock.push(
        Reply::text("Hello there")
            .usage(5, 5)
            .fault(aimlapi_mock::Fault::DropAfter(2)),
    );
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/chat/completions", mock.base_url()))
        .header("content-type", "application/json")
        .body(chat("anthropic/claude-3-haiku", true).to_string())
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-generation-id"]
        .to_str()
        .unwrap()
        .to_string();
    let _ = response.text().await;
    assert_eq!(stats(&mock, &id, None).await.unwrap()["cancelled"], true);

    // A message's id is kept too.
    let (_, _, body) = send(
        &mock,
        "POST",
        "/v1/messages",
        &[],
        &message("anthropic/claude-sonnet-5", false),
    )
    .await;
    let message: Value = serde_json::from_str(&body).unwrap();
    let data = stats(&mock, message["id"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(data["total_cost"], message["meta"]["usage"]["usd_spent"]);

    // An id the mock never gave, or none, or an error's: 404 / 400 in OpenRouter's shape.
    assert_eq!(stats(&mock, "gen-never", None).await, Err(404));
    assert_eq!(stats(&mock, "", None).await, Err(400));
    let (status, _, body) = send(&mock, "GET", "/api/v1/generation", &[], &Value::Null).await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["code"],
        400
    );

    // With a key configured, the stats need it.
    let locked = MockServer::builder().api_key("k").start().await.unwrap();
    locked.push(Reply::text("Hi").usage(1, 1));
    let (_, _, body) = send(
        &locked,
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer k")],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(stats(&locked, &id, None).await, Err(401));
    assert!(stats(&locked, &id, Some("Bearer k")).await.is_ok());
    // Each answer has its own id.
    let (_, _, again) = send(
        &locked,
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer k")],
        &chat("anthropic/claude-3-5-haiku", false),
    )
    .await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_ne!(again["id"], id.as_str());
}

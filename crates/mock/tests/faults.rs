//! The mock through our client: the documented answers, every fault kind, and each observed as
//! the error kind the client promises.

use std::time::Duration;

use aimlapi::sse::StreamItem;
use aimlapi::types::{AnthropicChatRequest, ChatCompletionRequest, KnownModelId};
use aimlapi::{Client, ErrorKind, Provider, RequestOptions, RetryPolicy};
use aimlapi_mock::{Chunking, Fault, Format, MockServer, Reply};
use futures::StreamExt;

fn haiku(text: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::builder()
        .model(KnownModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user(text)])
        .try_into()
        .unwrap()
}

/// A client for `mock` whose retries wait 1-20 ms.
fn client(mock: &MockServer) -> Client {
    Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("test-key")
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
}

const SEED_003_TEXT_START: &str = "I want to be direct and balanced in my response.";

#[tokio::test]
async fn the_documented_answer_and_transcript_in_both_formats_and_any_chunking() {
    let mock = MockServer::start().await;
    let done = client(&mock).chat_completion(&haiku("Hi")).await.unwrap();
    assert!(
        done.text().unwrap().starts_with("Hello!"),
        "{:?}",
        done.text()
    );

    for (format, chunking) in [
        (Format::Current, Chunking::PerEvent),
        (Format::Legacy, Chunking::PerEvent),
        (Format::Current, Chunking::Bytes(7)),
        (Format::Legacy, Chunking::Bytes(64)),
    ] {
        let mock = MockServer::builder()
            .format(format)
            .chunking(chunking)
            .pace(Duration::from_micros(200))
            .start()
            .await
            .unwrap();
        let stream = client(&mock)
            .stream(&haiku("Hi"), &RequestOptions::default())
            .await
            .unwrap();
        let done = stream.completion().await.unwrap().value;
        let text = done.choices[0].message.as_ref().unwrap().content.clone();
        assert!(
            text.as_deref()
                .unwrap_or_default()
                .starts_with(SEED_003_TEXT_START),
            "{format:?} {chunking:?}: {text:?}"
        );
        let usage = done.usage.unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (Some(16), Some(77), Some(93)),
            "{format:?} {chunking:?}"
        );
    }
}

#[tokio::test]
async fn scripted_text_tool_calls_and_usage() {
    let mock = MockServer::start().await;
    mock.push(Reply::text("Paris.").usage(9, 2));
    mock.push(
        Reply::tool_call(
            "call_1",
            "get_weather",
            r#"{"city":"Paris","unit":"celsius"}"#,
        )
        .and_tool_call("call_2", "get_time", r#"{"tz":"Europe/Paris"}"#),
    );
    let c = client(&mock);
    let done = c.chat_completion(&haiku("Capital?")).await.unwrap();
    assert_eq!(done.text().as_deref(), Some("Paris."));
    assert_eq!(
        done.usage().map(|u| (u.prompt_tokens, u.completion_tokens)),
        Some((9, 2))
    );

    let stream = c
        .stream(&haiku("Weather?"), &RequestOptions::default())
        .await
        .unwrap();
    let done = stream.completion().await.unwrap().value;
    let calls = done.choices[0].message.as_ref().unwrap().tool_calls.clone();
    let calls = serde_json::to_value(calls).unwrap();
    assert_eq!(calls[0]["id"], "call_1");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(
        calls[0]["function"]["arguments"],
        r#"{"city":"Paris","unit":"celsius"}"#
    );
    assert_eq!(
        calls[1]["function"]["arguments"],
        r#"{"tz":"Europe/Paris"}"#
    );
}

#[tokio::test]
async fn statuses_with_their_headers_are_observed_as_their_kinds() {
    let rows: Vec<(Vec<Reply>, ErrorKind, usize)> = vec![
        (vec![Reply::status(400)], ErrorKind::BadRequest, 1),
        (vec![Reply::status(403)], ErrorKind::InsufficientCredits, 1),
        (vec![Reply::status(404)], ErrorKind::NotFound, 1),
        (vec![Reply::status(503); 3], ErrorKind::Server, 3),
        (
            vec![Reply::status(429).header("retry-after-ms", "5"); 3],
            ErrorKind::RateLimited,
            3,
        ),
        (
            vec![Reply::status(500).header("x-should-retry", "false")],
            ErrorKind::Server,
            1,
        ),
    ];
    for (replies, kind, attempts) in rows {
        let mock = MockServer::start().await;
        for r in replies {
            mock.push(r);
        }
        let err = client(&mock)
            .chat_completion(&haiku("Hi"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(mock.requests().len(), attempts, "{kind:?}");
    }
    // A 429 with Retry-After, then the documented answer.
    let mock = MockServer::start().await;
    mock.push(Reply::status(429).header("Retry-After", "0"));
    let done = client(&mock).chat_completion(&haiku("Hi")).await.unwrap();
    assert_eq!(done.meta.attempts, 2);
}

#[tokio::test]
async fn a_wrong_key_is_401_and_an_invalid_body_is_400() {
    let mock = MockServer::builder()
        .api_key("right")
        .start()
        .await
        .unwrap();
    let err = client(&mock)
        .chat_completion(&haiku("Hi"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(err.to_string().contains("valid API key"), "{err}");

    let mock = MockServer::start().await;
    let mut bad = RequestOptions::default();
    bad.extra_body
        .insert("temperature".into(), "very hot".into());
    let err = client(&mock)
        .chat_completion_with(&haiku("Hi"), &bad)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    assert!(err.to_string().contains("Body validation error!"), "{err}");
}

#[tokio::test]
async fn the_anthropic_dialect_validates_against_its_own_document() {
    let mock = MockServer::start().await;
    let sonnet: AnthropicChatRequest = serde_json::from_value(serde_json::json!({
        "model": "claude-3-5-sonnet-20240620",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 64,
    }))
    .unwrap();
    let done = client(&mock).chat_completion(&sonnet).await.unwrap();
    assert!(done.text().is_some());
    assert_eq!(mock.requests()[0].body["max_tokens"], 64);
}

/// What a stream with `fault` yields: the number of chunks, and how it ended.
async fn stream_with(fault: Fault, comments: bool) -> (usize, usize, Result<(), ErrorKind>) {
    let mock = MockServer::start().await;
    mock.push(Reply::documented().fault(fault));
    let mut stream = client(&mock)
        .stream(&haiku("Hi"), &RequestOptions::default())
        .await
        .unwrap();
    if comments {
        stream = stream.with_comments();
    }
    let (mut chunks, mut seen_comments) = (0, 0);
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamItem::Chunk(_)) => chunks += 1,
            Ok(StreamItem::Comment(_)) => seen_comments += 1,
            Err(e) => return (chunks, seen_comments, Err(e.kind())),
        }
    }
    (chunks, seen_comments, Ok(()))
}

#[tokio::test]
async fn every_stream_fault_is_observed_as_its_kind() {
    assert_eq!(
        stream_with(Fault::DropAfter(3), false).await,
        (3, 0, Err(ErrorKind::UnexpectedEnd))
    );
    assert_eq!(
        stream_with(Fault::StallAfter(2), false).await,
        (2, 0, Err(ErrorKind::Timeout))
    );
    assert_eq!(
        stream_with(Fault::MalformedAfter(4), false).await,
        (4, 0, Err(ErrorKind::Decode))
    );
}

#[tokio::test]
async fn an_openrouter_error_chunk_is_a_stream_error_with_its_code_and_message() {
    let mock = MockServer::start().await;
    mock.push(Reply::documented().fault(Fault::ErrorChunkAfter {
        after: 5,
        code: 502,
        message: "upstream".into(),
    }));
    let c = Client::builder()
        .provider(Provider::open_router())
        .base_url(mock.base_url())
        .api_key("k")
        .build()
        .unwrap();
    let request: aimlapi::types::OpenRouterRequest = aimlapi::types::OpenRouterRequest::builder()
        .model(aimlapi::types::KnownOpenRouterModelId::AnthropicClaude35Haiku)
        .messages(vec![aimlapi::request::user("Hi")])
        .try_into()
        .unwrap();
    let items: Vec<_> = c
        .stream(&request, &RequestOptions::default())
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 6);
    assert!(items[..5].iter().all(Result::is_ok));
    match items[5].as_ref().unwrap_err() {
        aimlapi::Error::Stream { code, message } => {
            assert_eq!(
                (code.as_deref(), message.as_str()),
                (Some("502"), "upstream")
            );
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn keep_alive_comments_come_only_when_asked_for() {
    assert_eq!(
        stream_with(Fault::KeepAlive(3), false).await,
        (38, 0, Ok(()))
    );
    assert_eq!(
        stream_with(Fault::KeepAlive(3), true).await,
        (38, 3, Ok(()))
    );
}

#[tokio::test]
async fn requests_are_recorded_with_headers_and_bodies_and_the_key_is_not_printed() {
    let mock = MockServer::start().await;
    client(&mock)
        .chat_completion(&haiku("Record me"))
        .await
        .unwrap();
    let seen = &mock.requests()[0];
    assert_eq!(seen.path, "/v1/chat/completions");
    assert_eq!(seen.header("Authorization"), Some("Bearer test-key"));
    assert_eq!(seen.body["messages"][0]["content"], "Record me");
    assert!(!format!("{seen:?}").contains("test-key"));
}

#[tokio::test]
async fn the_reply_header_scripts_the_answer_too() {
    let mock = MockServer::start().await;
    let mut options = RequestOptions::default();
    options.headers.insert(
        "x-mock-reply",
        "status=429; header=x-should-retry:false".parse().unwrap(),
    );
    let err = client(&mock)
        .chat_completion_with(&haiku("Hi"), &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(mock.requests().len(), 1);
    assert!(Reply::parse("drop-after=x").is_err());
    assert!(Reply::parse("nonsense").is_err());
    assert!(Reply::parse("status=42").is_err());
    assert!(Reply::parse("status=70000").is_err());
    assert_eq!(
        Reply::parse("status=503; header=Retry-After:2").unwrap(),
        Reply::status(503).header("Retry-After", "2")
    );
}

#[tokio::test]
async fn dropping_the_server_closes_a_stalled_stream() {
    let mock = MockServer::start().await;
    mock.push(Reply::documented().fault(Fault::StallAfter(1)));
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("k")
        .build()
        .unwrap();
    let mut stream = c
        .stream(&haiku("Hi"), &RequestOptions::default())
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    drop(mock);
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends when the server is dropped");
    assert_eq!(end.unwrap().unwrap_err().kind(), ErrorKind::UnexpectedEnd);
}

/// What a request carries in `x-mock-reply` (the header value).
fn scripted(spec: &str) -> RequestOptions {
    let mut options = RequestOptions::default();
    options
        .headers
        .insert("x-mock-reply", spec.parse().unwrap());
    options
}

/// The mock's complaint about a refused request, from its `x-mock-validation` header.
fn complaint(err: &aimlapi::Error) -> String {
    err.http()
        .and_then(|h| h.headers.get("x-mock-validation"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Nothing a request or a script carries makes the mock drop the connection: each bad setting
/// is a 400 that says what is wrong.
#[tokio::test]
async fn bad_scripted_settings_are_a_400_that_says_what_is_wrong() {
    let mock = MockServer::start().await;
    let c = Client::builder()
        .provider(Provider::AimlApi)
        .base_url(mock.base_url())
        .api_key("k")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for (spec, says) in [
        ("header=bad name:v", "not a valid header name"),
        ("header=:v", "not a valid header name"),
        ("keep-alive=99999999", "at most 10000"),
        ("usage=1,x", "expected P,C"),
    ] {
        let err = c
            .chat_completion_with(&haiku("Hi"), &scripted(spec))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{spec}: {err}");
        assert!(
            complaint(&err).contains(says),
            "{spec}: {}",
            complaint(&err)
        );
    }
    // Scripts made in code: an invalid header name or value, a status that is not one.
    for (reply, says) in [
        (
            Reply::text("x").header("bad name", "v"),
            "not a valid header name",
        ),
        (
            Reply::status(503).header("x-ok", "line\nbreak"),
            "cannot carry",
        ),
        (Reply::status(1000), "not an HTTP status"),
    ] {
        mock.push(reply.clone());
        let err = c.chat_completion(&haiku("Hi")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{reply:?}: {err}");
        assert!(
            complaint(&err).contains(says),
            "{reply:?}: {}",
            complaint(&err)
        );
        // A stream meets the same check.
        mock.push(reply.clone());
        let err = c
            .stream(&haiku("Hi"), &RequestOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "stream {reply:?}: {err}");
    }
    // A validation problem quoting text no header can carry is escaped, not a reset.
    let mut bad = RequestOptions::default();
    bad.extra_body
        .insert("temperature".into(), "très\nchaud ☀".into());
    let err = c
        .chat_completion_with(&haiku("Hi"), &bad)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    assert!(
        complaint(&err).contains("tr\\u{e8}s\\nchaud"),
        "{}",
        complaint(&err)
    );
    // Counts whose sum would overflow: the mock answers (the total saturates) rather than
    // dropping the connection; the client's types hold counts up to i64::MAX, so it reports the
    // answer as undecodable, with the body.
    let err = c
        .chat_completion_with(
            &haiku("Hi"),
            &scripted("text=ok; usage=18446744073709551615,5"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    match err {
        aimlapi::Error::Decode { body, .. } => {
            assert!(
                body.contains("\"total_tokens\":18446744073709551615"),
                "{body}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// The server keeps the last N requests, not all of them.
#[tokio::test]
async fn recording_keeps_the_last_n_requests() {
    let mock = MockServer::builder().record_limit(3).start().await.unwrap();
    for i in 0..5 {
        client(&mock)
            .chat_completion(&haiku(&format!("message {i}")))
            .await
            .unwrap();
    }
    let kept: Vec<_> = mock
        .requests()
        .iter()
        .map(|r| {
            r.body["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(kept, ["message 2", "message 3", "message 4"]);
    assert_eq!(aimlapi_mock::DEFAULT_RECORD_LIMIT, 1_000);
}

/// A body its model's page would refuse gets 400 by default; with validation off it is
/// answered (an id of a proxy's own gets the documented Claude 3.5 Haiku answer).
#[tokio::test]
async fn validation_can_be_turned_off_for_a_proxy_s_own_ids() {
    let own_id = || client_request("my-proxy-alias");
    let strict = MockServer::start().await;
    let err = client(&strict)
        .chat_completion(&own_id())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    let open = MockServer::builder().validate(false).start().await.unwrap();
    let done = client(&open).chat_completion(&own_id()).await.unwrap();
    assert!(done.text().is_some_and(|t| !t.is_empty()));
    assert_eq!(open.requests()[0].body["model"], "my-proxy-alias");
}

fn client_request(model: &str) -> ChatCompletionRequest {
    let mut request = haiku("Hello");
    request.model = aimlapi::types::ModelId::String(model.into());
    request
}

/// The Messages endpoint through the `x-mock-reply` header: thinking, text, the event stream.
#[tokio::test]
async fn the_messages_endpoint_answers_a_scripted_header() {
    let mock = MockServer::start().await;
    let client = client(&mock);
    let reply = hyper::header::HeaderValue::from_static(
        "text=Seven.; thinking=Counting the days,sig-1; usage=20,4",
    );
    let done = client
        .chat("anthropic/claude-sonnet-5")
        .user("How many days in a week?")
        .header(
            hyper::header::HeaderName::from_static("x-mock-reply"),
            reply.clone(),
        )
        .send_message()
        .await
        .unwrap();
    assert_eq!(done.text().as_deref(), Some("Seven."));
    assert_eq!(done.reasoning().as_deref(), Some("Counting the days"));
    let events = client
        .chat("anthropic/claude-sonnet-5")
        .user("How many days in a week?")
        .header(
            hyper::header::HeaderName::from_static("x-mock-reply"),
            reply,
        )
        .stream_message()
        .await
        .unwrap();
    let message = events.completion().await.unwrap().value;
    assert_eq!(message.usage.and_then(|u| u.output_tokens), Some(4));
    assert!(mock.requests().iter().all(|r| r.path == "/v1/messages"));
}

//! Chat completions: `POST /v1/chat/completions` (or `/chat/completions`), and OpenRouter's
//! `POST /api/v1/chat/completions`.

use hyper::Response;
use serde_json::Value;

use super::{add_missing, next_reply, scripted_status, set_meta};
use crate::reply::{Format, Kind};
use crate::response::{full, refused, Body};
use crate::state::Shared;
use crate::stream::{stream_response, Ending};
use crate::validate::schemas;
use crate::{bodies, cost, stream};

/// `POST /v1/chat/completions` (or `/chat/completions`, or OpenRouter's `/api/v1/chat/completions`):
/// the body validated, then the reply, its cost kept for the stats endpoint and, unless left out,
/// sent with it.
pub(super) fn serve(
    shared: &Shared,
    path: &str,
    id: u64,
    inference_id: &str,
    body: &Value,
    spec: Option<String>,
) -> Response<Body> {
    let json = "application/json";
    let stem = if shared.config.validate {
        let checked = match path.starts_with("/api/") {
            true => schemas().check_openrouter(body),
            false => schemas().check(body),
        };
        match checked {
            Ok(stem) => stem,
            Err(problem) => return refused(400, path, id, &problem),
        }
    } else {
        let model = body["model"].as_str().unwrap_or_default();
        schemas().document_of(model).unwrap_or("claude-3-5-haiku")
    };
    let reply = match next_reply(shared, spec) {
        Ok(reply) => reply,
        Err(problem) => return refused(400, path, id, &problem),
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let streaming = body.get("stream") == Some(&Value::Bool(true));
    // A request on OpenRouter's path is answered as OpenRouter answers: the cost in `usage`
    // only, the id in `x-generation-id`. On the AI/ML API's paths the answer carries both the
    // AI/ML API's `meta` and OpenRouter's `usage.cost` (the mock cannot tell which client asks).
    let openrouter = path.starts_with("/api/");
    let charged = reply.cost && shared.config.cost;
    let completion_id = format!("gen-{inference_id}");
    let mut headers = reply.headers.clone();
    if let Kind::Status { status, body } = &reply.kind {
        return scripted_status(*status, body.as_deref(), path, id, &headers);
    }
    if !streaming {
        let (mut answer, documented) = match &reply.kind {
            Kind::Scripted(s) => (bodies::scripted_completion(s, &model, &completion_id), None),
            _ => {
                let text = bodies::documented_response(stem);
                (
                    serde_json::from_str(&text).unwrap_or(Value::Null),
                    Some(text),
                )
            }
        };
        let (prompt, completion) = cost::chat_tokens(answer.get("usage"));
        let answered = answer["model"].as_str().unwrap_or_default().to_string();
        let cost = cost::Cost::carried(&answer)
            .unwrap_or_else(|| cost::Cost::of(&[&model, &answered], prompt, completion));
        let answer_id = answer["id"].as_str().unwrap_or_default().to_string();
        shared.generations.keep(cost::Generation {
            id: answer_id.clone(),
            inference_id: inference_id.to_string(),
            model: if answered.is_empty() { model } else { answered },
            prompt,
            completion,
            cost,
            finish_reason: answer
                .pointer("/choices/0/finish_reason")
                .and_then(Value::as_str)
                .map(str::to_string),
            streamed: false,
            cancelled: false,
        });
        if openrouter {
            add_missing(&mut headers, [("x-generation-id".into(), answer_id)]);
        }
        let text = match documented {
            // Not charged, the documented answer goes out as written.
            Some(text) if !charged => text,
            _ => {
                if charged {
                    set_usage_cost(&mut answer, &cost);
                    if !openrouter {
                        set_meta(&mut answer, &cost);
                        add_missing(&mut headers, cost.headers());
                    }
                }
                answer.to_string()
            }
        };
        return full(200, json, text, &headers);
    }
    let mut chunks = match &reply.kind {
        Kind::Scripted(s) => bodies::scripted_chunks(s, &model, &completion_id),
        _ => bodies::documented_chunks(),
    };
    let format = reply.format.unwrap_or(shared.config.format);
    let usage = chunks
        .iter()
        .rev()
        .find_map(|c| c.get("usage").filter(|u| !u.is_null()));
    let (prompt, completion) = cost::chat_tokens(usage);
    let answered = chunks
        .iter()
        .find_map(|c| c.get("model").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let answer_id = chunks
        .iter()
        .find_map(|c| {
            c.get("id")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
        })
        .unwrap_or_default()
        .to_string();
    let finish_reason = chunks.iter().rev().find_map(|c| {
        c.pointer("/choices/0/finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let cost = cost::Cost::of(&[&model, &answered], prompt, completion);
    // The cost rides on the usage chunk and the last chunk, in the current format only (the
    // format used before 2026-02-13 carried none).
    if charged && format == Format::Current {
        if let Some(chunk) = chunks
            .iter_mut()
            .rev()
            .find(|c| c.get("usage").is_some_and(|u| !u.is_null()))
        {
            set_usage_cost(chunk, &cost);
        }
        if !openrouter {
            if let Some(last) = chunks.last_mut() {
                set_meta(last, &cost);
            }
        }
    }
    let (events, ending) = stream::events(chunks, format, &reply.faults);
    shared.generations.keep(cost::Generation {
        id: answer_id.clone(),
        inference_id: inference_id.to_string(),
        model: if answered.is_empty() { model } else { answered },
        prompt,
        completion,
        cost,
        finish_reason,
        streamed: true,
        cancelled: ending != Ending::End,
    });
    if openrouter {
        add_missing(&mut headers, [("x-generation-id".into(), answer_id)]);
    }
    stream_response(
        events,
        ending,
        shared.config.chunking,
        shared.config.pace,
        &headers,
    )
}

/// `cost` set in `answer`'s `usage` where it has none (OpenRouter's field).
fn set_usage_cost(answer: &mut Value, cost: &cost::Cost) {
    if let Some(usage) = answer.get_mut("usage").and_then(Value::as_object_mut) {
        usage
            .entry("cost")
            .or_insert_with(|| serde_json::json!(cost.usd));
    }
}

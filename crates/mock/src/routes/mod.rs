//! Routing: each request to its route family by method and path, the vendor's 404 for any
//! other, and what the handlers share: the key check, the next reply, a scripted status, the
//! cost set on an answer.

mod account;
mod batches;
mod chat;
mod generation;
mod messages;
mod models;

use hyper::Response;
use serde_json::Value;

use crate::cost;
use crate::recorded::Recorded;
use crate::reply::Reply;
use crate::response::{error_body, full, Body};
use crate::state::Shared;

/// The response to `request`, the server's `id`-th, by its method and path.
pub(crate) fn route(shared: &Shared, request: &Recorded, id: u64) -> Response<Body> {
    let method = request.method.as_str();
    let path = request.path.as_str();
    let query = request.query.as_str();
    let auth = request.header("authorization");
    let if_none_match = request.header("if-none-match");
    let json = "application/json";
    let not_found = || full(404, json, error_body(404, path, id), &[]);
    // The catalogue answers HEAD as GET (hyper sends no body for it), for `curl -I`.
    if method == "GET" || method == "HEAD" {
        if matches!(path, "/v1/models" | "/models" | "/api/v1/models") {
            return models::list(query, if_none_match);
        }
        if let Some(name) = path.strip_prefix("/model/") {
            return models::one(name, query, if_none_match).unwrap_or_else(not_found);
        }
    }
    if method == "GET" && path == "/api/v1/generation" {
        return generation::stats(shared, query, auth);
    }
    if let Some(response) = account::serve(shared, method, path, query, auth, &request.body, id) {
        return response;
    }
    if path.starts_with("/v1/batches") || path.starts_with("/batches") {
        if !authorized(shared, auth) {
            return full(401, json, error_body(401, path, id), &[]);
        }
        if let Some(response) = batches::serve(shared, method, path, query, &request.body, id) {
            return response;
        }
    }
    let to_messages = matches!(path, "/v1/messages" | "/messages");
    let to_chat = matches!(
        path,
        "/v1/chat/completions" | "/chat/completions" | "/api/v1/chat/completions"
    );
    if method != "POST" || !(to_messages || to_chat) {
        return not_found();
    }
    if !authorized(shared, auth) {
        return full(401, json, error_body(401, path, id), &[]);
    }
    if let Some(failed) = shared.outages.answer(path, id, &request.body) {
        keep_in_account(shared, request, false);
        return failed;
    }
    let limited = shared.rate_limit.as_ref().map(|r| r.count());
    if let Some((headers, true)) = &limited {
        keep_in_account(shared, request, false);
        return full(429, json, error_body(429, path, id), headers);
    }
    let spec = request.header("x-mock-reply").map(str::to_string);
    let inference_id = request.inference_id.as_str();
    let response = if to_messages {
        messages::serve(shared, path, id, inference_id, &request.body, spec)
    } else {
        chat::serve(shared, path, id, inference_id, &request.body, spec)
    };
    keep_in_account(shared, request, response.status().is_success());
    let mut response = response;
    if let Some((headers, _)) = limited {
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::try_from(name),
                hyper::header::HeaderValue::try_from(value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}

/// The call in the account: what its answer cost (from the generation it left), or a failed
/// call at cost 0.
fn keep_in_account(shared: &Shared, request: &Recorded, succeeded: bool) {
    let generation = shared.generations.of_inference(&request.inference_id);
    let generation = generation.filter(|_| succeeded);
    let asked = request.body["model"].as_str().unwrap_or_default();
    let key = request
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("mock-key");
    shared.account.record(crate::account::Call {
        seq: 0,
        at: std::time::SystemTime::now(),
        // The id the caller asked for, as the vendor's logs and ledger name a call's model.
        model: match (asked, &generation) {
            ("", Some(g)) => g.model.clone(),
            _ => asked.to_string(),
        },
        succeeded: generation.is_some(),
        usd: generation.as_ref().map_or(0.0, |g| g.cost.usd),
        credits: generation.as_ref().map_or(0, |g| g.cost.credits),
        input: generation.as_ref().map_or(0, |g| g.prompt),
        output: generation.as_ref().map_or(0, |g| g.completion),
        inference_id: request.inference_id.clone(),
        client_request_id: request.header("x-client-request-id").map(str::to_string),
        key_prefix: crate::account::key_prefix(key),
    });
}

/// Whether a request may use the API: any may when no key is configured, else one with
/// `Authorization: Bearer <key>`.
fn authorized(shared: &Shared, auth: Option<&str>) -> bool {
    match &shared.config.api_key {
        Some(key) => auth == Some(format!("Bearer {key}").as_str()),
        None => true,
    }
}

/// `headers` with each of `more` whose name it does not have yet (a scripted header wins).
fn add_missing(
    headers: &mut Vec<(String, String)>,
    more: impl IntoIterator<Item = (String, String)>,
) {
    for (name, value) in more {
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(&name)) {
            headers.push((name, value));
        }
    }
}

/// `meta.usage.credits_used` and `usd_spent` set on `answer` where it has none.
fn set_meta(answer: &mut Value, cost: &cost::Cost) {
    let Some(answer) = answer.as_object_mut() else {
        return;
    };
    let meta = answer
        .entry("meta")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let usage = meta
        .entry("usage")
        .or_insert_with(|| Value::Object(Default::default()));
    if let (Some(usage), Value::Object(figures)) =
        (usage.as_object_mut(), cost.meta()["usage"].take())
    {
        for (k, v) in figures {
            usage.entry(k).or_insert(v);
        }
    }
}

/// The reply to a request: the one its `x-mock-reply` header scripts, else the next queued one,
/// else the documented answer. A header that does not parse is the problem to refuse with.
fn next_reply(shared: &Shared, spec: Option<String>) -> Result<Reply, String> {
    match spec.map(|s| Reply::parse(&s)) {
        Some(Ok(reply)) => Ok(reply),
        Some(Err(e)) => Err(format!("x-mock-reply: {e}")),
        None => Ok(shared
            .queue
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(Reply::documented)),
    }
}

/// A scripted [`Reply::status`] reply: its body, else the vendor's error body for the status,
/// with its headers.
fn scripted_status(
    status: u16,
    body: Option<&str>,
    path: &str,
    id: u64,
    headers: &[(String, String)],
) -> Response<Body> {
    let text = body
        .map(str::to_string)
        .unwrap_or_else(|| error_body(status, path, id));
    full(status, "application/json", text, headers)
}

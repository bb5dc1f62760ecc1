//! Anthropic's Messages endpoint: `POST /v1/messages` (or `/messages`).

use hyper::Response;
use serde_json::Value;

use super::{add_missing, next_reply, scripted_status, set_meta};
use crate::reply::{Kind, Script};
use crate::response::{full, refused, Body};
use crate::state::Shared;
use crate::stream::{stream_response, Ending};
use crate::validate::schemas;
use crate::{bodies, cost, stream};

/// `POST /v1/messages` (or `/messages`): the body checked against the Messages pages' request
/// schema, then the reply as a message (with its cost unless left out) or as its event stream.
pub(super) fn serve(
    shared: &Shared,
    path: &str,
    id: u64,
    inference_id: &str,
    body: &Value,
    spec: Option<String>,
) -> Response<Body> {
    let json = "application/json";
    if shared.config.validate {
        if let Err(problem) = schemas().check_message(body) {
            return refused(400, path, id, &problem);
        }
    }
    let reply = match next_reply(shared, spec) {
        Ok(reply) => reply,
        Err(problem) => return refused(400, path, id, &problem),
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let streaming = body.get("stream") == Some(&Value::Bool(true));
    let script = match &reply.kind {
        Kind::Status { status, body } => {
            return scripted_status(*status, body.as_deref(), path, id, &reply.headers);
        }
        Kind::Scripted(s) => s.clone(),
        // No page documents a Messages answer: a short greeting stands in.
        Kind::Documented => Script {
            text: Some("Hello! How can I help you today?".into()),
            usage: (12, 10),
            ..Script::default()
        },
    };
    let message_id = format!("msg_{inference_id}");
    let (prompt, completion) = script.usage;
    let cost = cost::Cost::of(&[&model], prompt, completion);
    let mut generation = cost::Generation {
        id: message_id.clone(),
        inference_id: inference_id.to_string(),
        model: model.clone(),
        prompt,
        completion,
        cost,
        finish_reason: None,
        streamed: streaming,
        cancelled: false,
    };
    if !streaming {
        let mut message = bodies::scripted_message(&script, &model, &message_id);
        generation.finish_reason = message["stop_reason"].as_str().map(str::to_string);
        shared.generations.keep(generation);
        let mut headers = reply.headers.clone();
        if reply.cost && shared.config.cost {
            set_meta(&mut message, &cost);
            add_missing(&mut headers, cost.headers());
        }
        return full(200, json, message.to_string(), &headers);
    }
    let events = bodies::message_events(&script, &model, &message_id);
    generation.finish_reason = events.iter().find_map(|(_, e)| {
        e.pointer("/delta/stop_reason")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let (events, ending) = stream::message_frames(events, &reply.faults);
    generation.cancelled = ending != Ending::End;
    shared.generations.keep(generation);
    stream_response(
        events,
        ending,
        shared.config.chunking,
        shared.config.pace,
        &reply.headers,
    )
}

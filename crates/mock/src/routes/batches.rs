//! Message batches: `POST /v1/batches`, `GET /v1/batches?batch_id=`,
//! `POST /v1/batches/cancel/{id}` (also without `/v1`, as the vendor's page writes them).

use hyper::Response;
use serde_json::{json, Value};

use super::{next_reply, scripted_status};
use crate::batches::write;
use crate::reply::{Kind, Reply};
use crate::response::{error_body, full, refused, Body};
use crate::state::Shared;
use crate::validate::schemas;

const JSON: &str = "application/json";

/// The batch route `path` names, if any.
pub(super) fn serve(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &str,
    body: &Value,
    id: u64,
) -> Option<Response<Body>> {
    let rest = path.strip_prefix("/v1").unwrap_or(path);
    let timing = shared.batch_timing();
    let not_found = || full(404, JSON, error_body(404, path, id), &[]);
    match (method, rest) {
        ("POST", "/batches") => {
            if shared.config.validate {
                if let Err(problem) = schemas().check_batch(body) {
                    return Some(refused(400, path, id, &problem));
                }
            }
            let batch_id = format!("msgbatch_mock{id:012}");
            let next = || next_reply(shared, None).unwrap_or_else(|_| Reply::documented());
            let object = shared.batches.create(batch_id, body, next, &timing);
            Some(full(200, JSON, object.to_string(), &[]))
        }
        ("GET", "/batches") => {
            if let Some(reply) = shared.batches.next_poll() {
                if let Kind::Status { status, body } = &reply.kind {
                    let (status, body) = (*status, body.as_deref());
                    return Some(scripted_status(status, body, path, id, &reply.headers));
                }
            }
            let wanted = crate::catalogue::query_pairs(query)
                .into_iter()
                .find(|(k, _)| k == "batch_id")
                .map(|(_, v)| v);
            let Some(wanted) = wanted.filter(|v| !v.is_empty()) else {
                return Some(refused(
                    400,
                    path,
                    id,
                    "the `batch_id` query parameter is required",
                ));
            };
            Some(match shared.batches.status(&wanted, &timing) {
                Some(elements) => full(200, JSON, write(&elements, shared.config.batch_form), &[]),
                None => not_found(),
            })
        }
        ("POST", rest) => {
            let wanted = rest.strip_prefix("/batches/cancel/")?;
            Some(match shared.batches.cancel(wanted, &timing) {
                Some(Ok(object)) => full(200, JSON, object.to_string(), &[]),
                Some(Err(message)) => {
                    let body = json!({
                        "requestId": format!("mock-{id:08x}"),
                        "statusCode": 400,
                        "timestamp": "2026-01-01T00:00:00.000Z",
                        "path": path,
                        "message": message,
                    });
                    full(400, JSON, body.to_string(), &[])
                }
                None => not_found(),
            })
        }
        _ => None,
    }
}

//! OpenRouter's generation stats: `GET /api/v1/generation?id=<id>`.

use hyper::Response;

use super::authorized;
use crate::catalogue;
use crate::response::{full, Body};
use crate::state::Shared;

/// An error in OpenRouter's shape: `{"error": {"code", "message"}}`.
fn openrouter_error(status: u16, message: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {"code": status, "message": message}});
    full(status, "application/json", body.to_string(), &[])
}

/// `GET /api/v1/generation?id=<id>`: OpenRouter's stats of an answer the mock gave, 404 for an
/// id it did not give (or no longer keeps).
pub(super) fn stats(shared: &Shared, query: &str, auth: Option<&str>) -> Response<Body> {
    if !authorized(shared, auth) {
        return openrouter_error(401, "No auth credentials found");
    }
    let wanted = catalogue::query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty());
    let Some(wanted) = wanted else {
        return openrouter_error(400, "the `id` query parameter is required");
    };
    match shared.generations.find(&wanted) {
        Some(g) => full(200, "application/json", g.stats().to_string(), &[]),
        None => openrouter_error(404, &format!("Generation {wanted} not found")),
    }
}

//! The model catalogue: `GET /v1/models` (or `/models`, `/api/v1/models`) and
//! `GET /model/{id}`, HEAD as GET, each answer with its weak `ETag`.

use hyper::Response;

use crate::catalogue;
use crate::response::{full, Body};

/// `GET /v1/models`: the catalogue's entries the `query`'s filters keep, with the sections it
/// asks for.
pub(super) fn list(query: &str, if_none_match: Option<&str>) -> Response<Body> {
    cached(catalogue::list(query), if_none_match)
}

/// `GET /model/{name}`: the entry with this id or alias (`name` unescaped, slashes and all),
/// with the sections `query` asks for; `None` when no entry has it.
pub(super) fn one(name: &str, query: &str, if_none_match: Option<&str>) -> Option<Response<Body>> {
    catalogue::one(&catalogue::decode(name, false), query).map(|body| cached(body, if_none_match))
}

/// A catalogue answer with its weak `ETag`; `304` with an empty body when `If-None-Match` names
/// that tag.
fn cached(body: String, if_none_match: Option<&str>) -> Response<Body> {
    let tag = catalogue::etag(&body);
    let headers = [("etag".to_string(), tag.clone())];
    if if_none_match.is_some_and(|v| catalogue::matches(v, &tag)) {
        let mut response = full(304, "application/json", String::new(), &headers);
        response.headers_mut().remove("content-type");
        return response;
    }
    full(200, "application/json", body, &headers)
}

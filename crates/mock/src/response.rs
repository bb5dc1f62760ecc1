//! Responses as the server sends them: a body with its status and headers, the vendor's error
//! body, and the 400 that says what a request or a script asked for that cannot be carried out.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::{Response, StatusCode};
use serde_json::json;

/// A response body: whole, or streamed frame by frame.
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// A response with this whole `body`.
pub(crate) fn full(
    status: u16,
    content_type: &str,
    body: String,
    headers: &[(String, String)],
) -> Response<Body> {
    let body = Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed();
    respond_with(status, content_type, headers, body)
}

/// A response, or, when the scripted status or headers cannot be sent, a 400 that says why.
pub(crate) fn respond_with(
    status: u16,
    content_type: &str,
    headers: &[(String, String)],
    body: Body,
) -> Response<Body> {
    let Ok(status) = StatusCode::from_u16(status) else {
        return refused(
            400,
            "",
            0,
            &format!("scripted status {status} is not an HTTP status"),
        );
    };
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", content_type);
    for (k, v) in headers {
        if let Err(problem) = check_header(k, v) {
            return refused(400, "", 0, &format!("scripted header: {problem}"));
        }
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(body)
        .unwrap_or_else(|e| refused(400, "", 0, &format!("scripted response: {e}")))
}

/// The vendor's error body for `status`, with what is wrong in `x-mock-validation`.
pub(crate) fn refused(status: u16, path: &str, id: u64, problem: &str) -> Response<Body> {
    let body = error_body(status, path, id);
    let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&header_safe(problem)) {
        headers.insert("x-mock-validation", v);
    }
    response
}

/// Whether `name: value` can be sent as a response header; what is wrong if not.
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), String> {
    hyper::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    hyper::header::HeaderValue::from_str(value)
        .map_err(|_| format!("the value of {name} has characters a header cannot carry"))?;
    Ok(())
}

/// `text` as a header value: visible ASCII kept, anything else escaped (`\n`, `\u{e9}`).
fn header_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let keep = c == ' ' || c.is_ascii_graphic();
            let escaped = (!keep).then(|| c.escape_default());
            keep.then_some(c)
                .into_iter()
                .chain(escaped.into_iter().flatten())
        })
        .collect()
}

/// The vendor's messages per status (from its error pages).
fn vendor_message(status: u16) -> &'static str {
    match status {
        400 => "Body validation error!",
        401 => "This request requires a valid API key. You can create a new API key on the Billing page: https://aimlapi.com/app/keys",
        403 => "You've run out of credits. Please top up your balance or update your payment method to continue: https://aimlapi.com/app/billing/",
        404 => "Not Found",
        429 => "Too Many Requests",
        500..=599 => "Internal server error",
        _ => "Error",
    }
}

/// An error body in the vendor's shape: `{message, path, requestId, statusCode, timestamp}`.
pub(crate) fn error_body(status: u16, path: &str, request_id: u64) -> String {
    json!({
        "message": vendor_message(status),
        "path": path,
        "requestId": format!("mock-{request_id:08x}"),
        "statusCode": status,
        "timestamp": "2026-01-01T00:00:00.000Z",
    })
    .to_string()
}

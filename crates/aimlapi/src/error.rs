//! One error type, with kinds a caller can match on.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;

/// What went wrong, in the terms a caller acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the key is missing, wrong or disabled.
    Authentication,
    /// 403 on a model call: the account is out of credits.
    InsufficientCredits,
    /// 403 on an account route: this key may not do that (a management key on the ledger, a
    /// regular key naming another key's prefix).
    Forbidden,
    /// 429: too many requests; see [`HttpError::retry_after`].
    RateLimited,
    /// 400 or 422: the request was refused; see [`HttpError::message`].
    BadRequest,
    /// 404.
    NotFound,
    /// The model is overloaded: status 529, or an `overloaded_error` (an error answer's type, or
    /// the type of an error event inside a stream). Worth waiting for: overload windows last from
    /// seconds to minutes ([`RetryPolicy::patient`](crate::RetryPolicy::patient)), or moving to
    /// another gateway ([`ClientBuilder::fallback`](crate::ClientBuilder::fallback)).
    Overloaded,
    /// 5xx other than an overload.
    Server,
    /// Any other HTTP status that is not a success.
    OtherStatus,
    /// The request, or a stream between two chunks, took longer than its timeout.
    Timeout,
    /// No connection could be made, or it broke.
    Connection,
    /// The response was not what the types describe; the raw body is kept.
    Decode,
    /// The client is not set up right (no key, a header that cannot be sent).
    Config,
    /// The server reported an error inside a stream that had started (HTTP status 200).
    Stream,
    /// A stream ended before any finish reason and without `[DONE]`.
    UnexpectedEnd,
    /// A tool loop reached its step limit with tool calls still pending.
    StepLimit,
    /// A non-streaming response body (or one element of a batch's answer) was larger than the
    /// client's limit
    /// ([`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body)), or would
    /// take more than that again decoded.
    ResponseTooLarge,
    /// The request has a property the model's page does not list, or something its shape cannot
    /// carry; it was not sent.
    Unsupported,
    /// The request is wrong whatever the model ([`Error::InvalidRequest`] says what raises it);
    /// nothing was sent.
    InvalidRequest,
    /// The client's [`Budget`](crate::budget::Budget) is spent; nothing was sent.
    BudgetExceeded,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Authentication => "authentication failed",
            ErrorKind::InsufficientCredits => "insufficient credits",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::BadRequest => "bad request",
            ErrorKind::NotFound => "not found",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Server => "server error",
            ErrorKind::OtherStatus => "unexpected status",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Connection => "connection failed",
            ErrorKind::Decode => "could not decode the response",
            ErrorKind::Config => "client configuration",
            ErrorKind::Stream => "error inside the stream",
            ErrorKind::UnexpectedEnd => "the stream ended early",
            ErrorKind::StepLimit => "the tool loop reached its step limit",
            ErrorKind::ResponseTooLarge => "the response body is over the size limit",
            ErrorKind::Unsupported => "the model does not take a property of the request",
            ErrorKind::InvalidRequest => "the request could not be built",
            ErrorKind::BudgetExceeded => "the budget is spent",
        })
    }
}

/// An answer with a status that is not a success, with everything it carried.
#[derive(Clone, Debug)]
pub struct HttpError {
    /// The status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The request id: `x-request-id`, `x-inference-id`, `x-generation-id` or the body's `requestId`.
    pub request_id: Option<String>,
    /// The `X-Client-Request-Id` the request carried (set by the client that sent it).
    pub client_request_id: Option<String>,
    /// The body as it came, lossily decoded as UTF-8.
    pub body: String,
    /// The server's message: from either JSON error shape, or the plain-text body (its first
    /// 4 KiB when longer; [`body`](Self::body) has all of it).
    pub message: String,
    /// The server's error code, number or string, as text (`"429"`, `"rate_limit"`).
    pub code: Option<String>,
    /// How long the server asked to wait (`retry-after-ms` or `retry-after`), not capped by the
    /// retry policy; `None` when neither header holds a sensible wait (a finite, non-negative
    /// number or an HTTP date, no more than a year away).
    pub retry_after: Option<Duration>,
}

impl HttpError {
    /// The rate limits the answer named, whichever header family the gateway sends.
    pub fn rate_limits(&self) -> crate::rate_limits::RateLimits {
        crate::rate_limits::RateLimits::from_headers(&self.headers)
    }

    /// Reads an error response: both JSON shapes the gateways send, or plain text.
    pub fn from_parts(status: StatusCode, headers: HeaderMap, body: &[u8]) -> Self {
        // Read within its own length decoded, or 64 KiB for a short one (an error body of a
        // million empty arrays is text, not a tree of them).
        let budget = body.len().max(64 * 1024);
        let json: Option<Value> = crate::json::from_slice(body, budget).ok();
        let body = String::from_utf8_lossy(body).into_owned();
        let (message, code, body_request_id) = match &json {
            // OpenAI / OpenRouter: {"error": {"code", "message", "type", "param", "metadata"}}
            Some(Value::Object(m)) if m.get("error").is_some_and(Value::is_object) => {
                let e = &m["error"];
                (
                    e.get("message").map(text),
                    e.get("code").filter(|c| !c.is_null()).map(text),
                    None,
                )
            }
            // AI/ML API: {message, path, requestId, statusCode, timestamp}
            Some(Value::Object(m)) => (
                m.get("message").map(text),
                m.get("statusCode").filter(|c| !c.is_null()).map(text),
                m.get("requestId").map(text),
            ),
            _ => (None, None, None),
        };
        let message = message.unwrap_or_else(|| shortened(body.trim(), MESSAGE_MOST));
        let request_id = request_id(&headers).or(body_request_id);
        let retry_after = retry_after(&headers);
        HttpError {
            status,
            headers,
            request_id,
            client_request_id: None,
            body,
            message,
            code,
            retry_after,
        }
    }

    /// The AI/ML API's id of the call (`x-inference-id`), when the answer carried one.
    pub fn inference_id(&self) -> Option<&str> {
        self.headers.get("x-inference-id")?.to_str().ok()
    }

    /// The upstream provider's error when the gateway wrapped it in its `message` (the AI/ML
    /// API writes `"400 {\"type\":\"error\",\"error\":{..}}"` for Anthropic's errors, such
    /// as the cancel of a batch that has ended), else `None`.
    pub fn upstream(&self) -> Option<UpstreamError> {
        let text = self.message.trim_start();
        let json = text
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        let value: Value = serde_json::from_str(json).ok()?;
        let error = value.get("error").filter(|e| e.is_object())?;
        Some(UpstreamError {
            error_type: error.get("type").map(text_of)?,
            message: error.get("message").map(text_of).unwrap_or_default(),
            request_id: value.get("request_id").map(text_of),
        })
    }

    /// The kind this status means.
    pub fn kind(&self) -> ErrorKind {
        match self.status.as_u16() {
            401 => ErrorKind::Authentication,
            403 => ErrorKind::InsufficientCredits,
            429 => ErrorKind::RateLimited,
            400 | 422 => ErrorKind::BadRequest,
            404 => ErrorKind::NotFound,
            529 => ErrorKind::Overloaded,
            500..=599 if self.is_overload() => ErrorKind::Overloaded,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::OtherStatus,
        }
    }

    /// Whether the answer's error type or code is Anthropic's `overloaded_error` (as it came,
    /// or wrapped by the gateway in its message).
    fn is_overload(&self) -> bool {
        self.code.as_deref() == Some(OVERLOADED)
            || self.body.contains(OVERLOADED)
                && (error_type(&self.body).as_deref() == Some(OVERLOADED)
                    || self.upstream().is_some_and(|u| u.error_type == OVERLOADED))
    }
}

/// Anthropic's error type for an overloaded model.
pub(crate) const OVERLOADED: &str = "overloaded_error";

/// `error.type` of a JSON error body (`{"type":"error","error":{"type":..}}`).
fn error_type(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value.get("error")?.get("type").map(text)
}

/// An upstream provider's error inside a gateway's error answer ([`HttpError::upstream`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamError {
    /// The error's type (`invalid_request_error`, `overloaded_error`, ...).
    pub error_type: String,
    /// The provider's message.
    pub message: String,
    /// The provider's request id (`req_...`), when it gave one.
    pub request_id: Option<String>,
}

fn text_of(v: &Value) -> String {
    text(v)
}

/// The longest plain-text body taken as an error's message whole; the body keeps the rest.
const MESSAGE_MOST: usize = 4096;

/// `text`, cut at a character boundary to `most` bytes (with `...` when cut).
pub(crate) fn shortened(text: &str, most: usize) -> String {
    if text.len() <= most {
        return text.to_string();
    }
    let mut end = most;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// A JSON value as text: strings without quotes, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request id from whichever header the gateway uses.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    id_headers(headers)
        .into_iter()
        .flatten()
        .next()
        .map(str::to_string)
}

/// The first value of each id header a response may carry, in the order [`request_id`] prefers
/// them: `x-request-id`, `x-inference-id`, `x-generation-id`, `x-client-request-id`. One pass
/// over the headers (a response has a handful), not a lookup per name.
pub(crate) fn id_headers(headers: &HeaderMap) -> [Option<&str>; 4] {
    let mut ids = [None; 4];
    for (name, value) in headers {
        let at = match name.as_str() {
            "x-request-id" => 0,
            "x-inference-id" => 1,
            "x-generation-id" => 2,
            "x-client-request-id" => 3,
            _ => continue,
        };
        if ids[at].is_none() {
            ids[at] = value.to_str().ok();
        }
    }
    ids
}

/// Everything that can go wrong. [`Error::kind`] says what, in terms to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success.
    #[error("{}: HTTP {}: {}{}", .0.kind(), .0.status, .0.message, .0.request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Http(Box<HttpError>),
    /// An account route answered 403: the key may not do this. The answer is kept.
    #[error("forbidden: HTTP {}: {}{}", .0.status, .0.message, .0.request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Forbidden(Box<HttpError>),
    /// The request, or the wait between two stream chunks, took too long.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// The timeout that ran out.
        after: Duration,
        /// What was awaited: `the response` or `the next stream chunk`.
        waiting_for: &'static str,
    },
    /// No connection could be made, or it broke.
    #[error("connection failed: {0}")]
    Connection(#[source] reqwest::Error),
    /// The response did not match the types.
    #[error("could not decode the response: {message}")]
    Decode {
        /// What did not match.
        message: String,
        /// The raw body.
        body: String,
    },
    /// A structured answer ([`Chat::output`](crate::Chat::output)) that is not the type asked
    /// for: `text` is what the model wrote (the text, or the tool input), `why` what did not fit.
    /// Its kind is [`ErrorKind::Decode`].
    #[error("the answer is not a `{expected}`: {why}")]
    Output {
        /// The type asked for.
        expected: String,
        /// Why it does not read as one.
        why: String,
        /// What the model wrote.
        text: String,
    },
    /// The client is not set up right.
    #[error("client configuration: {0}")]
    Config(String),
    /// The server reported an error inside a stream (OpenRouter's `error` chunk with
    /// `finish_reason: "error"`, the Messages endpoint's `error` event: its `error.type`, such as
    /// `overloaded_error`, is the code).
    #[error("error inside the stream{}: {message}", .code.as_ref().map(|c| format!(" (code {c})")).unwrap_or_default())]
    Stream {
        /// The error code, number or string, as text.
        code: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The stream ended before any finish reason and without `data: [DONE]`: the answer is
    /// incomplete.
    #[error("the stream ended before the answer was finished")]
    UnexpectedEnd,
    /// A tool loop sent as many requests as it may and the model still asked for tools.
    #[error("the model still asked for tools after {steps} requests (ToolLoop::max_steps)")]
    StepLimit {
        /// The requests sent.
        steps: usize,
    },
    /// A non-streaming response body, or one element of a batch's answer, was larger than the
    /// client's limit; the rest was not read.
    #[error("the response body (or one element of a batch's answer) is larger than the limit of {limit} bytes (ClientBuilder::max_response_body)")]
    ResponseTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A response (or one element of a batch's answer) within the byte limit would take more
    /// memory than the limit again once decoded (a page of a million empty objects, say): the
    /// read stopped there. Its kind is [`ErrorKind::ResponseTooLarge`].
    #[error("the response would take more than {limit} bytes of memory decoded; raise ClientBuilder::max_response_body to read it")]
    DecodedTooLarge {
        /// The limit, in bytes (the body limit).
        limit: usize,
    },
    /// The request sets a property that the model's page does not list (or a `thinking` mode,
    /// `thinking.display`, a `cache_control` marker it does not take there), so it was not
    /// sent. `RequestOptions::send_unsupported` (per request) or
    /// `ClientBuilder::check_properties(false)` (per client) sends it anyway.
    #[error("model `{model}` does not take `{property}`: its page ({page}) does not list it; set RequestOptions::send_unsupported or ClientBuilder::check_properties(false) to send it anyway")]
    Unsupported {
        /// The model id the request names.
        model: String,
        /// The property: a top-level name (`temperature`), or a path for a nested one
        /// (`thinking.display`, `system.cache_control`, `messages.cache_control`,
        /// `tools.cache_control`).
        property: String,
        /// The page (bundled document) the model belongs to.
        page: &'static str,
    },
    /// The conversation holds something the model's request shape cannot carry (an image by
    /// URL where the page takes base64 only, tool arguments that are not a JSON object), so
    /// nothing was sent.
    #[error("model `{model}` cannot take {what}")]
    CannotWrite {
        /// The model id.
        model: String,
        /// What cannot be written, and why.
        what: String,
    },
    /// A request that is wrong whatever the model, refused before anything is sent; the text
    /// says what is wrong. Raised by: a generated builder's `try_into()` (a required field
    /// missing, a value out of its type's range); the conversation API's settings that contradict
    /// each other (more than four cache breakpoints, a breakpoint before any turn, a thinking
    /// `display` without thinking on, a thinking budget under 1,024 tokens or not below
    /// `max_tokens`); an `X-Client-Request-Id` the API would drop (not 1 to 128 characters of
    /// `A-Z a-z 0-9 . _ : -`); a request the HTTP stack cannot send as it is (a URL too long,
    /// such as one carrying a server's megabyte cursor: not retried). A property the model's
    /// page does not take is [`Error::Unsupported`] instead.
    #[error("the request could not be built: {0}")]
    InvalidRequest(String),
    /// The client's [`Budget`](crate::budget::Budget) is spent: `figure` (the vendor's, with this
    /// client's calls since it was read) is past `limit`. Nothing was sent.
    #[error("the budget is spent: {limit} was set, and the figure is {}", dollars(*.figure))]
    BudgetExceeded {
        /// The limit, in words (`at most $5 over the last 1 days`).
        limit: String,
        /// The figure checked against it: dollars spent, or the balance left.
        figure: f64,
    },
    /// A paged list (the ledger, the request log) stopped: the server gave a page position
    /// (a cursor, an offset) again, or a page that leads on but adds nothing, and following it
    /// would never end. The rows before it were given. Its kind is
    /// [`ErrorKind::Decode`].
    #[error("paging {route} stopped at {position}: {why}")]
    Paging {
        /// The route (`/v2/billing/transactions`, `/v2/logs`).
        route: &'static str,
        /// The position: the cursor or offset, as the route writes it (quoted when text).
        position: String,
        /// What the server did.
        why: &'static str,
    },
    /// One request of a batch was refused before anything was sent: `error` says why (its
    /// [`kind`](Error::kind) is the batch's).
    #[error("request `{custom_id}` of the batch: {error}")]
    InBatch {
        /// The request's `custom_id`.
        custom_id: String,
        /// Why it was refused.
        #[source]
        error: Box<Error>,
    },
    /// A call failed on a gateway in a way that moves it
    /// ([`FailoverPolicy`](crate::failover::FailoverPolicy)), and the gateway it would have gone
    /// to next does not serve its model: `error` is the last failure, `why` says where it stayed.
    /// Its [`kind`](Error::kind) is `error`'s.
    #[error("{error} ({why})")]
    NotMoved {
        /// The last failure.
        #[source]
        error: Box<Error>,
        /// Which gateway it did not move to, and why.
        why: String,
    },
    /// A split submission (`BatchBuilder::submit_all`) failed part way: the batches in
    /// `batch_ids` were made (and run, and cost), the next one failed with `error`; nothing after
    /// it was sent. `BatchHandle { ids: batch_ids, .. }` picks the made ones up (to wait for, or
    /// to cancel). Its [`kind`](Error::kind) is `error`'s.
    #[error("batches {} were submitted, then the next failed: {error}", batch_ids.join(", "))]
    PartlySubmitted {
        /// The batches made before the failure, in order.
        batch_ids: Vec<String>,
        /// Why the next one failed.
        #[source]
        error: Box<Error>,
    },
}

/// A generated builder's `try_into()` failing: `?` turns it into [`Error::InvalidRequest`].
impl From<aimlapi_types::error::ConversionError> for Error {
    fn from(e: aimlapi_types::error::ConversionError) -> Self {
        Error::InvalidRequest(e.to_string())
    }
}

impl Error {
    /// The error a body that could not be read as its type is:
    /// [`Error::DecodedTooLarge`], or [`Error::Decode`] with the body as it came.
    pub(crate) fn of_json(failure: crate::json::JsonFailure, body: &[u8]) -> Error {
        match failure {
            crate::json::JsonFailure::TooLarge { budget } => {
                Error::DecodedTooLarge { limit: budget }
            }
            crate::json::JsonFailure::Bad(message) => Error::Decode {
                message,
                body: String::from_utf8_lossy(body).into_owned(),
            },
        }
    }

    /// [`of_json`](Self::of_json) for a response's body, saying what came: the status, the
    /// content type, the length and the first bytes (an HTML page from a proxy, a truncated
    /// body), beside what the parser found.
    pub(crate) fn of_response(
        failure: crate::json::JsonFailure,
        body: &[u8],
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Error {
        match Error::of_json(failure, body) {
            Error::Decode {
                message,
                body: text,
            } => Error::Decode {
                message: format!(
                    "{message} (HTTP {}, {}, {} bytes, beginning {:?})",
                    status.as_u16(),
                    headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map_or("no content type".to_string(), |t| format!(
                            "content type {t}"
                        )),
                    body.len(),
                    shortened(&text, 120),
                ),
                body: text,
            },
            other => other,
        }
    }

    /// The error, with the `X-Client-Request-Id` its request carried recorded (HTTP errors).
    pub(crate) fn with_client_request_id(mut self, id: &str) -> Self {
        if let Error::Http(e) = &mut self {
            e.client_request_id = Some(id.to_string());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Http(e) => e.kind(),
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Connection(_) => ErrorKind::Connection,
            Error::Decode { .. } | Error::Paging { .. } | Error::Output { .. } => ErrorKind::Decode,
            Error::Config(_) => ErrorKind::Config,
            Error::Stream { code, .. } if matches!(code.as_deref(), Some(OVERLOADED | "529")) => {
                ErrorKind::Overloaded
            }
            Error::Stream { .. } => ErrorKind::Stream,
            Error::UnexpectedEnd => ErrorKind::UnexpectedEnd,
            Error::StepLimit { .. } => ErrorKind::StepLimit,
            Error::ResponseTooLarge { .. } | Error::DecodedTooLarge { .. } => {
                ErrorKind::ResponseTooLarge
            }
            Error::Unsupported { .. } | Error::CannotWrite { .. } => ErrorKind::Unsupported,
            Error::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Error::BudgetExceeded { .. } => ErrorKind::BudgetExceeded,
            Error::InBatch { error, .. }
            | Error::PartlySubmitted { error, .. }
            | Error::NotMoved { error, .. } => error.kind(),
        }
    }

    /// The HTTP error, for errors that came with a response.
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            Error::Http(e) | Error::Forbidden(e) => Some(e),
            Error::NotMoved { error, .. } => error.http(),
            _ => None,
        }
    }

    /// The error an account route's failure is: a 403 is [`Error::Forbidden`] (on a model call
    /// it means no credits; here, that the key may not do this).
    pub(crate) fn forbidden_on_account(self) -> Error {
        match self {
            Error::Http(e) if e.status == StatusCode::FORBIDDEN => Error::Forbidden(e),
            other => other,
        }
    }

    /// The status, for errors that came with a response.
    pub fn status(&self) -> Option<StatusCode> {
        self.http().map(|e| e.status)
    }
}

/// A sum of US dollars as a person reads it: `$5.00`, `$5.000123`, `$0.000042` (to the
/// millionth, trailing zeros after the cents dropped), `$1.235e12` past a billion, and so on
/// for sums no budget or balance has (a server's `1e308` is not printed as 309 digits).
pub(crate) fn dollars(usd: f64) -> String {
    if !usd.is_finite() {
        return format!("${usd}");
    }
    let size = usd.abs();
    if size >= 1e9 || (size > 0.0 && size < 5e-7) {
        return format!("${usd:.3e}");
    }
    let mut text = format!("{usd:.6}");
    let cents = text.find('.').map_or(text.len(), |dot| dot + 3);
    while text.len() > cents && text.ends_with('0') {
        text.pop();
    }
    format!("${text}")
}

/// The wait a server asked for: `retry-after-ms` (milliseconds), else `retry-after` (seconds
/// or an HTTP date). A value that is empty, negative, not a number or date, NaN, infinite or
/// longer than a year is treated as absent; an HTTP date in the past asks for no wait. Never
/// panics, whatever the headers hold.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if let Some(wait) = sensible_seconds(ms / 1000.0) {
            return Some(wait);
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return sensible_seconds(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    (wait <= crate::time::FARTHEST).then_some(wait)
}

/// `secs` as a wait, when it is a finite, non-negative number of seconds no longer than
/// [`crate::time::FARTHEST`].
fn sensible_seconds(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|wait| *wait <= crate::time::FARTHEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> HttpError {
        HttpError::from_parts(
            StatusCode::from_u16(status).unwrap(),
            HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn both_json_shapes_and_plain_text_parse() {
        let aiml = parse(
            429,
            r#"{"message":"Too Many Requests","path":"/v1/chat/completions","requestId":"r-1","statusCode":"429","timestamp":"2026-01-01T00:00:00Z"}"#,
        );
        assert_eq!(
            (
                aiml.message.as_str(),
                aiml.code.as_deref(),
                aiml.request_id.as_deref()
            ),
            ("Too Many Requests", Some("429"), Some("r-1"))
        );
        let numeric = parse(
            401,
            r#"{"message":"This request requires a valid API key.","statusCode":401}"#,
        );
        assert_eq!(numeric.code.as_deref(), Some("401"));
        assert_eq!(numeric.kind(), ErrorKind::Authentication);
        let openai = parse(
            400,
            r#"{"error":{"code":400,"message":"bad model","type":"invalid_request_error","param":"model","metadata":{}}}"#,
        );
        assert_eq!(
            (openai.message.as_str(), openai.code.as_deref()),
            ("bad model", Some("400"))
        );
        let string_code = parse(
            400,
            r#"{"error":{"code":"invalid_model","message":"bad model"}}"#,
        );
        assert_eq!(string_code.code.as_deref(), Some("invalid_model"));
        let plain = parse(400, "Body validation error!\n");
        assert_eq!(
            (plain.message.as_str(), plain.code),
            ("Body validation error!", None)
        );
        assert_eq!(plain.body, "Body validation error!\n");
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        assert_eq!(shortened("short", 10), "short");
        assert_eq!(shortened("ééééé", 3), "é...");
        let plain = parse(500, &"x".repeat(10_000));
        assert_eq!(plain.message.len(), MESSAGE_MOST + 3);
        assert_eq!(plain.body.len(), 10_000);
    }

    #[test]
    fn dollars_at_a_sensible_precision() {
        for (usd, text) in [
            (5.0, "$5.00"),
            (5.000123, "$5.000123"),
            (0.000042, "$0.000042"),
            (1234.5, "$1234.50"),
            (-3.25, "$-3.25"),
            (0.0, "$0.00"),
            (1e308, "$1.000e308"),
            (-2.5e15, "$-2.500e15"),
            (1e-12, "$1.000e-12"),
            (f64::INFINITY, "$inf"),
        ] {
            assert_eq!(dollars(usd), text, "{usd}");
        }
    }

    #[test]
    fn kinds_follow_the_status() {
        for (status, kind) in [
            (401, ErrorKind::Authentication),
            (403, ErrorKind::InsufficientCredits),
            (429, ErrorKind::RateLimited),
            (400, ErrorKind::BadRequest),
            (422, ErrorKind::BadRequest),
            (404, ErrorKind::NotFound),
            (503, ErrorKind::Server),
            (418, ErrorKind::OtherStatus),
        ] {
            assert_eq!(parse(status, "").kind(), kind, "{status}");
        }
    }
}

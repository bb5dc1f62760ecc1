//! A request as the server received it ([`Recorded`]): what the routes and the cassettes read,
//! and what [`MockServer::requests`](crate::MockServer::requests) gives back.

use serde_json::Value;

/// A request as the server received it.
#[derive(Clone)]
pub struct Recorded {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The query string as sent (no `?`), empty when there is none.
    pub query: String,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::String` of the raw text when it is not JSON).
    pub body: Value,
    /// The `x-inference-id` the server made for the response (a scripted `x-inference-id`
    /// header, if any, went out instead).
    pub inference_id: String,
}

impl Recorded {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key a client sent is not printed.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = matches!(
                    k.as_str(),
                    "authorization" | "proxy-authorization" | "x-api-key" | "api-key" | "cookie"
                );
                let v = if secret { "<redacted>" } else { v };
                (k.as_str(), v)
            })
            .collect();
        f.debug_struct("Recorded")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("inference_id", &self.inference_id)
            .finish()
    }
}

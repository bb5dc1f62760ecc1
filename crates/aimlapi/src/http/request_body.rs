//! A request's JSON body: a value written for each attempt, or bytes written once before the
//! first ([`Written`]).

use bytes::Bytes;

use crate::error::Error;

/// What a request's body is written from.
pub(crate) trait RequestBody {
    /// The body's JSON.
    fn json(&self) -> serde_json::Result<Bytes>;
}

impl<T: serde::Serialize> RequestBody for T {
    fn json(&self) -> serde_json::Result<Bytes> {
        serde_json::to_vec(self).map(Bytes::from)
    }
}

/// A body written once, before the first attempt: what a stream's opening holds while it waits
/// (for admission, the response, a retry), in place of the values it was written from (the
/// conversation's body is a few hundred bytes of state; these are 32). A body that cannot be
/// written fails the first attempt, as one written for each attempt does.
pub(crate) struct Written(Result<Bytes, String>);

impl Written {
    /// `body` as JSON.
    pub(crate) fn of(body: &impl serde::Serialize) -> Written {
        Written(body.json().map_err(|e| e.to_string()))
    }
}

impl RequestBody for Written {
    fn json(&self) -> serde_json::Result<Bytes> {
        match &self.0 {
            Ok(json) => Ok(json.clone()),
            Err(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

/// The error of a body that cannot be written as JSON (a map with keys that are not strings,
/// a serializer that fails).
pub(crate) fn cannot_write(e: &serde_json::Error) -> Error {
    Error::Config(format!("request: the body cannot be written as JSON: {e}"))
}

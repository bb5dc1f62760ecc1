//! Reading what the status route answers: each element ([`Element`]) is a result line, a batch
//! object or a status; [`Answer`] pulls them off a body as it arrives, one at a time.

use aimlapi_types as types;
use futures::StreamExt;

use super::split::{Malformed, Splitter};
use crate::error::Error;
use crate::http::body::ByteStream;

/// One element of a status or results answer.
#[derive(Debug)]
pub(crate) enum Element {
    /// A request's result.
    Result(Box<types::BatchResultLine>),
    /// The batch object (create, cancel, a status after a cancel).
    Batch(Box<types::MessageBatch>),
    /// `{"id", "status": "generating"}`: still being answered.
    Status(types::BatchGenerating),
}

/// An element as it is read off the body: a result line's fields, if it has them, and every
/// other field.
#[derive(serde::Deserialize)]
pub(crate) struct Line {
    custom_id: Option<String>,
    result: Option<types::BatchResult>,
    #[serde(flatten)]
    extra: serde_json::Map<String, serde_json::Value>,
}

/// What an element is, by the fields it has: `custom_id` and `result` make a result line,
/// `processing_status` a batch object, `id` and `status` a status. It was read as a result line,
/// the common case and the large one: a batch object or a status read that way keeps all its
/// fields in `extra`.
pub(crate) fn element(line: Line) -> Result<Element, Error> {
    let Line {
        custom_id,
        result,
        extra: mut fields,
    } = line;
    let custom_id = match (custom_id, result) {
        (Some(custom_id), Some(result)) => {
            return Ok(Element::Result(Box::new(types::BatchResultLine {
                custom_id,
                result,
                extra: fields,
            })));
        }
        (custom_id, _) => custom_id,
    };
    if let Some(id) = custom_id {
        fields.insert("custom_id".into(), id.into());
    }
    let object = serde_json::Value::Object(fields);
    let decode = |message: String| Error::Decode {
        message,
        body: object.to_string(),
    };
    if object.get("processing_status").is_some() {
        return serde_json::from_value(object.clone())
            .map(|b| Element::Batch(Box::new(b)))
            .map_err(|e| decode(format!("a batch object: {e}")));
    }
    if object.get("id").is_some() && object.get("status").is_some() {
        return serde_json::from_value(object.clone())
            .map(Element::Status)
            .map_err(|e| decode(format!("a batch status: {e}")));
    }
    Err(decode(
        "an element that is neither a result line (`custom_id`, `result`), a batch object \
         (`processing_status`) nor a status (`id`, `status`)"
            .into(),
    ))
}

fn malformed(m: Malformed) -> Error {
    if let Some(limit) = m.too_large {
        // Longer than the limit, or larger decoded: the one limit either way.
        return Error::ResponseTooLarge { limit };
    }
    Error::Decode {
        message: format!("a batch answer: {}", m.message),
        body: m.near,
    }
}

/// A status route's answer as it arrives, element by element.
pub(crate) struct Answer {
    body: ByteStream,
    splitter: Splitter,
    /// The body has ended.
    ended: bool,
    /// Nothing more will be given.
    finished: bool,
    /// The longest one element may take to arrive whole.
    per_element: std::time::Duration,
}

impl Answer {
    /// The answer in `body`, each element at most `limit` bytes, arriving whole within
    /// `per_element` of being asked for.
    pub(crate) fn new(body: ByteStream, limit: usize, per_element: std::time::Duration) -> Self {
        Answer {
            body,
            splitter: Splitter::new(limit),
            ended: false,
            finished: false,
            per_element,
        }
    }

    /// What came with the response.
    pub(crate) fn meta(&self) -> &crate::http::meta::ResponseMeta {
        self.body.meta()
    }

    /// The next element, `None` at the end of a well-formed body; after an error, `None`. An
    /// element that has not arrived whole within the time for one is a timeout.
    pub(crate) async fn next(&mut self) -> Option<Result<Element, Error>> {
        let after = self.per_element;
        match tokio::time::timeout(after, self.read_next()).await {
            Ok(element) => element,
            Err(_) => {
                self.finished = true;
                Some(Err(Error::Timeout {
                    after,
                    waiting_for: "the next element of the batch's answer",
                }))
            }
        }
    }

    async fn read_next(&mut self) -> Option<Result<Element, Error>> {
        while !self.finished {
            match self.splitter.next_element() {
                Ok(Some(line)) => return Some(element(line)),
                Ok(None) => {}
                Err(m) => {
                    self.finished = true;
                    return Some(Err(malformed(m)));
                }
            }
            if self.ended {
                self.finished = true;
                return self.splitter.finish().err().map(|m| Err(malformed(m)));
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.splitter.feed(chunk),
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                None => {
                    self.ended = true;
                    self.splitter.end();
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(bytes: &[u8]) -> Result<Element, Error> {
        super::element(serde_json::from_slice(bytes).unwrap())
    }

    #[test]
    fn each_element_kind_is_told_apart_by_its_fields() {
        let result = br#"{"custom_id":"a","result":{"type":"expired"}}"#;
        assert!(matches!(element(result), Ok(Element::Result(r)) if r.custom_id == "a"));
        let batch = br#"{"id":"b","type":"message_batch","processing_status":"canceling",
            "request_counts":{"processing":2,"succeeded":0,"errored":0,"canceled":0,"expired":0},
            "created_at":"2026-05-04T14:26:56.800735+00:00","status":"cancelled"}"#;
        match element(batch) {
            Ok(Element::Batch(b)) => {
                assert_eq!(b.processing_status, "canceling");
                assert_eq!(b.status.as_deref(), Some("cancelled"));
                assert_eq!(b.request_counts.processing, Some(2));
            }
            other => panic!("{other:?}"),
        }
        let status = br#"{"id":"msgbatch_01","status":"generating"}"#;
        assert!(matches!(element(status), Ok(Element::Status(s)) if s.status == "generating"));
        for other in [
            &br#"{"hello":1}"#[..],
            br#"{"custom_id":"a"}"#,
            br#"{"id":"x"}"#,
        ] {
            let err = element(other).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Decode);
            assert!(err.to_string().contains("neither a result line"), "{err}");
        }
    }
}

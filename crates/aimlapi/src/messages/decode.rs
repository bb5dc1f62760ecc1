//! [`MessageEventDecoder`]: typed Messages-endpoint events from the bytes of a body, no I/O.

use std::collections::VecDeque;

use aimlapi_types as types;
use aimlapi_types::MessageStreamEvent;
use bytes::Bytes;

use crate::error::Error;
use crate::messages::fold::stream_error;
use crate::streaming::frame::{SseDecoder, SseRef, DEFAULT_MAX_LINE};
use crate::streaming::Decode;

/// Typed Messages-endpoint events from the bytes of a body, in whatever pieces they come: feed
/// pieces, take events. Each event's `data` is decoded where the framing finds it (the `event:`
/// name repeats the payload's `type`, which is what is read). It is done after `message_stop`
/// or an `error` event (a typed [`Error::Stream`]). A body that ends before either is incomplete:
/// the stream over a response says so ([`Error::UnexpectedEnd`]), as does the fold's
/// [`finish`](crate::sse::Fold::finish).
#[derive(Debug)]
pub struct MessageEventDecoder {
    sse: SseDecoder,
    ready: VecDeque<Result<MessageStreamEvent, Error>>,
    done: bool,
}

impl Default for MessageEventDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl MessageEventDecoder {
    /// A decoder that refuses lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        MessageEventDecoder {
            sse: SseDecoder::new(max_line),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// Feeds one piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        if self.done {
            return;
        }
        let ready = &mut self.ready;
        let framed = self.sse.feed_with(piece, &mut |item| {
            if let SseRef::Event { data, .. } = item {
                if data.is_empty() {
                    return;
                }
                ready.push_back(parse_message_event(data));
            }
        });
        if let Err(e) = framed {
            self.ready.push_back(Err(e));
        }
    }

    /// The body ended: an event it did not close is dropped.
    pub fn finish(&mut self) {
        self.sse.finish();
    }

    /// The next event, if one is complete. After `message_stop`, an `error` event (given as
    /// [`Error::Stream`]) or any other error, nothing more.
    pub fn next_event(&mut self) -> Option<Result<MessageStreamEvent, Error>> {
        if self.done {
            return None;
        }
        let item = self.ready.pop_front()?;
        match &item {
            Ok(MessageStreamEvent::MessageStopEvent(_)) => self.done = true,
            Ok(MessageStreamEvent::ErrorEvent(e)) => {
                self.done = true;
                return Some(Err(stream_error(e)));
            }
            Err(_) => self.done = true,
            Ok(_) => {}
        }
        Some(item)
    }

    /// Whether `message_stop` or an error has been taken.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Decode for MessageEventDecoder {
    type Item = MessageStreamEvent;
    type Event = MessageStreamEvent;

    fn feed_piece(&mut self, piece: Bytes) {
        self.feed(&piece)
    }

    fn next(&mut self) -> Option<Result<MessageStreamEvent, Error>> {
        self.next_event()
    }

    fn body_ended(&mut self) {
        self.finish()
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// A Messages stream is whole only at `message_stop`, after which the decoder is done.
    fn is_whole(&self) -> bool {
        false
    }

    fn event(item: &MessageStreamEvent) -> Option<&MessageStreamEvent> {
        Some(item)
    }

    fn observe(event: &MessageStreamEvent, o: &mut crate::telemetry::Outcome) {
        use aimlapi_types as t;
        use MessageStreamEvent as E;
        // Each count of a usage replaces the one held (Messages counts run from the start).
        let merge = |held: &mut Option<Box<t::MessageUsage>>, new: &t::MessageUsage| match held {
            Some(old) => crate::messages::fold::merge_usage(old, new),
            None => *held = Some(Box::new(new.clone())),
        };
        match event {
            E::MessageStartEvent(t::MessageStartEvent {
                message: Some(m), ..
            }) => {
                o.response_id.clone_from(&m.id);
                o.response_model.clone_from(&m.model);
                if let Some(u) = &m.usage {
                    merge(&mut o.message_usage, u);
                }
            }
            E::MessageDeltaEvent(t::MessageDeltaEvent { delta, usage, .. }) => {
                if let Some(r) = delta.as_ref().and_then(|d| d.stop_reason.as_ref()) {
                    o.finish_reasons = vec![r.clone()];
                }
                if let Some(u) = usage {
                    merge(&mut o.message_usage, u);
                }
            }
            E::ErrorEvent(e) => {
                let error = crate::messages::fold::stream_error(e);
                o.error = Some(crate::telemetry::error_type(&error));
            }
            _ => {}
        }
    }
}

/// The `type` of an event payload written as `{"type":"...",` (as the API writes it), read
/// without decoding; `None` for any other layout.
#[inline]
fn leading_type(data: &[u8]) -> Option<&[u8]> {
    let rest = data.strip_prefix(b"{\"type\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Some(&rest[..end])
}

/// One Messages-endpoint event from its `data` payload (a logged stream replayed, say), as the
/// decoder reads it: typed, an unknown kind kept as `OtherKind`; a payload that is not an
/// event is [`Error::Decode`].
///
/// ```
/// use aimlapi::types::MessageStreamEvent;
///
/// let event = aimlapi::sse::parse_message_event(br#"{"type":"content_block_stop","index":0}"#)?;
/// assert!(matches!(event, MessageStreamEvent::ContentBlockStopEvent(_)));
/// # Ok::<(), aimlapi::Error>(())
/// ```
pub fn parse_message_event(payload: &[u8]) -> Result<MessageStreamEvent, Error> {
    decode_event(payload).map_err(|e| Error::Decode {
        message: format!("a Messages event that is not one: {e}"),
        body: String::from_utf8_lossy(payload).into_owned(),
    })
}

/// One event payload, typed. The generated event type is an untagged union, which tries its
/// variants one after another on a buffered copy of the payload; a payload whose leading `type`
/// names a known event is decoded as that variant directly. Should that fail, the union decides
/// (it keeps what no variant takes as `OtherKind`), so the result is the union's either way.
fn decode_event(data: &[u8]) -> Result<MessageStreamEvent, serde_json::Error> {
    use serde_json::from_slice;
    use MessageStreamEvent as E;
    let direct = match leading_type(data) {
        Some(b"content_block_delta") => {
            from_slice::<types::ContentBlockDeltaEvent>(data).map(E::ContentBlockDeltaEvent)
        }
        Some(b"content_block_start") => {
            from_slice::<types::ContentBlockStartEvent>(data).map(E::ContentBlockStartEvent)
        }
        Some(b"content_block_stop") => {
            from_slice::<types::ContentBlockStopEvent>(data).map(E::ContentBlockStopEvent)
        }
        Some(b"message_delta") => {
            from_slice::<types::MessageDeltaEvent>(data).map(E::MessageDeltaEvent)
        }
        Some(b"message_start") => {
            from_slice::<types::MessageStartEvent>(data).map(E::MessageStartEvent)
        }
        Some(b"message_stop") => {
            from_slice::<types::MessageStopEvent>(data).map(E::MessageStopEvent)
        }
        Some(b"ping") => from_slice::<types::PingEvent>(data).map(E::PingEvent),
        Some(b"error") => from_slice::<types::ErrorEvent>(data).map(E::ErrorEvent),
        _ => return from_slice(data),
    };
    direct.or_else(|_| from_slice(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct decode gives what the union gives, for every event of the test transcript and
    /// for payloads the named variant does not take.
    #[test]
    fn the_direct_decode_is_the_union_s() {
        let transcript = include_str!("../../../../tests/fixtures/messages-stream.txt");
        let mut payloads: Vec<String> = transcript
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(String::from)
            .collect();
        payloads.extend(
            [
                r#"{"type":"content_block_delta","index":"first"}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"new_delta","x":1}}"#,
                r#"{"type":"message_start"}"#,
                r#"{"type":"ping","extra":true}"#,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                r#"{"type":"error","error":"text"}"#,
                r#"{"type":"brand_new_event","index":3}"#,
                r#"{ "type": "ping" }"#,
                r#"{"index":0,"type":"content_block_stop"}"#,
                r#"{"type":"message_stop"#,
            ]
            .map(String::from),
        );
        assert!(payloads.len() > 20);
        for p in &payloads {
            let direct = decode_event(p.as_bytes());
            let union = serde_json::from_slice::<MessageStreamEvent>(p.as_bytes());
            assert_eq!(
                format!("{:?}", direct.map_err(|e| e.to_string())),
                format!("{:?}", union.map_err(|e| e.to_string())),
                "{p}"
            );
        }
    }
}

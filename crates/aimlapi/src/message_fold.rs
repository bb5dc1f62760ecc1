//! [`MessageAccumulator`]: the events of a streamed Messages-endpoint answer folded into the
//! [`MessageResponse`] a non-streaming call would have returned.

use std::collections::BTreeMap;

use aimlapi_types::{
    BlockDelta, ContentBlock, ErrorEvent, MessageResponse, MessageStreamEvent, MessageUsage,
    TextCitation,
};
use serde_json::{Map, Value};

use crate::error::Error;

/// Folds Messages-endpoint events, in order, into the whole message: text per block, a tool
/// call's input assembled from its `input_json_delta` pieces and parsed when its block stops,
/// thinking with its signature, usage from `message_start` updated by each `message_delta`.
/// Events and deltas of kinds it does not know are skipped; blocks of kinds it does not know are
/// kept as they started.
///
/// ```
/// use aimlapi::sse::MessageAccumulator;
/// use aimlapi::types::MessageStreamEvent;
///
/// let events = [
///     r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":12,"output_tokens":1}}}"#,
///     r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
///     r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
///     r#"{"type":"content_block_stop","index":0}"#,
///     r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}"#,
///     r#"{"type":"message_stop"}"#,
/// ];
/// let mut fold = MessageAccumulator::new();
/// for e in events {
///     fold.push(&serde_json::from_str::<MessageStreamEvent>(e).unwrap()).unwrap();
/// }
/// let message = fold.finish().unwrap();
/// assert_eq!(message.stop_reason.as_deref(), Some("end_turn"));
/// assert_eq!(message.usage.unwrap().output_tokens, Some(5));
/// ```
#[derive(Clone, Debug, Default)]
pub struct MessageAccumulator {
    message: Option<MessageResponse>,
    blocks: BTreeMap<usize, ContentBlock>,
    /// A tool call's input so far, by block index.
    json: BTreeMap<usize, String>,
    stopped: bool,
}

fn empty<T: serde::de::DeserializeOwned>() -> T {
    serde_json::from_value(Value::Object(Map::new())).expect("every field is optional")
}

/// An `error` event as the typed error: its kind (`overloaded_error`, ...) as the code.
pub(crate) fn stream_error(e: &ErrorEvent) -> Error {
    let error = e.error.as_ref();
    Error::Stream {
        code: error.and_then(|e| e.type_.clone()),
        message: error
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| "an error event without a message".into()),
    }
}

/// Each count `new` has replaces the one in `old` (Messages usage counts run from the start).
fn merge_usage(old: &mut MessageUsage, new: &MessageUsage) {
    macro_rules! take {
        ($($field:ident),*) => {$(
            if new.$field.is_some() {
                old.$field = new.$field.clone();
            }
        )*};
    }
    take!(
        input_tokens,
        output_tokens,
        cache_creation_input_tokens,
        cache_read_input_tokens,
        cache_creation,
        service_tier,
        inference_geo
    );
    for (k, v) in &new.extra {
        old.extra.insert(k.clone(), v.clone());
    }
}

impl MessageAccumulator {
    /// Nothing folded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one event. An `error` event is [`Error::Stream`] with the error's kind as its code;
    /// a tool call's input that is not a JSON object when its block stops is [`Error::Decode`].
    pub fn push(&mut self, event: &MessageStreamEvent) -> Result<(), Error> {
        match event {
            MessageStreamEvent::MessageStartEvent(e) => {
                let mut message = e.message.clone().unwrap_or_else(empty);
                for (i, block) in message
                    .content
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    self.blocks.insert(i, block);
                }
                self.message = Some(message);
            }
            MessageStreamEvent::ContentBlockStartEvent(e) => {
                let (Ok(index), Some(block)) = (usize::try_from(e.index), &e.content_block) else {
                    return Ok(());
                };
                if matches!(
                    block,
                    ContentBlock::ToolUseBlock(_) | ContentBlock::ServerToolUseBlock(_)
                ) {
                    self.json.insert(index, String::new());
                }
                self.blocks.insert(index, block.clone());
            }
            MessageStreamEvent::ContentBlockDeltaEvent(e) => {
                let (Ok(index), Some(delta)) = (usize::try_from(e.index), &e.delta) else {
                    return Ok(());
                };
                self.delta(index, delta);
            }
            MessageStreamEvent::ContentBlockStopEvent(e) => {
                let Ok(index) = usize::try_from(e.index) else {
                    return Ok(());
                };
                self.stop_block(index)?;
            }
            MessageStreamEvent::MessageDeltaEvent(e) => {
                let message = self.message.get_or_insert_with(empty);
                if let Some(d) = &e.delta {
                    if d.stop_reason.is_some() {
                        message.stop_reason = d.stop_reason.clone();
                    }
                    if d.stop_sequence.is_some() {
                        message.stop_sequence = d.stop_sequence.clone();
                    }
                }
                if let Some(u) = &e.usage {
                    merge_usage(message.usage.get_or_insert_with(empty), u);
                }
                if e.meta.is_some() {
                    message.meta = e.meta.clone();
                }
            }
            MessageStreamEvent::MessageStopEvent(_) => self.stopped = true,
            MessageStreamEvent::ErrorEvent(e) => return Err(stream_error(e)),
            MessageStreamEvent::PingEvent(_) | MessageStreamEvent::OtherKind(_) => {}
        }
        Ok(())
    }

    fn delta(&mut self, index: usize, delta: &BlockDelta) {
        if let (Some(buffer), BlockDelta::InputJsonDelta(d)) = (self.json.get_mut(&index), delta) {
            buffer.push_str(d.partial_json.as_deref().unwrap_or_default());
            return;
        }
        let Some(block) = self.blocks.get_mut(&index) else {
            return;
        };
        match (block, delta) {
            (ContentBlock::TextBlock(b), BlockDelta::TextDelta(d)) => {
                b.text
                    .get_or_insert_with(String::new)
                    .push_str(d.text.as_deref().unwrap_or_default());
            }
            (ContentBlock::TextBlock(b), BlockDelta::CitationsDelta(d)) => {
                if let Some(citation) = &d.citation {
                    if let Ok(c) =
                        serde_json::from_value::<TextCitation>(Value::Object(citation.clone()))
                    {
                        b.citations.get_or_insert_with(Vec::new).push(c);
                    }
                }
            }
            (ContentBlock::ThinkingBlock(b), BlockDelta::ThinkingDelta(d)) => {
                b.thinking
                    .get_or_insert_with(String::new)
                    .push_str(d.thinking.as_deref().unwrap_or_default());
            }
            (ContentBlock::ThinkingBlock(b), BlockDelta::SignatureDelta(d)) => {
                let signature = b.signature.get_or_insert_with(String::new);
                signature.push_str(d.signature.as_deref().unwrap_or_default());
            }
            _ => {}
        }
    }

    /// A tool call's input, assembled: parsed when its block stops (no pieces: as it started).
    fn stop_block(&mut self, index: usize) -> Result<(), Error> {
        let Some(text) = self.json.remove(&index).filter(|t| !t.trim().is_empty()) else {
            return Ok(());
        };
        let input: Map<String, Value> = serde_json::from_str(&text).map_err(|e| Error::Decode {
            message: format!("the input of tool block {index} is not a JSON object: {e}"),
            body: text.clone(),
        })?;
        match self.blocks.get_mut(&index) {
            Some(ContentBlock::ToolUseBlock(b)) => b.input = Some(input),
            Some(ContentBlock::ServerToolUseBlock(b)) => b.input = Some(input),
            _ => {}
        }
        Ok(())
    }

    /// Whether `message_stop` has arrived.
    pub fn is_finished(&self) -> bool {
        self.stopped
    }

    /// The whole message. Before `message_stop`: [`Error::UnexpectedEnd`].
    pub fn finish(mut self) -> Result<MessageResponse, Error> {
        if !self.stopped {
            return Err(Error::UnexpectedEnd);
        }
        let indexes: Vec<usize> = self.json.keys().copied().collect();
        for index in indexes {
            self.stop_block(index)?;
        }
        let mut message = self.message.unwrap_or_else(empty);
        message.content = Some(self.blocks.into_values().collect());
        Ok(message)
    }
}

//! [`MessageAccumulator`]: the events of a streamed Messages-endpoint answer folded into the
//! [`MessageResponse`] a non-streaming call would have returned.

use crate::indexed::Indexed;

use aimlapi_types::{
    BlockDelta, ContentBlock, ErrorEvent, MessageResponse, MessageStreamEvent, MessageUsage,
    TextCitation,
};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::streaming::merge::{merge_fields, Numbers};
use crate::streaming::Fold;

/// Folds Messages-endpoint events, in order, into the whole message: text per block, a tool
/// call's input assembled from its `input_json_delta` pieces and parsed when its block stops,
/// thinking with its signature, usage from `message_start` updated by each `message_delta`.
/// Nothing an event carries is dropped: a field the fold does not name goes into the message
/// (`message_delta`'s `delta.container`, a top-level `context_management`), its usage, or the
/// block the event is about, scalars by their last value, objects merged. Blocks of kinds it
/// does not know are kept as they started; events and deltas of kinds it does not know are
/// skipped.
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
/// use aimlapi::sse::Fold;
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
    blocks: Indexed<usize, ContentBlock>,
    /// A tool call's input so far, by block index.
    json: Indexed<usize, String>,
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
pub(crate) fn merge_usage(old: &mut MessageUsage, new: &MessageUsage) {
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
    merge_fields(&mut old.extra, &new.extra, Numbers::Last);
}

/// The fields beyond those its type names that `block` carries.
fn block_extra(block: &mut ContentBlock) -> &mut Map<String, Value> {
    match block {
        ContentBlock::TextBlock(b) => &mut b.extra,
        ContentBlock::ThinkingBlock(b) => &mut b.extra,
        ContentBlock::RedactedThinkingBlock(b) => &mut b.extra,
        ContentBlock::ToolUseBlock(b) => &mut b.extra,
        ContentBlock::ServerToolUseBlock(b) => &mut b.extra,
        ContentBlock::ServerToolResultBlock(b) => &mut b.extra,
        ContentBlock::OtherKind(b) => &mut b.extra,
    }
}

/// The fields beyond those its type names that a delta of a known kind carries. A delta of a
/// kind the fold does not know is skipped whole: what its fields mean to the block is not known
/// (a piece to append, a value to replace).
fn delta_extra(delta: &BlockDelta) -> Option<&Map<String, Value>> {
    match delta {
        BlockDelta::TextDelta(d) => Some(&d.extra),
        BlockDelta::InputJsonDelta(d) => Some(&d.extra),
        BlockDelta::ThinkingDelta(d) => Some(&d.extra),
        BlockDelta::SignatureDelta(d) => Some(&d.extra),
        BlockDelta::CitationsDelta(d) => Some(&d.extra),
        BlockDelta::OtherKind(_) => None,
    }
}

impl MessageAccumulator {
    /// Nothing folded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The message so far (an event before `message_start` starts an empty one).
    fn message(&mut self) -> &mut MessageResponse {
        self.message.get_or_insert_with(empty)
    }

    /// Carries `extra` into the block at `index`, if there is one.
    fn block_gets(&mut self, index: i64, extra: &Map<String, Value>) {
        if extra.is_empty() {
            return;
        }
        let block = usize::try_from(index)
            .ok()
            .and_then(|i| self.blocks.get_mut(&i));
        match block {
            Some(block) => merge_fields(block_extra(block), extra, Numbers::Last),
            // No block to carry it: the message does.
            None => merge_fields(&mut self.message().extra, extra, Numbers::Last),
        }
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

    /// The input of the tool call in content block `index` so far (a `tool_use` or
    /// `server_tool_use` block still arriving), as parsed JSON read from the pieces so far
    /// ([`parse_partial_json`](crate::chat::parse_partial_json): a prefix is never an error; `{}`
    /// before any piece); the whole input once the block has stopped; `None` for another block.
    pub fn tool_input(&self, index: usize) -> Option<Value> {
        if let Some(text) = self.json.get(&index) {
            return Some(crate::partial_json::tool_input_so_far(text));
        }
        match self.blocks.get(&index)? {
            ContentBlock::ToolUseBlock(b) => {
                Some(Value::Object(b.input.clone().unwrap_or_default()))
            }
            ContentBlock::ServerToolUseBlock(b) => {
                Some(Value::Object(b.input.clone().unwrap_or_default()))
            }
            _ => None,
        }
    }

    /// Whether `message_stop` has arrived.
    pub fn is_finished(&self) -> bool {
        self.stopped
    }
}

impl Fold for MessageAccumulator {
    type Event = MessageStreamEvent;
    type Output = MessageResponse;

    /// Folds one event. An `error` event is [`Error::Stream`] with the error's kind as its code;
    /// a tool call's input that is not a JSON object when its block stops is [`Error::Decode`].
    fn push(&mut self, event: &MessageStreamEvent) -> Result<(), Error> {
        use aimlapi_types as t;
        match event {
            MessageStreamEvent::MessageStartEvent(t::MessageStartEvent {
                message,
                type_: _,
                extra,
            }) => {
                let mut message = message.clone().unwrap_or_else(empty);
                for (i, block) in message
                    .content
                    .take()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    self.blocks.insert(i, block);
                }
                merge_fields(&mut message.extra, extra, Numbers::Last);
                // What events before it carried (a `ping`'s fields) stays.
                if let Some(earlier) = self.message.take() {
                    let mut kept = earlier.extra;
                    merge_fields(&mut kept, &message.extra, Numbers::Last);
                    message.extra = kept;
                }
                self.message = Some(message);
            }
            MessageStreamEvent::ContentBlockStartEvent(t::ContentBlockStartEvent {
                content_block,
                index,
                type_: _,
                extra,
            }) => {
                if let (Ok(at), Some(block)) = (usize::try_from(*index), content_block) {
                    if matches!(
                        block,
                        ContentBlock::ToolUseBlock(_) | ContentBlock::ServerToolUseBlock(_)
                    ) {
                        self.json.insert(at, String::new());
                    }
                    self.blocks.insert(at, block.clone());
                }
                self.block_gets(*index, extra);
            }
            MessageStreamEvent::ContentBlockDeltaEvent(t::ContentBlockDeltaEvent {
                delta,
                index,
                type_: _,
                extra,
            }) => {
                if let (Ok(at), Some(delta)) = (usize::try_from(*index), delta) {
                    self.delta(at, delta);
                }
                if let Some(extra) = delta.as_ref().and_then(delta_extra) {
                    self.block_gets(*index, extra);
                }
                self.block_gets(*index, extra);
            }
            MessageStreamEvent::ContentBlockStopEvent(t::ContentBlockStopEvent {
                index,
                type_: _,
                extra,
            }) => {
                if let Ok(at) = usize::try_from(*index) {
                    self.stop_block(at)?;
                }
                self.block_gets(*index, extra);
            }
            MessageStreamEvent::MessageDeltaEvent(t::MessageDeltaEvent {
                delta,
                meta,
                type_: _,
                usage,
                extra,
            }) => {
                let message = self.message();
                if let Some(t::MessageDelta {
                    stop_reason,
                    stop_sequence,
                    extra,
                }) = delta
                {
                    if stop_reason.is_some() {
                        message.stop_reason.clone_from(stop_reason);
                    }
                    if stop_sequence.is_some() {
                        message.stop_sequence.clone_from(stop_sequence);
                    }
                    for (key, value) in extra {
                        // `stop_details` is a field of the message the delta does not name.
                        match (key.as_str(), value) {
                            ("stop_details", Value::Object(details)) => merge_fields(
                                message.stop_details.get_or_insert_with(Map::new),
                                details,
                                Numbers::Last,
                            ),
                            _ => merge_fields(
                                &mut message.extra,
                                &Map::from_iter([(key.clone(), value.clone())]),
                                Numbers::Last,
                            ),
                        }
                    }
                }
                if let Some(u) = usage {
                    merge_usage(message.usage.get_or_insert_with(empty), u);
                }
                if meta.is_some() {
                    message.meta.clone_from(meta);
                }
                merge_fields(&mut message.extra, extra, Numbers::Last);
            }
            MessageStreamEvent::MessageStopEvent(t::MessageStopEvent { type_: _, extra }) => {
                self.stopped = true;
                merge_fields(&mut self.message().extra, extra, Numbers::Last);
            }
            MessageStreamEvent::PingEvent(t::PingEvent { type_: _, extra }) => {
                if !extra.is_empty() {
                    merge_fields(&mut self.message().extra, extra, Numbers::Last);
                }
            }
            MessageStreamEvent::ErrorEvent(e) => return Err(stream_error(e)),
            MessageStreamEvent::OtherKind(_) => {}
        }
        Ok(())
    }

    /// The whole message. Before `message_stop`: [`Error::UnexpectedEnd`].
    fn finish(mut self) -> Result<MessageResponse, Error> {
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

//! [`ChunkDecoder`]: typed chat-completion chunks from the bytes of a body, framed lazily,
//! without I/O, in either AI/ML stream format ([`unwrap_legacy`]).

use aimlapi_types as types;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::Error;
use crate::streaming::frame::{line_end, SseDecoder, SseRef, DEFAULT_MAX_LINE};
use crate::streaming::{Decode, Fold};

/// A stream chunk type: what the decoder and the fold read from it.
pub trait StreamChunk: DeserializeOwned + Send + 'static {
    /// The completion type the chunks fold into.
    type Completion: DeserializeOwned + Send + 'static;

    /// The fold of these chunks into the completion.
    type Fold: Fold<Event = Self, Output = Self::Completion> + Send + 'static;

    /// An error the server reported inside the stream (OpenRouter's `error` chunk): code, message.
    fn stream_error(&self) -> Option<(Option<String>, String)>;

    /// Whether any choice of this chunk carries a finish reason.
    fn has_finish_reason(&self) -> bool;

    /// The text delta of the choice with the lowest index, if it has one.
    fn first_text(&self) -> Option<&str>;

    /// The response's id, as the chunk names it (for the call's span; default: none).
    fn response_id(&self) -> Option<&str> {
        None
    }

    /// The model that answered, as the chunk names it (for the call's span; default: none).
    fn response_model(&self) -> Option<&str> {
        None
    }

    /// Each finish reason the chunk's choices carry, with the choice's index (for the call's
    /// span; default: none).
    fn finish_reasons(&self, each: &mut dyn FnMut(i64, &str)) {
        let _ = each;
    }

    /// The token counts the chunk carries (for the call's span; default: none).
    fn usage(&self) -> Option<crate::usage::TokenUsage> {
        None
    }

    /// The vendor's cost figure the chunk carries (`meta.usage.usd_spent`, OpenRouter's
    /// `usage.cost`), if any.
    fn body_cost(&self) -> Option<crate::cost::Cost> {
        None
    }
}

impl StreamChunk for types::ChatCompletionChunk {
    type Completion = types::ChatCompletion;
    type Fold = crate::completions::fold::Accumulator;

    #[inline]
    fn stream_error(&self) -> Option<(Option<String>, String)> {
        let e = self.error.as_ref()?;
        let code = e
            .code
            .as_ref()
            .and_then(|code| match serde_json::to_value(code).ok()? {
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            });
        Some((code, e.message.clone().unwrap_or_default()))
    }

    #[inline]
    fn has_finish_reason(&self) -> bool {
        self.choices.iter().any(|c| c.finish_reason.is_some())
    }

    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn response_model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    fn finish_reasons(&self, each: &mut dyn FnMut(i64, &str)) {
        for c in &self.choices {
            if let Some(r) = &c.finish_reason {
                match r {
                    types::ChunkChoiceFinishReason::String(s) => each(c.index, s),
                    known => {
                        if let Some(text) = crate::completions::fold::as_text(known) {
                            each(c.index, &text);
                        }
                    }
                }
            }
        }
    }

    fn usage(&self) -> Option<crate::usage::TokenUsage> {
        self.usage.as_ref().map(crate::usage::chat_usage)
    }

    fn body_cost(&self) -> Option<crate::cost::Cost> {
        crate::cost::body_cost(self.meta.as_ref(), self.usage.as_ref().and_then(|u| u.cost))
    }

    fn first_text(&self) -> Option<&str> {
        self.choices
            .iter()
            .min_by_key(|c| c.index)?
            .delta
            .as_ref()?
            .content
            .as_deref()
    }
}

impl<T: StreamChunk> Decode for ChunkDecoder<T> {
    type Item = StreamItem<T>;
    type Event = T;

    #[inline]
    fn feed_piece(&mut self, piece: Bytes) {
        self.feed(piece)
    }

    #[inline]
    fn next(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        self.next_item()
    }

    fn body_ended(&mut self) {
        self.finish()
    }

    fn is_done(&self) -> bool {
        self.done
    }

    /// A body may end without `[DONE]` once a chunk has carried a finish reason.
    fn is_whole(&self) -> bool {
        self.finished
    }

    fn event(item: &StreamItem<T>) -> Option<&T> {
        match item {
            StreamItem::Chunk(c) => Some(c),
            StreamItem::Comment(_) => None,
        }
    }

    fn observe(chunk: &T, o: &mut crate::telemetry::Outcome) {
        if let Some(id) = chunk.response_id().filter(|_| o.response_id.is_none()) {
            o.response_id = Some(id.to_string());
        }
        if let Some(model) = chunk
            .response_model()
            .filter(|_| o.response_model.is_none())
        {
            o.response_model = Some(model.to_string());
        }
        chunk.finish_reasons(&mut |index, r| {
            o.by_choice.insert(index, r.to_string());
        });
        if let Some(u) = chunk.usage() {
            o.usage = Some(u);
        }
        if let Some(cost) = chunk.body_cost() {
            o.vendor_cost = Some(cost);
        }
        if let Some((code, message)) = chunk.stream_error() {
            o.error = Some(code.unwrap_or(message));
        }
    }
}

/// One item of a chunk stream.
#[derive(Clone, Debug)]
pub enum StreamItem<T> {
    /// A chunk.
    Chunk(T),
    /// A comment line, such as OpenRouter's `OPENROUTER PROCESSING` keep-alive.
    Comment(String),
}

/// An item framed ahead of being taken (only when a piece is fed before the last one was read
/// through, and at the end of the body).
enum Framed {
    /// A payload that lay whole in one piece: a cheap slice of it.
    Data(Bytes),
    /// A payload assembled from several pieces or lines.
    Assembled(Vec<u8>),
    Comment(String),
    Done,
    Failed(Error),
}

/// Typed chunks from the bytes of a streaming body, without any I/O: feed it pieces, take items.
///
/// Framing is lazy: each [`next_item`](Self::next_item) frames just far enough into the piece to
/// find one item and decodes its payload where it lies. A `data:` line followed by its blank line
/// is recognised at once; anything else (comments, other fields, events split across pieces,
/// lone CR line ends) goes through [`SseDecoder`]. Either AI/ML stream format is read (the current
/// one, or the `{"event", "state"}` wrapper used before 2026-02-13, detected per line).
/// [`ChunkStream`](crate::sse::ChunkStream) drives one over a response.
pub struct ChunkDecoder<T> {
    sse: SseDecoder,
    /// The piece being read, and how far into it framing has got.
    piece: Bytes,
    at: usize,
    /// Items framed ahead; they all come before `piece[at..]`.
    ready: std::collections::VecDeque<Framed>,
    pub(super) comments: bool,
    finished: bool,
    done: bool,
    _chunk: std::marker::PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for ChunkDecoder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkDecoder")
            .field("finished", &self.finished)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T: StreamChunk> Default for ChunkDecoder<T> {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl<T: StreamChunk> ChunkDecoder<T> {
    /// A decoder that refuses lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        ChunkDecoder {
            sse: SseDecoder::new(max_line),
            piece: Bytes::new(),
            at: 0,
            ready: Default::default(),
            comments: false,
            finished: false,
            done: false,
            _chunk: std::marker::PhantomData,
        }
    }

    /// Feeds one piece of the body. Take the items it completes with
    /// [`next_item`](Self::next_item); feeding again first is allowed (what is left of this piece
    /// is then framed at once and kept). A framing error comes out of `next_item` in its place.
    #[inline]
    pub fn feed(&mut self, piece: Bytes) {
        self.frame_rest();
        self.piece = piece;
        self.at = 0;
    }

    /// The body ended: the events it closed are still to be taken; a last event the body did
    /// not close with a blank line is discarded ([`SseDecoder::finish`]).
    pub fn finish(&mut self) {
        self.frame_rest();
        self.sse.finish();
    }

    /// Frames what is left of the piece, if anything, into `ready`.
    #[inline]
    fn frame_rest(&mut self) {
        if self.at < self.piece.len() {
            self.frame_remaining();
        }
    }

    #[inline(never)]
    fn frame_remaining(&mut self) {
        let Self {
            sse,
            ready,
            comments,
            piece,
            at,
            ..
        } = self;
        let comments = *comments;
        let result = sse.feed_with(&piece[*at..], &mut |item| {
            frame(item, comments, ready, |data| {
                lies_in(piece, data).then(|| piece.slice_ref(data))
            })
        });
        if let Err(e) = result {
            ready.push_back(Framed::Failed(e));
        }
        *at = piece.len();
    }

    /// The next item the pieces fed so far complete, if any. After `[DONE]` or an error there
    /// are no more.
    #[inline]
    pub fn next_item(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        // The common cases, kept small enough to inline: a whole `data:` event next in the
        // piece, or a piece that only goes on with a line begun before it.
        if !self.done && self.ready.is_empty() {
            let rest = &self.piece[self.at..];
            if self.sse.is_idle() {
                match ahead(rest, self.sse.max_line) {
                    Ahead::Event(payload, len) if payload != b"[DONE]" => {
                        self.at += len;
                        return Some(decode_noting::<T>(
                            payload,
                            &mut self.finished,
                            &mut self.done,
                        ));
                    }
                    Ahead::Unended => return self.keep_rest(),
                    Ahead::Other if rest.is_empty() => {
                        self.release();
                        return None;
                    }
                    _ => {}
                }
            } else if self.sse.in_line() && line_end(rest).is_none() {
                return self.keep_rest();
            }
        }
        self.next_item_slow()
    }

    /// Everything else [`next_item`](Self::next_item) meets: items framed ahead, and framing
    /// by the rules up to the next item.
    #[inline(never)]
    fn next_item_slow(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        if self.done {
            return None;
        }
        let mut out = None;
        let mut done = false;
        let finished = &mut self.finished;
        match self.ready.pop_front() {
            Some(Framed::Data(bytes)) => out = Some(decode_noting(&bytes, finished, &mut done)),
            Some(Framed::Assembled(bytes)) => {
                out = Some(decode_noting(&bytes, finished, &mut done))
            }
            Some(Framed::Comment(c)) => out = Some(Ok(StreamItem::Comment(c))),
            Some(Framed::Done) => done = true,
            Some(Framed::Failed(e)) => {
                done = true;
                out = Some(Err(e));
            }
            None => {
                let comments = self.comments;
                let read = self.sse.step(&self.piece[self.at..], &mut |item| {
                    match item {
                        SseRef::Comment(_) if !comments => return false,
                        SseRef::Comment(text) => {
                            out = Some(Ok(StreamItem::Comment(
                                String::from_utf8_lossy(text).into_owned(),
                            )))
                        }
                        SseRef::Event {
                            data: b"[DONE]", ..
                        } => done = true,
                        SseRef::Event { data, .. } => {
                            out = Some(decode_noting(data, finished, &mut done))
                        }
                    }
                    true
                });
                match read {
                    Ok(n) => self.at += n,
                    Err(e) => {
                        done = true;
                        out = Some(Err(e));
                    }
                }
            }
        }
        // `[DONE]` or an error: nothing more comes out.
        if done {
            self.end();
        } else if out.is_none() && self.ready.is_empty() && self.at >= self.piece.len() {
            self.release();
        }
        out
    }

    /// The rest of the piece has no line end: keep it as (part of) the line being read.
    #[inline]
    fn keep_rest(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        let rest = &self.piece[self.at..];
        self.at = self.piece.len();
        match self.sse.push(rest) {
            Ok(()) => {
                self.release();
                None
            }
            Err(e) => {
                self.end();
                Some(Err(e))
            }
        }
    }

    /// Lets go of a piece read to its end. A piece is a slice of the HTTP client's read
    /// buffer: kept until the next one comes (on a stream, until the next token), it would hold
    /// that buffer, and hyper would read the next piece into a new one (8 KiB or more a stream,
    /// measured: `crates/bench/benches/load.rs`).
    #[inline]
    fn release(&mut self) {
        self.piece = Bytes::new();
        self.at = 0;
    }

    /// Nothing more comes out: `[DONE]` or an error.
    fn end(&mut self) {
        self.done = true;
        self.ready.clear();
        self.piece = Bytes::new();
        self.at = 0;
    }

    /// Whether `[DONE]` or an error ended the stream.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether a chunk has carried a finish reason.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// What lies at the start of the unread rest of a piece, for an idle decoder.
enum Ahead<'a> {
    /// A whole `data: <payload>` line and the blank line after it, with LF or CRLF line ends and
    /// no longer than the line limit: the payload and the length of all of it.
    Event(&'a [u8], usize),
    /// The start of a `data: ` line that the piece ends inside of: no line end at all.
    Unended,
    /// Anything else, for the rules to read.
    Other,
}

#[inline(always)]
fn ahead(rest: &[u8], max_line: usize) -> Ahead<'_> {
    const PREFIX: &[u8] = b"data: ";
    let Some(value) = rest.strip_prefix(PREFIX) else {
        return Ahead::Other;
    };
    let Some(i) = line_end(value) else {
        return Ahead::Unended;
    };
    let ends = match &value[i..] {
        [b'\n', b'\n', ..] => 2,
        [b'\r', b'\n', b'\r', b'\n', ..] => 4,
        _ => return Ahead::Other,
    };
    if PREFIX.len() + i > max_line {
        return Ahead::Other;
    }
    Ahead::Event(&value[..i], PREFIX.len() + i + ends)
}

/// Queues one framed item; `slice` gives the payload as a slice of its piece when it lies there.
fn frame(
    item: SseRef<'_>,
    comments: bool,
    ready: &mut std::collections::VecDeque<Framed>,
    slice: impl FnOnce(&[u8]) -> Option<Bytes>,
) {
    match item {
        SseRef::Comment(text) if comments => {
            ready.push_back(Framed::Comment(String::from_utf8_lossy(text).into_owned()))
        }
        SseRef::Comment(_) => {}
        SseRef::Event {
            data: b"[DONE]", ..
        } => ready.push_back(Framed::Done),
        SseRef::Event { data, .. } => ready.push_back(match slice(data) {
            Some(bytes) => Framed::Data(bytes),
            None => Framed::Assembled(data.to_vec()),
        }),
    }
}

/// Whether `part` is a sub-slice of `piece`'s memory (so `Bytes::slice_ref` may take it).
fn lies_in(piece: &[u8], part: &[u8]) -> bool {
    let (base, at) = (piece.as_ptr() as usize, part.as_ptr() as usize);
    at >= base && at + part.len() <= base + piece.len()
}

/// One payload: a chunk, or the old wrapper around one; an error chunk becomes [`Error::Stream`].
///
/// Inlined, and written so that the chunk is built where the caller's item lies: a chunk is a
/// few hundred bytes, and each move of it costs as much as framing its line.
#[inline(always)]
fn decode_chunk<T: StreamChunk>(data: &[u8]) -> Result<StreamItem<T>, Error> {
    let chunk: T = match unwrap_legacy(data) {
        None => {
            let mut de = serde_json::Deserializer::from_slice(data);
            match T::deserialize(&mut de) {
                Ok(chunk) => match de.end() {
                    Ok(()) => chunk,
                    Err(e) => return Err(undecodable(e, data)),
                },
                Err(e) => return Err(undecodable(e, data)),
            }
        }
        Some(Ok(chunk)) => serde_json::from_value(chunk).map_err(|e| undecodable(e, data))?,
        Some(Err(e)) => return Err(undecodable(e, data)),
    };
    if let Some((code, message)) = chunk.stream_error() {
        return Err(Error::Stream { code, message });
    }
    Ok(StreamItem::Chunk(chunk))
}

/// [`decode_chunk`], noting a finish reason, or an error (which ends the stream) in `done`. The
/// item is the tail expression, so that the chunk can be built where the caller receives it.
#[inline(always)]
fn decode_noting<T: StreamChunk>(
    data: &[u8],
    finished: &mut bool,
    done: &mut bool,
) -> Result<StreamItem<T>, Error> {
    let item = decode_chunk::<T>(data);
    match &item {
        Ok(StreamItem::Chunk(chunk)) => *finished |= chunk.has_finish_reason(),
        Ok(StreamItem::Comment(_)) => {}
        Err(_) => *done = true,
    }
    item
}

/// A payload that is not a chunk.
#[cold]
fn undecodable(err: serde_json::Error, data: &[u8]) -> Error {
    Error::Decode {
        message: err.to_string(),
        body: String::from_utf8_lossy(data).into_owned(),
    }
}

/// Whether a payload starts like the old wrapper: `{` then the key `"event"`.
#[inline(always)]
fn is_legacy(payload: &[u8]) -> bool {
    // The common case first: a compact payload, `{"event"` or `{"id"` right at the start.
    match payload.strip_prefix(b"{\"") {
        Some(rest) => rest.starts_with(b"event\""),
        None => is_legacy_spaced(payload),
    }
}

/// [`is_legacy`] for a payload with white space around its first brace or key.
#[cold]
fn is_legacy_spaced(payload: &[u8]) -> bool {
    let mut rest = payload.iter().skip_while(|c| c.is_ascii_whitespace());
    if rest.next() != Some(&b'{') {
        return false;
    }
    rest.skip_while(|c| c.is_ascii_whitespace())
        .take(7)
        .eq(b"\"event\"")
}

/// Rewrites a chunk in the AI/ML stream format used before 2026-02-13,
/// `{"event": <chunk>, "state": {..., "usage": {"input_tokens", "output_tokens", ...}}}`, into a
/// current chunk. In that format the true counts are in `state.usage` (`input_tokens` on the
/// first chunk, the final `output_tokens` on the chunk whose state has `finishReason`) while the
/// chunk's own `usage` is null or all zeros: such a chunk gets the state's counts, renamed
/// (`prompt_tokens`, `completion_tokens`, `total_tokens`); a chunk whose own usage has a count
/// keeps it. Returns `None` for a payload in the current format.
#[inline(always)]
pub fn unwrap_legacy(payload: &[u8]) -> Option<Result<Value, serde_json::Error>> {
    if !is_legacy(payload) {
        return None;
    }
    unwrap_wrapper(payload)
}

/// [`unwrap_legacy`] for a payload that starts like the wrapper.
#[inline(never)]
fn unwrap_wrapper(payload: &[u8]) -> Option<Result<Value, serde_json::Error>> {
    let mut wrapper: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(e) => return Some(Err(e)),
    };
    let mut chunk = wrapper
        .get_mut("event")
        .map(Value::take)
        .filter(Value::is_object)?;
    if let Some(u) = wrapper.pointer("/state/usage").filter(|u| u.is_object()) {
        let n = |k: &str| u.get(k).and_then(Value::as_u64);
        let (input, output) = (n("input_tokens"), n("output_tokens"));
        if (input.is_some() || output.is_some()) && !has_counts(chunk.get("usage")) {
            let (i, o) = (input.unwrap_or(0), output.unwrap_or(0));
            chunk["usage"] = json!({
                "prompt_tokens": i,
                "completion_tokens": o,
                "total_tokens": i.saturating_add(o),
            });
        }
    }
    Some(Ok(chunk))
}

/// Whether a chunk's own usage reports any count above zero.
fn has_counts(usage: Option<&Value>) -> bool {
    let Some(Value::Object(u)) = usage else {
        return false;
    };
    ["prompt_tokens", "completion_tokens", "total_tokens"]
        .iter()
        .any(|k| u.get(*k).and_then(Value::as_f64).is_some_and(|n| n > 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_wrapper_unwraps_with_its_usage_renamed() {
        let line = r#"{"event":{"id":"","choices":[{"index":0,"finish_reason":"stop"}],"object":"chat.completion.chunk"},"state":{"generationId":"g","tools":[],"usage":{"input_tokens":16,"output_tokens":77,"cache_read_input_tokens":0},"finishReason":"stop"}}"#;
        let v = unwrap_legacy(line.as_bytes()).unwrap().unwrap();
        assert_eq!(
            v["usage"],
            json!({"prompt_tokens": 16, "completion_tokens": 77, "total_tokens": 93})
        );
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert!(unwrap_legacy(br#"{"id":"x","choices":[]}"#).is_none());
        assert!(unwrap_legacy(br#"  { "event" : {"choices": []}}"#)
            .unwrap()
            .is_ok());
    }
}

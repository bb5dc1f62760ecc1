//! Server-sent events: framing per the WHATWG rules, and typed chunks on top.
//!
//! [`SseDecoder`] takes the body in whatever pieces the network delivers and yields events;
//! [`ChunkStream`] turns a [`ByteStream`] into typed stream chunks.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::accumulate::{unwrap_legacy, Accumulator, StreamChunk};
use crate::chat::ByteStream;
use crate::error::Error;
use futures::Stream;

/// The longest line [`SseDecoder`] accepts by default: 16 MiB.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// One server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
    /// The `retry:` field, if any and a number.
    pub retry: Option<u64>,
}

/// What the decoder found: an event, or a comment line (`: OPENROUTER PROCESSING`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseItem {
    /// A complete event.
    Event(SseEvent),
    /// A comment, without its leading `:` and one space.
    Comment(String),
}

/// Incremental SSE framing: LF, CRLF and lone CR line ends (also split across pieces), comments,
/// multi-line `data`, `event`/`id`/`retry`, a leading byte-order mark, and a line-length limit.
#[derive(Debug)]
pub struct SseDecoder {
    line: Vec<u8>,
    pending: SseEvent,
    has_data: bool,
    started: bool,
    /// The previous piece ended in CR: a LF that starts the next piece belongs to it.
    after_cr: bool,
    max_line: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new(DEFAULT_MAX_LINE)
    }
}

impl SseDecoder {
    /// A decoder that refuses lines longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            pending: SseEvent::default(),
            has_data: false,
            started: false,
            after_cr: false,
            max_line,
        }
    }

    /// Feeds one piece of the body; appends what it completes to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<SseItem>) -> Result<(), Error> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.after_cr && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.after_cr = false;
        while !bytes.is_empty() {
            match memchr::memchr2(b'\n', b'\r', bytes) {
                Some(i) => {
                    if self.line.is_empty() {
                        // The whole line is in this piece: read it where it lies.
                        if i > self.max_line {
                            self.push(&bytes[..i])?;
                        }
                        self.line_done(&bytes[..i], out);
                    } else {
                        self.push(&bytes[..i])?;
                        let line = std::mem::take(&mut self.line);
                        self.line_done(&line, out);
                        self.line = line;
                        self.line.clear();
                    }
                    let cr = bytes[i] == b'\r';
                    bytes = &bytes[i + 1..];
                    if cr {
                        if bytes.first() == Some(&b'\n') {
                            bytes = &bytes[1..];
                        } else if bytes.is_empty() {
                            self.after_cr = true;
                        }
                    }
                }
                None => {
                    self.push(bytes)?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// The body ended: an event still being built is delivered (the gateways may end a body
    /// without the blank line that closes the last event).
    pub fn finish(&mut self, out: &mut Vec<SseItem>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        self.dispatch(out);
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.line.len() + bytes.len() > self.max_line {
            return Err(Error::Decode {
                message: format!(
                    "a server-sent-event line is longer than {} bytes",
                    self.max_line
                ),
                body: String::from_utf8_lossy(&self.line[..self.line.len().min(256)]).into_owned(),
            });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn line_done(&mut self, mut line: &[u8], out: &mut Vec<SseItem>) {
        if !self.started {
            self.started = true;
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let text = String::from_utf8_lossy(line);
        if let Some(comment) = text.strip_prefix(':') {
            out.push(SseItem::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_string(),
            ));
            return;
        }
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*text, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.pending.data.push('\n');
                }
                self.pending.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.pending.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.pending.id = Some(value.to_string()),
            "retry" => self.pending.retry = value.parse().ok().or(self.pending.retry),
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        if self.has_data {
            out.push(SseItem::Event(std::mem::take(&mut self.pending)));
        } else {
            self.pending = SseEvent::default();
        }
        self.has_data = false;
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

/// Typed chunks from the bytes of a streaming body, without any I/O: feed it pieces, take items.
/// Either AI/ML stream format is read (the current one, or the `{"event", "state"}` wrapper used
/// before 2026-02-13, detected per line). [`ChunkStream`] drives one over a response.
pub struct ChunkDecoder<T> {
    sse: SseDecoder,
    ready: Vec<SseItem>,
    next: usize,
    comments: bool,
    finished: bool,
    done: bool,
    _chunk: PhantomData<fn() -> T>,
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
            ready: Vec::new(),
            next: 0,
            comments: false,
            finished: false,
            done: false,
            _chunk: PhantomData,
        }
    }

    /// Feeds one piece of the body.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.next == self.ready.len() {
            self.ready.clear();
            self.next = 0;
        }
        self.sse.feed(bytes, &mut self.ready)
    }

    /// The body ended.
    pub fn finish(&mut self) {
        self.sse.finish(&mut self.ready);
    }

    /// The next item the pieces fed so far complete, if any. After `data: [DONE]` or an error
    /// there are no more.
    pub fn next_item(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        while !self.done && self.next < self.ready.len() {
            let item =
                std::mem::replace(&mut self.ready[self.next], SseItem::Comment(String::new()));
            self.next += 1;
            match item {
                SseItem::Comment(c) if self.comments => return Some(Ok(StreamItem::Comment(c))),
                SseItem::Comment(_) => {}
                SseItem::Event(e) if e.data == "[DONE]" => self.done = true,
                SseItem::Event(e) => {
                    let decoded = self.decode(e.data);
                    self.done = decoded.is_err();
                    return Some(decoded.map(StreamItem::Chunk));
                }
            }
        }
        None
    }

    /// Whether `[DONE]` or an error ended the stream.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether a chunk has carried a finish reason.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn decode(&mut self, data: String) -> Result<T, Error> {
        let parsed = match unwrap_legacy(&data) {
            Some(Ok(chunk)) => serde_json::from_value(chunk),
            Some(Err(e)) => Err(e),
            None => serde_json::from_str(&data),
        };
        let chunk: T = parsed.map_err(|err| Error::Decode {
            message: err.to_string(),
            body: data,
        })?;
        if let Some((code, message)) = chunk.stream_error() {
            return Err(Error::Stream { code, message });
        }
        self.finished |= chunk.has_finish_reason();
        Ok(chunk)
    }
}

/// Typed chunks from a streaming response, as they arrive.
///
/// Ends at `data: [DONE]`, or at the end of the body once a chunk has carried a finish reason;
/// a body that ends before either is [`Error::UnexpectedEnd`]. An error chunk (OpenRouter's) is
/// [`Error::Stream`]; a payload that is not a chunk is [`Error::Decode`] with the payload. Comment
/// lines are skipped unless [`with_comments`](Self::with_comments) asked for them.
pub struct ChunkStream<T> {
    body: Option<ByteStream>,
    decoder: ChunkDecoder<T>,
    ended: bool,
}

impl<T> std::fmt::Debug for ChunkStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("done", &self.body.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: StreamChunk> ChunkStream<T> {
    /// Typed chunks from a raw body.
    pub fn new(body: ByteStream) -> Self {
        ChunkStream {
            body: Some(body),
            decoder: ChunkDecoder::default(),
            ended: false,
        }
    }

    /// Delivers comment lines too, as [`StreamItem::Comment`].
    pub fn with_comments(mut self) -> Self {
        self.decoder.comments = true;
        self
    }

    /// Reads the whole stream and folds it into the final completion.
    pub async fn collect_completion(mut self) -> Result<T::Completion, Error> {
        use futures::StreamExt;
        let mut acc = Accumulator::new();
        while let Some(item) = self.next().await {
            if let StreamItem::Chunk(c) = item? {
                acc.push(&c);
            }
        }
        acc.finish()
    }

    /// Only the text of the first choice, piece by piece as it arrives (empty pieces skipped).
    pub fn text_deltas(self) -> impl Stream<Item = Result<String, Error>> + Send {
        use futures::StreamExt;
        self.filter_map(|item| async move {
            match item {
                Err(e) => Some(Err(e)),
                Ok(StreamItem::Comment(_)) => None,
                Ok(StreamItem::Chunk(c)) => {
                    let mut acc = Accumulator::new();
                    acc.push(&c);
                    let text = acc.text();
                    (!text.is_empty()).then(|| Ok(text.to_string()))
                }
            }
        })
    }
}

impl<T: StreamChunk> Stream for ChunkStream<T> {
    type Item = Result<StreamItem<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.decoder.next_item() {
                return Poll::Ready(Some(item));
            }
            if this.decoder.is_done() {
                // `[DONE]` or an error: drop the body, which closes the connection.
                this.body = None;
                return Poll::Ready(None);
            }
            let Some(body) = this.body.as_mut() else {
                // The body ended without `[DONE]`: fine after a finish reason, an error before.
                if !this.decoder.is_finished() && !std::mem::replace(&mut this.ended, true) {
                    return Poll::Ready(Some(Err(Error::UnexpectedEnd)));
                }
                return Poll::Ready(None);
            };
            match Pin::new(body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Err(e) = this.decoder.feed(&bytes) {
                        this.body = None;
                        this.ended = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.body = None;
                    this.ended = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.decoder.finish();
                    this.body = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in(pieces: &[&[u8]]) -> Vec<SseItem> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for p in pieces {
            d.feed(p, &mut out).unwrap();
        }
        d.finish(&mut out);
        out
    }

    fn data(s: &str) -> SseItem {
        SseItem::Event(SseEvent {
            data: s.into(),
            ..Default::default()
        })
    }

    #[test]
    fn every_line_end_and_every_split_gives_the_same_events() {
        let body =
            "\u{feff}: keep-alive\r\ndata: a\r\ndata: b é€😀\r\rid: 7\nevent: e\ndata: c\n\n";
        let want = vec![
            SseItem::Comment("keep-alive".into()),
            data("a\nb é€😀"),
            SseItem::Event(SseEvent {
                event: Some("e".into()),
                data: "c".into(),
                id: Some("7".into()),
                retry: None,
            }),
        ];
        assert_eq!(decode_in(&[body.as_bytes()]), want);
        let bytes = body.as_bytes();
        for i in 0..bytes.len() {
            for j in i..bytes.len() {
                assert_eq!(
                    decode_in(&[&bytes[..i], &bytes[i..j], &bytes[j..]]),
                    want,
                    "split at {i} and {j}"
                );
            }
        }
    }

    #[test]
    fn a_body_ending_without_the_blank_line_still_delivers_its_event() {
        assert_eq!(decode_in(&[b"data: x"]), vec![data("x")]);
        assert_eq!(decode_in(&[b"data: x\n"]), vec![data("x")]);
        assert_eq!(
            decode_in(&[b"event: lonely\n\n"]),
            vec![],
            "no data, no event"
        );
    }

    #[test]
    fn an_overlong_line_is_an_error() {
        let mut d = SseDecoder::new(8);
        let mut out = Vec::new();
        d.feed(b"data: 12", &mut out).unwrap();
        let err = d.feed(b"3", &mut out).unwrap_err();
        assert!(err.to_string().contains("longer than 8 bytes"), "{err}");
    }
}

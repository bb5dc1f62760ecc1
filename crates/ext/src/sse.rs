//! Server-sent events: framing per the WHATWG rules, and typed chunks on top.
//!
//! [`SseDecoder`] takes the body in whatever pieces the network delivers and yields events;
//! [`ChunkStream`] turns a [`ByteStream`] into typed stream chunks.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::accumulate::{unwrap_legacy, Accumulator, StreamChunk};
use crate::chat::{ByteStream, ResponseMeta};
use crate::error::Error;
use bytes::Bytes;
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

/// An event or comment as the decoder hands it to a sink: borrowed from the piece being fed
/// where it lies there whole (the common case of one `data:` line), from the decoder otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseRef<'a> {
    /// A complete event.
    Event {
        /// The `event:` field, if any.
        event: Option<&'a str>,
        /// The `data:` lines, joined by `\n`, as bytes.
        data: &'a [u8],
        /// The `id:` field, if any.
        id: Option<&'a str>,
        /// The `retry:` field, if any and a number.
        retry: Option<u64>,
    },
    /// A comment, without its leading `:` and one space.
    Comment(&'a [u8]),
}

/// Where the first line end (LF or CR) in `bytes` is.
#[inline(always)]
fn line_end(bytes: &[u8]) -> Option<usize> {
    // Short pieces (small network reads) are searched with SSE2, which every x86-64 has, inline:
    // `memchr2` picks its routine through a pointer on every call, which costs as much as the
    // search itself on a few dozen bytes.
    #[cfg(target_arch = "x86_64")]
    if bytes.len() < 64 {
        if let Some(two) = memchr::arch::x86_64::sse2::memchr::Two::new(b'\n', b'\r') {
            return two.find(bytes);
        }
    }
    memchr::memchr2(b'\n', b'\r', bytes)
}

/// One line, split into what it means.
enum Line<'l> {
    Blank,
    Comment(&'l [u8]),
    Field(&'l [u8], &'l [u8]),
}

fn parse_line(line: &[u8]) -> Line<'_> {
    if line.is_empty() {
        return Line::Blank;
    }
    let strip_space = |v: &'_ [u8]| -> usize { usize::from(v.first() == Some(&b' ')) };
    // Nearly every line is `data: ...`: no search for the colon.
    if let Some(value) = line.strip_prefix(b"data:") {
        return Line::Field(b"data", &value[strip_space(value)..]);
    }
    if line[0] == b':' {
        let rest = &line[1..];
        return Line::Comment(&rest[strip_space(rest)..]);
    }
    match memchr::memchr(b':', line) {
        Some(i) => {
            let value = &line[i + 1..];
            Line::Field(&line[..i], &value[strip_space(value)..])
        }
        None => Line::Field(line, b""),
    }
}

/// Incremental SSE framing: LF, CRLF and lone CR line ends (also split across pieces), comments,
/// multi-line `data`, `event`/`id`/`retry`, a leading byte-order mark, and a line-length limit.
/// Lines are found with `memchr` and read where they lie; only a line split across pieces is
/// copied.
#[derive(Debug)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The event's data is `data[data_from..]`: a `data:` line assembled in `line` becomes the
    /// data by swapping the two buffers, its field name left in front.
    data: Vec<u8>,
    data_from: usize,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
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
            data: Vec::new(),
            data_from: 0,
            event: None,
            id: None,
            retry: None,
            has_data: false,
            started: false,
            after_cr: false,
            max_line,
        }
    }

    /// Feeds one piece of the body; appends what it completes to `out`, owned.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseItem>) -> Result<(), Error> {
        self.feed_with(bytes, &mut |item| out.push(SseItem::from(item)))
    }

    /// The body ended. As the WHATWG rules say, a line or an event not closed by its blank line
    /// is discarded: a body cut in the middle of an event yields nothing of it. The decoder is
    /// then ready for a new body.
    pub fn finish(&mut self) {
        *self = SseDecoder {
            id: self.id.take(),
            ..SseDecoder::new(self.max_line)
        };
    }

    /// Feeds one piece of the body; hands what it completes to `sink`, borrowed.
    pub fn feed_with(
        &mut self,
        bytes: &[u8],
        sink: &mut dyn FnMut(SseRef<'_>),
    ) -> Result<(), Error> {
        self.step(bytes, &mut |item| {
            sink(item);
            false
        })
        .map(drop)
    }

    /// Whether a line begun in an earlier piece is being read.
    #[inline]
    fn in_line(&self) -> bool {
        !self.line.is_empty()
    }

    /// Whether nothing is pending: the next byte starts a new line of a new event, with no
    /// field set but the last event id.
    #[inline]
    fn is_idle(&self) -> bool {
        self.started
            && !self.after_cr
            && !self.has_data
            && self.line.is_empty()
            && self.event.is_none()
            && self.retry.is_none()
    }

    /// Frames `bytes` until `sink` asks to stop (returns `true`) or the bytes run out; returns how
    /// many bytes were read. A piece may be fed in several steps: the state carries over.
    fn step(
        &mut self,
        bytes: &[u8],
        sink: &mut dyn FnMut(SseRef<'_>) -> bool,
    ) -> Result<usize, Error> {
        let total = bytes.len();
        let mut bytes = bytes;
        if bytes.is_empty() {
            return Ok(0);
        }
        if self.after_cr && bytes[0] == b'\n' {
            bytes = &bytes[1..];
        }
        self.after_cr = false;
        // The one `data:` line of the event being built, when it lies whole in this piece.
        let mut borrowed: Option<&[u8]> = None;
        while !bytes.is_empty() {
            // A blank line (the end of an event) needs no search.
            let found = if matches!(bytes[0], b'\n' | b'\r') {
                Some(0)
            } else {
                line_end(bytes)
            };
            let Some(i) = found else {
                self.push(bytes)?;
                bytes = &[];
                break;
            };
            let stop = if self.line.is_empty() {
                if i > self.max_line {
                    self.push(&bytes[..i])?;
                }
                let line = self.first_line(&bytes[..i]);
                match parse_line(line) {
                    Line::Field(b"data", value) if !self.has_data => {
                        borrowed = Some(value);
                        self.has_data = true;
                        false
                    }
                    parsed => self.apply(parsed, &mut borrowed, sink),
                }
            } else {
                self.push(&bytes[..i])?;
                let mut buffered = std::mem::take(&mut self.line);
                let line = self.first_line(&buffered);
                let stop = match parse_line(line) {
                    Line::Field(b"data", value) if !self.has_data => {
                        // The first data line of the event: it becomes the data where it lies
                        // (the value always ends the line; a bare `data` has an empty one).
                        self.data_from = buffered.len() - value.len();
                        std::mem::swap(&mut self.data, &mut buffered);
                        self.has_data = true;
                        false
                    }
                    parsed => self.apply(parsed, &mut borrowed, sink),
                };
                self.line = buffered;
                self.line.clear();
                stop
            };
            let cr = bytes[i] == b'\r';
            bytes = &bytes[i + 1..];
            if cr {
                if bytes.first() == Some(&b'\n') {
                    bytes = &bytes[1..];
                } else if bytes.is_empty() {
                    self.after_cr = true;
                }
            }
            if stop {
                break;
            }
        }
        if let Some(b) = borrowed {
            // The event goes on past what was read: keep its data.
            self.data.extend_from_slice(b);
        }
        Ok(total - bytes.len())
    }

    /// Strips a byte-order mark from the stream's first line.
    fn first_line<'l>(&mut self, line: &'l [u8]) -> &'l [u8] {
        if self.started {
            return line;
        }
        self.started = true;
        line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
    }

    /// Appends to the line being read, within the line limit.
    #[inline]
    fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.line.len() + bytes.len() > self.max_line {
            return Err(self.overlong());
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    #[cold]
    fn overlong(&self) -> Error {
        Error::Decode {
            message: format!(
                "a server-sent-event line is longer than {} bytes",
                self.max_line
            ),
            body: String::from_utf8_lossy(&self.line[..self.line.len().min(256)]).into_owned(),
        }
    }

    /// Applies one line; returns what `sink` returned, or `false` when it was not called.
    fn apply(
        &mut self,
        line: Line<'_>,
        borrowed: &mut Option<&[u8]>,
        sink: &mut dyn FnMut(SseRef<'_>) -> bool,
    ) -> bool {
        match line {
            Line::Blank => {
                let mut stop = false;
                if self.has_data {
                    let data = borrowed.take().unwrap_or(&self.data[self.data_from..]);
                    stop = sink(SseRef::Event {
                        event: self.event.as_deref(),
                        data,
                        id: self.id.as_deref(),
                        retry: self.retry,
                    });
                }
                self.data.clear();
                self.data_from = 0;
                self.event = None;
                self.retry = None;
                self.has_data = false;
                return stop;
            }
            Line::Comment(text) => return sink(SseRef::Comment(text)),
            Line::Field(b"data", value) => {
                if let Some(b) = borrowed.take() {
                    self.data.extend_from_slice(b);
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            Line::Field(b"event", value) => {
                self.event = Some(String::from_utf8_lossy(value).into_owned())
            }
            Line::Field(b"id", value) if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned())
            }
            Line::Field(b"retry", value) => {
                if let Some(n) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    self.retry = Some(n);
                }
            }
            Line::Field(..) => {}
        }
        false
    }
}

impl From<SseRef<'_>> for SseItem {
    fn from(item: SseRef<'_>) -> Self {
        match item {
            SseRef::Event {
                event,
                data,
                id,
                retry,
            } => SseItem::Event(SseEvent {
                event: event.map(str::to_string),
                data: String::from_utf8_lossy(data).into_owned(),
                id: id.map(str::to_string),
                retry,
            }),
            SseRef::Comment(text) => SseItem::Comment(String::from_utf8_lossy(text).into_owned()),
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
/// [`ChunkStream`] drives one over a response.
pub struct ChunkDecoder<T> {
    sse: SseDecoder,
    /// The piece being read, and how far into it framing has got.
    piece: Bytes,
    at: usize,
    /// Items framed ahead; they all come before `piece[at..]`.
    ready: std::collections::VecDeque<Framed>,
    comments: bool,
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
                    Ahead::Other if rest.is_empty() => return None,
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
        }
        out
    }

    /// The rest of the piece has no line end: keep it as (part of) the line being read.
    #[inline]
    fn keep_rest(&mut self) -> Option<Result<StreamItem<T>, Error>> {
        let rest = &self.piece[self.at..];
        self.at = self.piece.len();
        match self.sse.push(rest) {
            Ok(()) => None,
            Err(e) => {
                self.end();
                Some(Err(e))
            }
        }
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

/// Typed chunks from a streaming response, as they arrive.
///
/// Ends at `data: [DONE]`, or at the end of the body once a chunk has carried a finish reason;
/// a body that ends (or a connection that breaks) before either is [`Error::UnexpectedEnd`]. An error chunk (OpenRouter's) is
/// [`Error::Stream`]; a payload that is not a chunk is [`Error::Decode`] with the payload. Comment
/// lines are skipped unless [`with_comments`](Self::with_comments) asked for them.
pub struct ChunkStream<T> {
    meta: ResponseMeta,
    body: Option<ByteStream>,
    decoder: ChunkDecoder<T>,
    ended: bool,
}

// Nothing in a ChunkStream is pinned structurally: queued chunks live on the heap and are only
// moved out whole.
impl<T> Unpin for ChunkStream<T> {}

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
            meta: body.meta().clone(),
            body: Some(body),
            decoder: ChunkDecoder::default(),
            ended: false,
        }
    }

    /// What came with the response: status, request id, headers, attempts; still there after
    /// the stream has ended.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
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
                Ok(StreamItem::Chunk(c)) => c
                    .first_text()
                    .filter(|t| !t.is_empty())
                    .map(|t| Ok(t.to_string())),
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
                // `[DONE]` or an error, and every item before it delivered: drop the body, which
                // closes the connection.
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
                Poll::Ready(Some(Ok(bytes))) => this.decoder.feed(bytes),
                // A connection that breaks mid-body ends the body: what was framed is delivered,
                // then, without a finish reason, `UnexpectedEnd`.
                Poll::Ready(Some(Err(Error::Connection(_)))) => {
                    this.decoder.finish();
                    this.body = None;
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
        d.finish();
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
    fn a_bare_data_line_split_across_pieces_is_an_empty_data_line() {
        // Found by the fuzz target: a `data` line without a colon, assembled from two pieces.
        let want = vec![data(""), data("x")];
        let body = b"data\r\r\ndata: x\n\n";
        assert_eq!(decode_in(&[body]), want);
        for i in 0..body.len() {
            assert_eq!(decode_in(&[&body[..i], &body[i..]]), want, "split at {i}");
        }
    }

    #[test]
    fn an_event_the_body_does_not_close_is_discarded() {
        assert_eq!(decode_in(&[b"data: x"]), vec![]);
        assert_eq!(decode_in(&[b"data: x\n"]), vec![]);
        assert_eq!(decode_in(&[b"data: x\r"]), vec![]);
        assert_eq!(decode_in(&[b": a comment without its line end"]), vec![]);
        assert_eq!(decode_in(&[b"data: x\n\ndata: y"]), vec![data("x")]);
        assert_eq!(decode_in(&[b"data: x\r\n\r\n"]), vec![data("x")]);
        assert_eq!(
            decode_in(&[b"event: lonely\n\n"]),
            vec![],
            "no data, no event"
        );
        // After `finish` the decoder reads a new body from a clean state.
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        d.feed(b"event: e\ndata: cut", &mut out).unwrap();
        d.finish();
        d.feed(b"data: next\n\n", &mut out).unwrap();
        assert_eq!(out, vec![data("next")]);
    }

    /// Seed 003's transcript cut after every byte, read through the whole stream path (the body
    /// of a response, the idle timer, framing, decoding, folding): the full completion when the
    /// cut leaves every chunk that matters closed by its blank line, `UnexpectedEnd` otherwise;
    /// never a decode error from half an event.
    #[tokio::test]
    async fn a_body_cut_at_any_byte_is_the_full_completion_or_an_unexpected_end() {
        use crate::types::{ChatCompletion, ChatCompletionChunk};
        const TRANSCRIPT: &[u8] = include_bytes!("../../mock/fixtures/seed-003-stream.txt");
        let fold = |body: &'static [u8]| async move {
            let response = reqwest::Response::from(http::Response::new(reqwest::Body::from(body)));
            let meta = ResponseMeta::new(
                response.status(),
                response.headers().clone(),
                1,
                crate::Model::from_id("test"),
            );
            let stream = ByteStream::new(response, std::time::Duration::from_secs(5), meta);
            ChunkStream::<ChatCompletionChunk>::new(stream)
                .collect_completion()
                .await
                .map(|done| serde_json::to_value(done).unwrap())
        };
        let full = fold(TRANSCRIPT).await.unwrap();
        let (mut whole, mut ended) = (0, 0);
        for cut in 0..TRANSCRIPT.len() {
            match fold(&TRANSCRIPT[..cut]).await {
                Ok(done) => {
                    assert_eq!(done, full, "cut at {cut}");
                    whole += 1;
                }
                Err(Error::UnexpectedEnd) => ended += 1,
                Err(e) => panic!("cut at {cut}: {e:?}"),
            }
        }
        // The second-to-last event carries the finish reason and the usage: exactly the cuts at
        // or past its blank line fold to the whole completion.
        let body = TRANSCRIPT.len();
        let closed = memchr::memmem::rfind(&TRANSCRIPT[..body - 2], b"\n\n").unwrap() + 2;
        assert_eq!(
            (whole, ended),
            (body - closed, closed),
            "whole, unexpected ends"
        );
        let _: ChatCompletion = serde_json::from_value(full).unwrap();
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

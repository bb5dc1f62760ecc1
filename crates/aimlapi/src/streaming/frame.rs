//! Server-sent event framing per the WHATWG rules: [`SseDecoder`] takes the body in whatever
//! pieces the network delivers and yields events.

use crate::error::Error;

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
pub(crate) fn line_end(bytes: &[u8]) -> Option<usize> {
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
    /// The `event:` field of the event being read (`has_event`), in a buffer reused from event
    /// to event.
    event: String,
    has_event: bool,
    id: Option<String>,
    retry: Option<u64>,
    has_data: bool,
    started: bool,
    /// The previous piece ended in CR: a LF that starts the next piece belongs to it.
    after_cr: bool,
    pub(crate) max_line: usize,
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
            event: String::new(),
            has_event: false,
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
    pub(crate) fn in_line(&self) -> bool {
        !self.line.is_empty()
    }

    /// Whether nothing is pending: the next byte starts a new line of a new event, with no
    /// field set but the last event id.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        self.started
            && !self.after_cr
            && !self.has_data
            && self.line.is_empty()
            && !self.has_event
            && self.retry.is_none()
    }

    /// Frames `bytes` until `sink` asks to stop (returns `true`) or the bytes run out; returns how
    /// many bytes were read. A piece may be fed in several steps: the state carries over.
    pub(crate) fn step(
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
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
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
                        event: self.has_event.then_some(self.event.as_str()),
                        data,
                        id: self.id.as_deref(),
                        retry: self.retry,
                    });
                }
                self.data.clear();
                self.data_from = 0;
                self.has_event = false;
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
                self.event.clear();
                self.event.push_str(&String::from_utf8_lossy(value));
                self.has_event = true;
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

    #[test]
    fn an_overlong_line_is_an_error() {
        let mut d = SseDecoder::new(8);
        let mut out = Vec::new();
        d.feed(b"data: 12", &mut out).unwrap();
        let err = d.feed(b"3", &mut out).unwrap_err();
        assert!(err.to_string().contains("longer than 8 bytes"), "{err}");
    }
}

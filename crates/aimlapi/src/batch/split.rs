//! [`Splitter`]: a batch answer's body cut into its elements as the bytes arrive, whatever the
//! form: one JSON array of them, JSON lines, or a single value. Only the element being read is
//! held, so memory is bounded by the largest element, not by the body.

/// The form the body turned out to have, known from its first byte that is not whitespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outer {
    /// Nothing but whitespace yet.
    Unknown,
    /// `[` elements `,` ... `]`.
    Array,
    /// The array's `]` came; only whitespace may follow.
    Closed,
    /// Values one after another (JSON lines, or one value alone).
    Values,
}

/// Cuts a body into its top-level elements, each read by serde where it starts, in place in the
/// piece of the body that holds it. Only an element cut between two pieces is copied (into
/// `buf`, in growing steps, read again each time its length doubles), so the copying and the
/// failed reads are bounded by the element, not the body.
#[derive(Debug)]
pub(crate) struct Splitter {
    /// The start of an element that the pieces so far have not finished.
    buf: Vec<u8>,
    /// `buf`'s length at which to read it again.
    retry_at: usize,
    /// The piece being read, and how far.
    piece: bytes::Bytes,
    at: usize,
    /// The bytes of this piece copied into `buf`.
    taken: usize,
    outer: Outer,
    /// Elements handed out so far.
    pub(crate) count: usize,
    /// An array element ended; a `,` or the `]` must come before the next.
    need_separator: bool,
    /// The most bytes an element may have (and take again decoded).
    limit: usize,
    /// The body has ended: what is here is all there is.
    ended: bool,
}

/// What is wrong with a body: the message for [`Error::Decode`](crate::Error::Decode) and a
/// piece of the body around the problem.
#[derive(Debug)]
pub(crate) struct Malformed {
    pub(crate) message: String,
    pub(crate) near: String,
    /// The element passed this limit: the error is the size, not the form.
    pub(crate) too_large: Option<usize>,
}

/// The smallest step in which a cut element is copied.
const STEP: usize = 4096;

/// What reading one value from a slice gave.
enum Read<T> {
    /// The value, and the bytes it took.
    Whole(T, usize),
    /// The slice ends inside it.
    Cut,
    /// It is longer than the limit, or would take more than it decoded.
    TooLarge,
    /// Not JSON of that type.
    Bad(String),
}

/// The first value of `bytes` (which start with `{`) read as `T` where it starts (one pass, no
/// scan first), if it ends within them and within `limit` bytes.
fn read<T: serde::de::DeserializeOwned>(bytes: &[u8], limit: usize) -> Read<T> {
    match crate::json::first::<T>(bytes, limit) {
        Ok(Some((_, used))) if used > limit => Read::TooLarge,
        Ok(Some((value, used))) => Read::Whole(value, used),
        Ok(None) if bytes.len() > limit => Read::TooLarge,
        Ok(None) => Read::Cut,
        Err(crate::json::JsonFailure::TooLarge { .. }) => Read::TooLarge,
        Err(e) => Read::Bad(e.to_string()),
    }
}

impl Splitter {
    /// A splitter whose elements may have at most `limit` bytes each.
    pub(crate) fn new(limit: usize) -> Self {
        Splitter {
            limit,
            buf: Vec::new(),
            retry_at: 0,
            piece: bytes::Bytes::new(),
            at: 0,
            taken: 0,
            outer: Outer::Unknown,
            count: 0,
            need_separator: false,
            ended: false,
        }
    }

    /// The next piece of the body, once [`next_element`](Self::next_element) has given all it
    /// could from the last.
    pub(crate) fn feed(&mut self, piece: bytes::Bytes) {
        debug_assert!(
            self.at >= self.piece.len(),
            "a piece fed before the last was read"
        );
        self.piece = piece;
        self.at = 0;
        self.taken = 0;
    }

    /// The next whole element read as `T`, if the pieces so far hold one.
    pub(crate) fn next_element<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<Option<T>, Malformed> {
        if !self.buf.is_empty() {
            match self.finish_cut()? {
                Some(value) => return Ok(Some(value)),
                None if self.ended => {
                    return Err(self.malformed("the answer ended inside an element"))
                }
                None => return Ok(None),
            }
        }
        while self.at < self.piece.len() {
            let b = self.piece[self.at];
            match (b, self.outer) {
                (b' ' | b'\n' | b'\r' | b'\t', _) => {}
                (b'[', Outer::Unknown) => self.outer = Outer::Array,
                (b',', Outer::Array) if self.need_separator => self.need_separator = false,
                (b']', Outer::Array) => self.outer = Outer::Closed,
                (b'{', Outer::Unknown | Outer::Values) | (b'{', Outer::Array)
                    if !self.need_separator =>
                {
                    if self.outer == Outer::Unknown {
                        self.outer = Outer::Values;
                    }
                    return match read::<T>(&self.piece[self.at..], self.limit) {
                        Read::Whole(value, used) => {
                            self.at += used;
                            Ok(Some(self.handed(value)))
                        }
                        Read::Cut if self.ended => {
                            Err(self.malformed("the answer ended inside an element"))
                        }
                        Read::Cut => {
                            // The rest of the piece starts an element: kept until more comes.
                            self.buf.extend_from_slice(&self.piece[self.at..]);
                            self.retry_at = self.next_retry();
                            self.at = self.piece.len();
                            Ok(None)
                        }
                        Read::TooLarge => Err(self.too_large()),
                        Read::Bad(e) => {
                            Err(self.malformed(&format!("element {}: {e}", self.count + 1)))
                        }
                    };
                }
                _ => return Err(self.malformed(
                    "an answer that is neither a JSON array of objects, JSON lines nor one object",
                )),
            }
            self.at += 1;
        }
        Ok(None)
    }

    /// The element cut between pieces: more of the piece copied after it, in growing steps,
    /// until it reads whole; the bytes copied beyond its end are read again from the piece.
    fn finish_cut<T: serde::de::DeserializeOwned>(&mut self) -> Result<Option<T>, Malformed> {
        loop {
            let left = self.piece.len() - self.at;
            let take = self.retry_at.saturating_sub(self.buf.len()).min(left);
            self.buf
                .extend_from_slice(&self.piece[self.at..self.at + take]);
            self.at += take;
            self.taken += take;
            if self.buf.len() < self.retry_at && !self.ended {
                return Ok(None);
            }
            match read::<T>(&self.buf, self.limit) {
                Read::Whole(value, used) => {
                    // Bytes copied after the element's end are read again where they came from:
                    // this piece, or (when some came from an earlier one) a new piece of them
                    // and the rest of this one.
                    let excess = self.buf.len() - used;
                    if excess <= self.taken {
                        self.at -= excess;
                    } else {
                        let mut rest = self.buf[used..].to_vec();
                        rest.extend_from_slice(&self.piece[self.at..]);
                        self.piece = rest.into();
                        self.at = 0;
                    }
                    self.taken = 0;
                    self.buf.clear();
                    return Ok(Some(self.handed(value)));
                }
                Read::Cut if self.ended => return Ok(None),
                Read::Cut => self.retry_at = self.next_retry(),
                Read::TooLarge => return Err(self.too_large()),
                Read::Bad(e) => {
                    return Err(self.malformed(&format!("element {}: {e}", self.count + 1)))
                }
            }
        }
    }

    /// The length at which a cut element is read again: twice what is held (at least a step
    /// more), but no more than one byte past the limit, where it is refused.
    fn next_retry(&self) -> usize {
        let held = self.buf.len();
        (2 * held)
            .max(held + STEP)
            .min(self.limit.saturating_add(1))
            .max(held + 1)
    }

    fn handed<T>(&mut self, value: T) -> T {
        self.count += 1;
        self.need_separator = self.outer == Outer::Array;
        value
    }

    /// Says the body has ended: [`next_element`](Self::next_element) then reads what is left.
    pub(crate) fn end(&mut self) {
        self.ended = true;
    }

    /// Once [`next_element`](Self::next_element) gives no more after [`end`](Self::end): checks
    /// that the body ended where it may, after whole elements (and the array's `]`).
    pub(crate) fn finish(&self) -> Result<(), Malformed> {
        let why = match self.outer {
            Outer::Array => "the answer ended before the array's `]`",
            Outer::Unknown => "an empty answer",
            _ => return Ok(()),
        };
        Err(self.malformed(why))
    }

    fn malformed(&self, why: &str) -> Malformed {
        let near = if self.buf.is_empty() {
            let from = self.at.saturating_sub(40).min(self.piece.len());
            let to = (self.at + 200).min(self.piece.len());
            &self.piece[from..to]
        } else {
            &self.buf[..self.buf.len().min(240)]
        };
        Malformed {
            message: format!("{why} (element {})", self.count + 1),
            near: String::from_utf8_lossy(near).into_owned(),
            too_large: None,
        }
    }

    fn too_large(&self) -> Malformed {
        let mut m = self.malformed(&format!(
            "an element longer than {} bytes, or larger decoded",
            self.limit
        ));
        m.too_large = Some(self.limit);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element of `body` fed in pieces of `piece` bytes, as text.
    fn split(body: &str, piece: usize) -> Result<Vec<String>, String> {
        let mut s = Splitter::new(1 << 30);
        let mut out = Vec::new();
        for chunk in body.as_bytes().chunks(piece.max(1)) {
            s.feed(bytes::Bytes::copy_from_slice(chunk));
            while let Some(e) = s
                .next_element::<serde_json::Value>()
                .map_err(|m| m.message)?
            {
                out.push(e.to_string());
            }
        }
        s.end();
        while let Some(e) = s
            .next_element::<serde_json::Value>()
            .map_err(|m| m.message)?
        {
            out.push(e.to_string());
        }
        s.finish().map_err(|m| m.message)?;
        Ok(out)
    }

    fn canonical(text: &str) -> String {
        serde_json::from_str::<serde_json::Value>(text)
            .unwrap()
            .to_string()
    }

    #[test]
    fn each_form_gives_the_same_elements_in_any_pieces() {
        let a = r#"{"id":"b","s":"a \"}\" ]{ \\"}"#;
        let b = r#"{"x":[1,{"y":"]"}],"z":{}}"#;
        let (a, b) = (a, b);
        let forms = [
            format!("[{a},{b}]"),
            format!(" [\n  {a} ,\n  {b}\n]\n"),
            format!("{a}\n{b}\n"),
            format!("{a}\r\n\r\n{b}"),
            format!("{a}{b}"),
        ];
        for body in &forms {
            for piece in [1, 2, 3, 7, 64, 10_000] {
                assert_eq!(
                    split(body, piece).unwrap(),
                    [a, b],
                    "{body:?} in pieces of {piece}"
                );
            }
        }
        assert_eq!(split(&format!("  {a}  "), 5).unwrap(), [canonical(a)]);
        assert_eq!(split("[]", 1).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn anything_else_is_malformed_and_says_so() {
        for (body, why) in [
            ("", "an empty answer"),
            ("   ", "an empty answer"),
            ("[{\"a\":1}", "before the array's `]`"),
            ("{\"a\":1", "inside an element"),
            ("[{\"a\":1}{\"b\":2}]", "neither"),
            ("[{\"a\":1},,{\"b\":2}]", "neither"),
            ("[1,2]", "neither"),
            ("[{\"a\":tru}]", "expected"),
            ("\"text\"", "neither"),
            ("<html>Bad gateway</html>", "neither"),
            ("[{\"a\":1}] [", "neither"),
            ("[{\"a\":1}],", "neither"),
        ] {
            let err = split(body, 3).unwrap_err();
            assert!(err.contains(why), "{body:?}: {err}");
        }
    }

    #[test]
    fn memory_holds_one_element() {
        let element = format!("{{\"t\":\"{}\"}}", "x".repeat(1000));
        let body = format!("[{}]", vec![element.as_str(); 1000].join(","));
        let mut s = Splitter::new(1 << 30);
        let mut n = 0;
        for piece in body.as_bytes().chunks(700) {
            s.feed(bytes::Bytes::copy_from_slice(piece));
            while s.next_element::<serde_json::Value>().unwrap().is_some() {
                n += 1;
            }
            assert!(
                s.buf.capacity() <= 4 * element.len() + STEP,
                "{}",
                s.buf.capacity()
            );
        }
        s.end();
        while s.next_element::<serde_json::Value>().unwrap().is_some() {
            n += 1;
        }
        s.finish().unwrap();
        assert_eq!(n, 1000);
    }

    #[test]
    fn a_large_element_in_small_pieces_is_read_a_few_times_not_once_a_piece() {
        let element = format!("{{\"t\":\"{}\"}}", "x".repeat(1 << 20));
        let mut s = Splitter::new(1 << 30);
        let mut tries = 0;
        let mut got = false;
        for piece in element.as_bytes().chunks(1024) {
            s.feed(bytes::Bytes::copy_from_slice(piece));
            let before = s.retry_at;
            got |= s.next_element::<serde_json::Value>().unwrap().is_some();
            tries += usize::from(s.retry_at != before);
        }
        s.end();
        got |= s.next_element::<serde_json::Value>().unwrap().is_some();
        assert!(got);
        assert_eq!(s.count, 1);
        assert!(
            tries <= 12,
            "{tries} reads of a 1 MiB element in 1 KiB pieces"
        );
    }
}

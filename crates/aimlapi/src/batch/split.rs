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

/// Cuts a body into its top-level elements.
#[derive(Debug)]
pub(crate) struct Splitter {
    buf: Vec<u8>,
    /// Bytes before this are handed out or skipped.
    consumed: usize,
    /// Where scanning goes on from.
    pos: usize,
    /// Where the element being read began, once it has.
    start: Option<usize>,
    /// Open objects and arrays inside the element.
    depth: u32,
    in_string: bool,
    outer: Outer,
    /// Elements handed out so far.
    pub(crate) count: usize,
    /// An array element ended; a `,` or the `]` must come before the next.
    need_separator: bool,
}

/// What is wrong with a body: the message for [`Error::Decode`](crate::Error::Decode) and a
/// piece of the body around the problem.
#[derive(Debug)]
pub(crate) struct Malformed {
    pub(crate) message: String,
    pub(crate) near: String,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Splitter {
            buf: Vec::new(),
            consumed: 0,
            pos: 0,
            start: None,
            depth: 0,
            in_string: false,
            outer: Outer::Unknown,
            count: 0,
            need_separator: false,
        }
    }

    /// Adds the next bytes of the body.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        // What was handed out goes before more comes: the buffer holds one element and the
        // bytes after it.
        if self.consumed > 0 {
            self.buf.drain(..self.consumed);
            self.pos -= self.consumed;
            self.start = self.start.map(|s| s - self.consumed);
            self.consumed = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole element, if the bytes so far hold one.
    pub(crate) fn next_element(&mut self) -> Result<Option<&[u8]>, Malformed> {
        let buf = &self.buf;
        let mut i = self.pos;
        while i < buf.len() {
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                    None => {
                        i = buf.len();
                        break;
                    }
                    Some(at) => {
                        i += at;
                        if buf[i] == b'\\' {
                            // The escaped byte may not have come yet.
                            if i + 1 >= buf.len() {
                                break;
                            }
                            i += 2;
                        } else {
                            self.in_string = false;
                            i += 1;
                        }
                        continue;
                    }
                }
            }
            let b = buf[i];
            if self.start.is_none() {
                // Between elements: whitespace, the array's punctuation, or an element's start.
                match (b, self.outer) {
                    (b' ' | b'\n' | b'\r' | b'\t', _) => {}
                    (b'[', Outer::Unknown) => self.outer = Outer::Array,
                    (b',', Outer::Array) if self.need_separator => self.need_separator = false,
                    (b']', Outer::Array) => self.outer = Outer::Closed,
                    (b'{', Outer::Unknown | Outer::Values) => {
                        self.outer = Outer::Values;
                        self.start = Some(i);
                        self.depth = 1;
                    }
                    (b'{', Outer::Array) if !self.need_separator => {
                        self.start = Some(i);
                        self.depth = 1;
                    }
                    _ => {
                        self.pos = i;
                        return Err(self.malformed(i, "an answer that is neither a JSON array of objects, JSON lines nor one object"));
                    }
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        let start = self.start.take().unwrap_or(i);
                        self.pos = i + 1;
                        self.consumed = i + 1;
                        self.count += 1;
                        self.need_separator = self.outer == Outer::Array;
                        return Ok(Some(&self.buf[start..=i]));
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.pos = i;
        if self.start.is_none() {
            // Whitespace and punctuation only: nothing to keep.
            self.consumed = i;
        }
        Ok(None)
    }

    /// Checks that the body ended where it may: after whole elements (and the array's `]`).
    pub(crate) fn finish(&self) -> Result<(), Malformed> {
        let why = if self.start.is_some() {
            "the answer ended inside an element"
        } else if self.outer == Outer::Array {
            "the answer ended before the array's `]`"
        } else if self.outer == Outer::Unknown {
            "an empty answer"
        } else {
            return Ok(());
        };
        Err(self.malformed(self.buf.len().saturating_sub(1), why))
    }

    fn malformed(&self, at: usize, why: &str) -> Malformed {
        let from = self.start.unwrap_or(at).min(self.buf.len());
        let from = from.saturating_sub(if self.start.is_some() { 0 } else { 40 });
        let to = (at + 40).min(self.buf.len());
        Malformed {
            message: format!("{why} (element {} at byte {at})", self.count + 1),
            near: String::from_utf8_lossy(&self.buf[from..to]).into_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element of `body` fed in pieces of `piece` bytes, as text.
    fn split(body: &str, piece: usize) -> Result<Vec<String>, String> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for chunk in body.as_bytes().chunks(piece.max(1)) {
            s.feed(chunk);
            while let Some(e) = s.next_element().map_err(|m| m.message)? {
                out.push(String::from_utf8(e.to_vec()).unwrap());
            }
        }
        s.finish().map_err(|m| m.message)?;
        Ok(out)
    }

    #[test]
    fn each_form_gives_the_same_elements_in_any_pieces() {
        let a = r#"{"id":"b","s":"a \"}\" ]{ \\"}"#;
        let b = r#"{"x":[1,{"y":"]"}],"z":{}}"#;
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
        assert_eq!(split(&format!("  {a}  "), 5).unwrap(), [a]);
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
    fn memory_holds_one_element_and_what_follows() {
        let element = format!("{{\"t\":\"{}\"}}", "x".repeat(1000));
        let mut s = Splitter::new();
        s.feed(b"[");
        for _ in 0..1000 {
            s.feed(element.as_bytes());
            assert!(s.next_element().unwrap().is_some());
            s.feed(b",");
            assert!(s.next_element().unwrap().is_none());
            assert!(s.buf.len() <= element.len() + 2, "{}", s.buf.len());
        }
    }
}

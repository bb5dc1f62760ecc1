//! The value so far of JSON text that has not all arrived yet.
//!
//! A tool call's arguments stream in pieces (Anthropic's `input_json_delta.partial_json`,
//! OpenAI's `tool_calls[].function.arguments`), and a caller that shows them as they come needs
//! a value at every piece, not only at the last. [`parse_partial_json`] reads the text in one
//! pass over its bytes and closes whatever is still open where the text stops: the strings,
//! numbers, arrays and objects that have begun. It keeps its own stack of open containers
//! instead of recursing, and stops at the nesting depth serde_json stops at, so no input can
//! overflow the stack, either while reading or when the result is dropped.

use serde_json::{Map, Number, Value};

/// The most containers open at once. serde_json refuses the 128th nested `[` or `{`; the scanner
/// stops there too, so whole text that serde_json reads is read the same, and deeper text is
/// returned as read up to that bracket.
const MAX_DEPTH: usize = 127;

/// Reads JSON text that may stop anywhere, and returns the value it holds so far.
///
/// The text is usually a prefix of a JSON document, such as a tool call's arguments while they
/// are still streaming. The read never fails and never panics: where the text stops, what is
/// open is closed, and whatever cannot yet be a value is left out.
///
/// - Empty or whitespace-only text is [`Value::Null`]; so is text whose first value has not got
///   far enough to be one (`tr`, `-`).
/// - Whole JSON text gives exactly what [`serde_json::from_str`] gives, numbers included (each
///   complete number is read by serde_json).
/// - An object that stops inside keeps the members read so far. A key whose value has not begun
///   (a key cut short, a key alone, a key and its `:`) is left out; a member whose value has
///   begun keeps that value as far as it goes. When a key comes twice, the later member wins.
/// - An array that stops inside keeps its elements so far, and the last one as far as it goes.
/// - A string that stops inside keeps its text so far with its escapes decoded; an escape cut
///   short (`\`, `\u00`, or a high surrogate still waiting for its low half) is dropped.
/// - A number that stops inside is kept if it reads as a number once a trailing `.`, `e`, `E`,
///   `+` or `-` is taken off (`12.` is 12, `1e` is 1); otherwise (`-`) it is left out. A number
///   at the very end of the text may still be growing; it is returned as it reads now.
/// - A literal cut short (`tr`, `nul`, `fa`) is left out, as if it had not begun.
/// - Text that is not a prefix of any JSON text (a stray character, a bad escape, a raw control
///   character in a string, a number too large for a float, content after the top-level value,
///   nesting deeper than 127 containers) is read up to the fault, and the value so far is
///   returned as if the text had stopped there.
///
/// One pass, linear in the text's length: meant to be run again on every piece of a stream.
///
/// # Examples
///
/// ```
/// use aimlapi::chat::parse_partial_json;
/// use serde_json::json;
///
/// assert_eq!(parse_partial_json(r#"{"city": "Par"#), json!({"city": "Par"}));
/// assert_eq!(
///     parse_partial_json(r#"{"city": "Paris", "days": [1, 2"#),
///     json!({"city": "Paris", "days": [1, 2]}),
/// );
/// // A key whose value has not begun is left out.
/// assert_eq!(parse_partial_json(r#"{"city": "Paris", "da"#), json!({"city": "Paris"}));
/// assert_eq!(parse_partial_json(""), serde_json::Value::Null);
/// ```
pub fn parse_partial_json(text: &str) -> Value {
    Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        stack: Vec::new(),
        done: None,
    }
    .run()
}

/// A container that has begun and not closed.
enum Frame {
    Array(Vec<Value>),
    Object {
        map: Map<String, Value>,
        /// The key read for the member whose value comes next.
        key: Option<String>,
    },
}

/// What the scanner looks for next.
#[derive(Clone, Copy)]
enum Expect {
    /// A value; `]` too when the array was just opened.
    Value { may_close: bool },
    /// After a value: `,` or the close of the open container (or, at the top, nothing).
    After,
    /// A key; `}` too when the object was just opened.
    Key { may_close: bool },
    /// The `:` after a key.
    Colon,
}

/// How a string stopped, when it did not reach its closing quote.
struct Unclosed(String);

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Open containers, innermost last.
    stack: Vec<Frame>,
    /// The top-level value, once complete.
    done: Option<Value>,
}

impl Scanner<'_> {
    fn run(mut self) -> Value {
        let mut expect = Expect::Value { may_close: false };
        loop {
            self.skip_whitespace();
            let Some(&byte) = self.bytes.get(self.pos) else {
                return self.finish(None);
            };
            match expect {
                Expect::Value { may_close } => match byte {
                    b'{' | b'[' => {
                        if self.stack.len() >= MAX_DEPTH {
                            return self.finish(None);
                        }
                        self.pos += 1;
                        if byte == b'{' {
                            self.stack.push(Frame::Object {
                                map: Map::new(),
                                key: None,
                            });
                            expect = Expect::Key { may_close: true };
                        } else {
                            self.stack.push(Frame::Array(Vec::new()));
                            expect = Expect::Value { may_close: true };
                        }
                    }
                    b']' if may_close => {
                        self.pos += 1;
                        self.close();
                        expect = Expect::After;
                    }
                    b'"' => match self.string() {
                        Ok(text) => {
                            self.complete(Value::String(text));
                            expect = Expect::After;
                        }
                        Err(Unclosed(text)) => return self.finish(Some(Value::String(text))),
                    },
                    b'-' | b'0'..=b'9' => match self.number() {
                        Ok(number) => {
                            self.complete(Value::Number(number));
                            expect = Expect::After;
                        }
                        Err(partial) => return self.finish(partial.map(Value::Number)),
                    },
                    b't' | b'f' | b'n' => {
                        let (word, value): (&[u8], Value) = match byte {
                            b't' => (b"true", Value::Bool(true)),
                            b'f' => (b"false", Value::Bool(false)),
                            _ => (b"null", Value::Null),
                        };
                        if !self.bytes[self.pos..].starts_with(word) {
                            // Cut short or misspelt: either way, not a value yet.
                            return self.finish(None);
                        }
                        self.pos += word.len();
                        self.complete(value);
                        expect = Expect::After;
                    }
                    _ => return self.finish(None),
                },
                Expect::After => {
                    let is_array = match self.stack.last() {
                        // Only whitespace may follow the top-level value.
                        None => return self.finish(None),
                        Some(Frame::Array(_)) => true,
                        Some(Frame::Object { .. }) => false,
                    };
                    match (byte, is_array) {
                        (b',', true) => expect = Expect::Value { may_close: false },
                        (b',', false) => expect = Expect::Key { may_close: false },
                        (b']', true) | (b'}', false) => self.close(),
                        _ => return self.finish(None),
                    }
                    self.pos += 1;
                }
                Expect::Key { may_close } => match byte {
                    b'"' => match self.string() {
                        Ok(key) => {
                            if let Some(Frame::Object { key: slot, .. }) = self.stack.last_mut() {
                                *slot = Some(key);
                            }
                            expect = Expect::Colon;
                        }
                        Err(Unclosed(_)) => return self.finish(None),
                    },
                    b'}' if may_close => {
                        self.pos += 1;
                        self.close();
                        expect = Expect::After;
                    }
                    _ => return self.finish(None),
                },
                Expect::Colon => {
                    if byte != b':' {
                        return self.finish(None);
                    }
                    self.pos += 1;
                    expect = Expect::Value { may_close: false };
                }
            }
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Hands a complete value to the open container, or makes it the top-level value.
    fn complete(&mut self, value: Value) {
        match self.stack.last_mut() {
            None => self.done = Some(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object { map, key }) => {
                if let Some(key) = key.take() {
                    map.insert(key, value);
                }
            }
        }
    }

    /// Closes the innermost container (its closing bracket read).
    fn close(&mut self) {
        if let Some(frame) = self.stack.pop() {
            let value = match frame {
                Frame::Array(items) => Value::Array(items),
                Frame::Object { map, .. } => Value::Object(map),
            };
            self.complete(value);
        }
    }

    /// Where the text stops (or stops being JSON): closes what is open, innermost first, with
    /// `partial` (the value in progress, if any) as the innermost container's last element.
    fn finish(mut self, partial: Option<Value>) -> Value {
        let mut inner = partial;
        while let Some(frame) = self.stack.pop() {
            let value = match frame {
                Frame::Array(mut items) => {
                    items.extend(inner);
                    Value::Array(items)
                }
                Frame::Object { mut map, key } => {
                    if let (Some(key), Some(value)) = (key, inner) {
                        map.insert(key, value);
                    }
                    Value::Object(map)
                }
            };
            inner = Some(value);
        }
        inner.or(self.done).unwrap_or(Value::Null)
    }

    /// Reads a string from its opening quote (at `pos`). `Err` holds the text so far when the
    /// string stops before its closing quote, less an escape cut short.
    fn string(&mut self) -> Result<String, Unclosed> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run = self.pos;
            while let Some(&byte) = self.bytes.get(self.pos) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run stops at an ASCII byte or the end, both on a char boundary.
            out.push_str(&self.text[run..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.escape() {
                        Some(ch) => out.push(ch),
                        None => return Err(Unclosed(out)),
                    }
                }
                // The end, or a raw control character (which JSON does not allow).
                _ => return Err(Unclosed(out)),
            }
        }
    }

    /// Reads an escape after its backslash: `None` when it is cut short or not valid.
    fn escape(&mut self) -> Option<char> {
        let byte = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let ch = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos) != Some(&b'\\')
                            || self.bytes.get(self.pos + 1) != Some(&b'u')
                        {
                            return None;
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code)?
                    }
                    // A low surrogate with no high one before it.
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(first)?,
                }
            }
            _ => return None,
        };
        Some(ch)
    }

    /// Reads four hex digits: `None` when fewer are there.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut code = 0;
        for &digit in digits {
            code = code * 16 + char::from(digit).to_digit(16)?;
        }
        self.pos += 4;
        Some(code)
    }

    /// Reads a number from its first byte (at `pos`). `Ok` when the number is whole by JSON's
    /// grammar (the text may still go on with more digits); `Err` when it stops short (at the end
    /// or at a byte that cannot come next), with what it reads as once a trailing `.`, `e`, `E`,
    /// `+` or `-` is taken off, if anything.
    fn number(&mut self) -> Result<Number, Option<Number>> {
        let start = self.pos;
        let whole = self.number_grammar();
        let token = &self.text[start..self.pos];
        if whole {
            // Out of range (`1e400`) is not a number to serde_json either.
            read_number(token).ok_or(None)
        } else {
            let trimmed = token.trim_end_matches(['.', 'e', 'E', '+', '-']);
            Err(read_number(trimmed))
        }
    }

    /// Advances over a number's bytes as far as JSON's grammar allows; whether it is whole there.
    fn number_grammar(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return false;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return false;
            }
            self.digits();
        }
        true
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }
}

/// A whole number token read by serde_json, so it is classed (u64, i64 or f64) as serde_json
/// classes it.
fn read_number(token: &str) -> Option<Number> {
    if token.is_empty() {
        return None;
    }
    match serde_json::from_str(token) {
        Ok(Value::Number(number)) => Some(number),
        _ => None,
    }
}

/// A tool call's input so far: the arguments' text read by [`parse_partial_json`], and `{}`
/// before any of it has arrived (a tool's input is an object).
pub(crate) fn tool_input_so_far(text: &str) -> Value {
    match parse_partial_json(text) {
        Value::Null if text.trim().is_empty() => Value::Object(serde_json::Map::new()),
        value => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Value {
        parse_partial_json(text)
    }

    #[test]
    fn empty_or_whitespace_text_is_null() {
        assert_eq!(read(""), Value::Null);
        assert_eq!(read(" \t\r\n "), Value::Null);
    }

    #[test]
    fn whole_text_reads_as_serde_json_reads_it() {
        let texts = [
            "null",
            "true",
            " false ",
            "0",
            "-0",
            "12",
            "-12",
            "18446744073709551615",
            "-9223372036854775808",
            "18446744073709551616",
            "1.5",
            "-0.0",
            "1e3",
            "1E+3",
            "2.5e-3",
            "123456789012345678901234567890",
            r#""plain""#,
            r#""esc \" \\ \/ \b \f \n \r \t \u00e9 \u20ac \ud83d\ude00 end""#,
            r#""é€😀""#,
            "[]",
            "{}",
            "[1, [2, [3, []]], {}]",
            r#"{"a": {"b": [true, null, "x"]}, "c": -1.25e2}"#,
            "{\n  \"pretty\": [\n    1,\n    2\n  ]\n}\n",
            r#"{"k": 1, "k": 2}"#,
        ];
        for text in texts {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(read(text), expected, "{text}");
        }
    }

    #[test]
    fn numbers_are_classed_as_serde_json_classes_them() {
        assert!(read("[12").pointer("/0").unwrap().is_u64());
        assert!(read("[-12").pointer("/0").unwrap().is_i64());
        assert!(read("[12.").pointer("/0").unwrap().is_u64());
        assert!(read("[1.0").pointer("/0").unwrap().is_f64());
        assert!(read("[18446744073709551616")
            .pointer("/0")
            .unwrap()
            .is_f64());
    }

    #[test]
    fn an_object_cut_inside_keeps_its_members_so_far() {
        assert_eq!(read("{"), json!({}));
        assert_eq!(read(r#"{"a": 1"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1,"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "#), json!({"a": 1}));
        assert_eq!(
            read(r#"{"a": "x", "b": {"c": [1, {"d": "y"#),
            json!({"a": "x", "b": {"c": [1, {"d": "y"}]}})
        );
    }

    #[test]
    fn a_key_without_its_value_is_left_out() {
        assert_eq!(read(r#"{"a": 1, "b"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b""#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b" "#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b":"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b": "#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b": t"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b": -"#), json!({"a": 1}));
        assert_eq!(read(r#"{"a": 1, "b\u00"#), json!({"a": 1}));
    }

    #[test]
    fn a_member_whose_value_is_cut_keeps_the_partial_value() {
        assert_eq!(read(r#"{"a": ""#), json!({"a": ""}));
        assert_eq!(read(r#"{"a": "Par"#), json!({"a": "Par"}));
        assert_eq!(read(r#"{"a": 12."#), json!({"a": 12}));
        assert_eq!(read(r#"{"a": ["#), json!({"a": []}));
        assert_eq!(read(r#"{"a": {"#), json!({"a": {}}));
        assert_eq!(read(r#"{"a": {"b"#), json!({"a": {}}));
    }

    #[test]
    fn an_array_cut_inside_keeps_its_elements_so_far() {
        assert_eq!(read("["), json!([]));
        assert_eq!(read("[1"), json!([1]));
        assert_eq!(read("[1,"), json!([1]));
        assert_eq!(read("[1, 2"), json!([1, 2]));
        assert_eq!(read(r#"[1, "ab"#), json!([1, "ab"]));
        assert_eq!(read("[1, [2, [3"), json!([1, [2, [3]]]));
        assert_eq!(read("[1, {"), json!([1, {}]));
        assert_eq!(read("[true, fa"), json!([true]));
        assert_eq!(read("[[], [], "), json!([[], []]));
    }

    #[test]
    fn a_string_cut_inside_keeps_its_decoded_text() {
        assert_eq!(read(r#"""#), json!(""));
        assert_eq!(read(r#""ab"#), json!("ab"));
        assert_eq!(read(r#""a\nb"#), json!("a\nb"));
        assert_eq!(read(r#""a\"b"#), json!("a\"b"));
        assert_eq!(read(r#""caf\u00e9"#), json!("café"));
        assert_eq!(read(r#""x\ud83d\ude00"#), json!("x😀"));
        assert_eq!(read("\"é€😀"), json!("é€😀"));
    }

    #[test]
    fn an_escape_cut_short_is_dropped() {
        assert_eq!(read(r#""ab\"#), json!("ab"));
        assert_eq!(read(r#""ab\u"#), json!("ab"));
        assert_eq!(read(r#""ab\u00"#), json!("ab"));
        assert_eq!(read(r#""ab\u00e"#), json!("ab"));
        assert_eq!(read(r#""ab\ud83d"#), json!("ab"));
        assert_eq!(read(r#""ab\ud83d\"#), json!("ab"));
        assert_eq!(read(r#""ab\ud83d\u"#), json!("ab"));
        assert_eq!(read(r#""ab\ud83d\ude0"#), json!("ab"));
        assert_eq!(read(r#"["ab\u00"#), json!(["ab"]));
    }

    #[test]
    fn a_number_cut_short_is_kept_when_it_reads_once_trimmed() {
        assert_eq!(read("12."), json!(12));
        assert_eq!(read("1e"), json!(1));
        assert_eq!(read("1E"), json!(1));
        assert_eq!(read("1e+"), json!(1));
        assert_eq!(read("1.5e-"), json!(1.5));
        assert_eq!(read("-"), Value::Null);
        assert_eq!(read("[-"), json!([]));
        assert_eq!(read("[-1"), json!([-1]));
        assert_eq!(read("[-0."), read("[-0]"));
        // Still growing at the end of the text: what it reads as now.
        assert_eq!(read("[12"), json!([12]));
        assert_eq!(read("[1.2"), json!([1.2]));
    }

    #[test]
    fn a_literal_cut_short_is_left_out() {
        assert_eq!(read("tr"), Value::Null);
        assert_eq!(read("nul"), Value::Null);
        assert_eq!(read("[fa"), json!([]));
        assert_eq!(read(r#"{"a": nul"#), json!({}));
        assert_eq!(read("[null, tru"), json!([null]));
        assert_eq!(read("[null, true"), json!([null, true]));
    }

    #[test]
    fn text_that_is_not_json_is_read_up_to_the_fault() {
        assert_eq!(read("x"), Value::Null);
        assert_eq!(read("]"), Value::Null);
        assert_eq!(read("[1, x, 2]"), json!([1]));
        assert_eq!(read("[1 2]"), json!([1]));
        assert_eq!(read("[1,]"), json!([1]));
        assert_eq!(read("[1}"), json!([1]));
        assert_eq!(read(r#"{"a" 1}"#), json!({}));
        assert_eq!(read(r#"{"a": 1,}"#), json!({"a": 1}));
        assert_eq!(read(r#"{1: 2}"#), json!({}));
        assert_eq!(read(r#"{"a": 1]"#), json!({"a": 1}));
        assert_eq!(read("[trux]"), json!([]));
        assert_eq!(read("[truex]"), json!([true]));
        assert_eq!(read("[01]"), json!([0]));
        assert_eq!(read("[1.x]"), json!([1]));
        assert_eq!(read("[-x]"), json!([]));
        assert_eq!(read("[1e400, 2]"), json!([]));
        assert_eq!(read("1 2"), json!(1));
        assert_eq!(read(r#"{"a": 1} x"#), json!({"a": 1}));
        assert_eq!(read("\"ab\u{1}cd\""), json!("ab"));
        assert_eq!(read(r#""ab\qcd""#), json!("ab"));
        assert_eq!(read(r#""ab\u12G4""#), json!("ab"));
        assert_eq!(read(r#""ab\udc00cd""#), json!("ab"));
        assert_eq!(read(r#""ab\ud83dcd""#), json!("ab"));
        assert_eq!(read(r#""ab\ud83d\u0041""#), json!("ab"));
        for text in ["[1, x, 2]", "\"ab\u{1}\"", r#""\udc00""#, "1 2", "[01]"] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn nesting_stops_where_serde_json_stops() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let deepest = nested(MAX_DEPTH);
        let expected: Value = serde_json::from_str(&deepest).unwrap();
        assert_eq!(read(&deepest), expected);
        assert!(serde_json::from_str::<Value>(&nested(MAX_DEPTH + 1)).is_err());
        // One deeper: read up to the bracket past the limit.
        assert_eq!(read(&nested(MAX_DEPTH + 1)), read(&"[".repeat(MAX_DEPTH)));

        // Far deeper, cut or whole, objects or arrays: no overflow, and the depth is bounded.
        for text in [
            "[".repeat(1_000_000),
            nested(1_000_000),
            r#"{"a":"#.repeat(1_000_000),
            r#"[{"a":"#.repeat(500_000),
        ] {
            let value = read(&text);
            let mut depth = 0;
            let mut node = &value;
            loop {
                node = match node {
                    Value::Array(items) if !items.is_empty() => &items[0],
                    Value::Object(map) if !map.is_empty() => map.values().next().unwrap(),
                    _ => break,
                };
                depth += 1;
            }
            assert_eq!(depth + 1, MAX_DEPTH);
        }
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value() {
        assert_eq!(read(r#"{"k": 1, "k": 2}"#), json!({"k": 2}));
        assert_eq!(read(r#"{"k": 1, "k": "tw"#), json!({"k": "tw"}));
        // The second has no value yet, so the first stands.
        assert_eq!(read(r#"{"k": 1, "k":"#), json!({"k": 1}));
    }

    #[test]
    fn every_cut_of_a_document_reads_without_panicking() {
        let text = concat!(
            r#"{"a": [1, -2.5e+3, "x\u00e9\ud83d\ude00\n", true, false, null, {}], "#,
            r#""b": {"c": "é€😀"}}"#,
        );
        let expected: Value = serde_json::from_str(text).unwrap();
        for (end, _) in text.char_indices() {
            let _ = read(&text[..end]);
        }
        assert_eq!(read(text), expected);
    }
}

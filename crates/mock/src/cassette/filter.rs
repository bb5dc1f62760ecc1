//! What never reaches a cassette file: the headers that carry keys and cookies, the header and
//! body fields a caller names, and any trace of those values elsewhere in the exchange.
//!
//! An exchange is filtered whole, once it has ended, in two passes: first every named place is
//! blanked and its value kept (headers of both sides, query parameters, body fields of the
//! request, the answer and each streamed event), then every value kept is scrubbed from
//! everything written, bytes included. A stream is filtered event by event over its whole body,
//! so neither an event nor a secret cut between two network chunks escapes.

use serde_json::Value;

/// What a filtered value is written as.
pub(crate) const FILTERED: &str = "[filtered]";

/// Headers filtered whatever the caller says.
const ALWAYS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
];

/// Secrets shorter than this are filtered where they are named (headers, fields) but not
/// looked for elsewhere: a four-letter test key would otherwise blank every word it spells.
const SHORTEST_TRACED: usize = 8;

/// The headers and fields to filter.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    /// Header names, in lower case, beyond [`ALWAYS`].
    pub(crate) headers: Vec<String>,
    /// Body fields: a name (that key at any depth) or a JSON pointer (`/metadata/user_id`); the
    /// names also filter query parameters.
    pub(crate) fields: Vec<String>,
}

/// One exchange as it came (before) or as it may be written (after [`Filter::exchange`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Exchange {
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) request_body: Vec<u8>,
    pub(crate) response_headers: Vec<(String, String)>,
    /// The whole body (empty for a stream).
    pub(crate) response_body: Vec<u8>,
    /// A stream's chunks with their times.
    pub(crate) chunks: Option<Vec<(f64, Vec<u8>)>>,
    pub(crate) cut: Option<String>,
}

/// The values found in named places, to scrub from everything else.
#[derive(Default)]
struct Secrets(Vec<Vec<u8>>);

impl Filter {
    fn filters_header(&self, name: &str) -> bool {
        ALWAYS.contains(&name) || self.headers.iter().any(|h| h == name)
    }

    /// The exchange with every named place blanked and every value found there scrubbed from
    /// the rest.
    pub(crate) fn exchange(&self, x: Exchange) -> Exchange {
        let mut secrets = Secrets::default();
        // First pass: the named places blanked, their values kept.
        let request_headers = self.headers(&x.request_headers, &mut secrets);
        let response_headers = self.headers(&x.response_headers, &mut secrets);
        let query = self.query(&x.query, &mut secrets);
        let request_body = self.body(&x.request_body, &mut secrets);
        let response_body = self.body(&x.response_body, &mut secrets);
        let events = x.chunks.as_ref().map(|chunks| {
            let all: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect();
            let filtered: Vec<(std::ops::Range<usize>, Vec<u8>)> = events(&all)
                .into_iter()
                .map(|range| {
                    let event = self.event(&all[range.clone()], &mut secrets);
                    (range, event)
                })
                .collect();
            (all, filtered)
        });
        // Second pass: every value kept scrubbed from everything.
        let scrub_pairs = |pairs: Vec<(String, String)>| -> Vec<(String, String)> {
            pairs
                .into_iter()
                .map(|(n, v)| (n, secrets.scrub_text(&v)))
                .collect()
        };
        let chunks = events.map(|(all, filtered)| {
            let filtered: Vec<(std::ops::Range<usize>, Vec<u8>)> = filtered
                .into_iter()
                .map(|(range, event)| (range, secrets.scrub(&event)))
                .collect();
            recut(x.chunks.as_deref().unwrap_or_default(), &all, &filtered)
        });
        Exchange {
            request_headers: scrub_pairs(request_headers),
            path: secrets.scrub_text(&x.path),
            query: secrets.scrub_text(&query),
            request_body: secrets.scrub(&request_body),
            response_headers: scrub_pairs(response_headers),
            response_body: secrets.scrub(&response_body),
            chunks,
            cut: x.cut.map(|c| secrets.scrub_text(&c)),
        }
    }

    /// Headers with the filtered ones' values replaced, each value kept (a bearer token also
    /// without its scheme, a cookie also by each of its values).
    fn headers(
        &self,
        headers: &[(String, String)],
        secrets: &mut Secrets,
    ) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                if !self.filters_header(name) {
                    return (name.clone(), value.clone());
                }
                secrets.keep(value);
                if let Some((_, token)) = value.split_once(' ') {
                    secrets.keep(token);
                }
                for part in value.split([';', ',']) {
                    if let Some((_, v)) = part.split_once('=') {
                        secrets.keep(v);
                    }
                }
                (name.clone(), FILTERED.to_string())
            })
            .collect()
    }

    /// A query string with the named parameters' values replaced (each kept).
    fn query(&self, query: &str, secrets: &mut Secrets) -> String {
        let named = |key: &str| self.fields.iter().any(|f| f == key);
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if named(k) => {
                    secrets.keep(v);
                    format!("{k}={FILTERED}")
                }
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A JSON value with the named fields' values replaced (each kept); `None` when it names
    /// none of them.
    fn json(&self, body: &Value, secrets: &mut Secrets) -> Option<Value> {
        if self.fields.is_empty() {
            return None;
        }
        let mut body = body.clone();
        let mut changed = false;
        for field in &self.fields {
            if field.starts_with('/') {
                if let Some(v) = body.pointer_mut(field) {
                    secrets.keep_value(v);
                    *v = Value::String(FILTERED.into());
                    changed = true;
                }
            } else {
                changed |= replace_named(&mut body, field, secrets);
            }
        }
        changed.then_some(body)
    }

    /// A body with the named fields replaced when it is JSON; as it came otherwise.
    fn body(&self, bytes: &[u8], secrets: &mut Secrets) -> Vec<u8> {
        match serde_json::from_slice::<Value>(bytes)
            .ok()
            .and_then(|v| self.json(&v, secrets))
        {
            Some(v) => v.to_string().into_bytes(),
            None => bytes.to_vec(),
        }
    }

    /// One event of a stream: each `data:` line that is JSON filtered as a body is.
    fn event(&self, bytes: &[u8], secrets: &mut Secrets) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bytes.to_vec();
        };
        if self.fields.is_empty() {
            return bytes.to_vec();
        }
        let lines: Vec<String> = text
            .split('\n')
            .map(|line| {
                let Some(data) = line.strip_prefix("data:") else {
                    return line.to_string();
                };
                let (data, cr) = match data.strip_suffix('\r') {
                    Some(d) => (d, "\r"),
                    None => (data, ""),
                };
                match serde_json::from_str::<Value>(data.trim())
                    .ok()
                    .and_then(|v| self.json(&v, secrets))
                {
                    Some(v) => format!("data: {v}{cr}"),
                    None => line.to_string(),
                }
            })
            .collect();
        lines.join("\n").into_bytes()
    }
}

/// The events of a stream's body, as byte ranges: each ends after its blank line (`\n\n` or
/// `\r\n\r\n`); what follows the last blank line is one more.
fn events(all: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < all.len() {
        let end = if all[i..].starts_with(b"\n\n") {
            Some(i + 2)
        } else if all[i..].starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else {
            None
        };
        match end {
            Some(end) => {
                out.push(start..end);
                start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if start < all.len() {
        out.push(start..all.len());
    }
    out
}

/// The chunks again, at their times, with each event that filtering changed written whole in
/// the chunk where it ended (and left out of those it began in): events unchanged keep every
/// chunk boundary as it came.
fn recut(
    chunks: &[(f64, Vec<u8>)],
    all: &[u8],
    events: &[(std::ops::Range<usize>, Vec<u8>)],
) -> Vec<(f64, Vec<u8>)> {
    let mut out = Vec::with_capacity(chunks.len());
    let mut start = 0;
    let mut e = 0;
    for (at, chunk) in chunks {
        let end = start + chunk.len();
        let mut piece = Vec::with_capacity(chunk.len());
        while e < events.len() && events[e].0.start < end {
            let (range, filtered) = &events[e];
            if filtered.as_slice() == &all[range.clone()] {
                piece.extend_from_slice(&all[range.start.max(start)..range.end.min(end)]);
            } else if range.end <= end {
                piece.extend_from_slice(filtered);
            }
            if range.end <= end {
                e += 1;
            } else {
                break;
            }
        }
        out.push((*at, piece));
        start = end;
    }
    out
}

/// Replaces the value of every `name` key under `value`; whether any was found.
fn replace_named(value: &mut Value, name: &str, secrets: &mut Secrets) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, v) in map.iter_mut() {
                if key == name {
                    secrets.keep_value(v);
                    *v = Value::String(FILTERED.into());
                    changed = true;
                } else {
                    changed |= replace_named(v, name, secrets);
                }
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| {
            replace_named(v, name, secrets) | changed
        }),
        _ => false,
    }
}

impl Secrets {
    fn keep(&mut self, secret: &str) {
        let secret = secret.trim().as_bytes();
        if secret.len() >= SHORTEST_TRACED
            && secret != FILTERED.as_bytes()
            && !self.0.iter().any(|s| s == secret)
        {
            self.0.push(secret.to_vec());
            // Longest first, so a token is scrubbed before a part of it could be.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// A value and every string and number inside it.
    fn keep_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.keep(s),
            Value::Number(n) => self.keep(&n.to_string()),
            Value::Null | Value::Bool(_) => {}
            Value::Array(items) => items.iter().for_each(|v| self.keep_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.keep_value(v)),
        }
    }

    /// `data` with every secret kept replaced.
    fn scrub(&self, data: &[u8]) -> Vec<u8> {
        let mut data = data.to_vec();
        for secret in &self.0 {
            let mut out = Vec::with_capacity(data.len());
            let mut i = 0;
            while i < data.len() {
                if data[i..].starts_with(secret) {
                    out.extend_from_slice(FILTERED.as_bytes());
                    i += secret.len();
                } else {
                    out.push(data[i]);
                    i += 1;
                }
            }
            data = out;
        }
        data
    }

    fn scrub_text(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.scrub(text.as_bytes())).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> Filter {
        Filter {
            headers: vec!["x-session".into()],
            fields: vec!["user".into(), "/metadata/user_id".into()],
        }
    }

    #[test]
    fn a_key_is_filtered_where_it_is_sent_and_wherever_it_comes_back() {
        let headers = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let x = Exchange {
            // A header that echoes the session before the one that names it.
            request_headers: headers(&[
                ("x-echo", "session-abcdefgh"),
                ("authorization", "Bearer sk-live-0123456789"),
                ("x-session", "session-abcdefgh"),
                ("cookie", "a=cookie-value-1; b=xy"),
                ("content-type", "application/json"),
            ]),
            path: "/v1/keys/sk-live-0123456789".into(),
            query: "user=abcdefghij&limit=5".into(),
            request_body: br#"{"user":"alice-in-chains","metadata":{"user_id":{"id":"u-000000001","n":123456789}},"n":1}"#.to_vec(),
            response_headers: headers(&[("set-cookie", "s=server-cookie-9; Path=/"), ("x-who", "alice-in-chains")]),
            response_body: br#"{"key":"sk-live-0123456789","who":"alice-in-chains","c":"cookie-value-1","u":"u-000000001"}"#.to_vec(),
            chunks: None,
            cut: Some("failed for url (http://x/?user=abcdefghij)".into()),
        };
        let out = filter().exchange(x);
        let written = format!("{out:?}");
        for secret in [
            "sk-live",
            "alice",
            "cookie-value",
            "session-abc",
            "server-cookie",
            "u-0000",
            "123456789",
            "abcdefghij",
        ] {
            assert!(!written.contains(secret), "{secret} in {written}");
        }
        assert_eq!(out.request_headers[4].1, "application/json");
        assert_eq!(out.query, "user=[filtered]&limit=5");
        let body: Value = serde_json::from_slice(&out.request_body).unwrap();
        assert_eq!(body["metadata"]["user_id"], FILTERED);
        assert_eq!(body["n"], 1);
    }

    #[test]
    fn a_stream_is_filtered_event_by_event_across_its_chunks() {
        // An event cut over three chunks, a secret cut over two, a character cut over two.
        let body = "data: {\"user\":\"someone-else\",\"x\":1}\n\ndata: {\"k\":\"sk-live-0123456789\"}\n\ndata: {\"t\":\"\u{e9}t\u{e9}\"}\n\n";
        let bytes = body.as_bytes();
        let cuts = [10, 20, 50, 55, 81, bytes.len()];
        let mut chunks = Vec::new();
        let mut start = 0;
        for (i, end) in cuts.into_iter().enumerate() {
            chunks.push((i as f64, bytes[start..end].to_vec()));
            start = end;
        }
        let x = Exchange {
            request_headers: vec![("authorization".into(), "Bearer sk-live-0123456789".into())],
            chunks: Some(chunks.clone()),
            ..Exchange::default()
        };
        let out = filter().exchange(x).chunks.unwrap();
        assert_eq!(out.len(), chunks.len());
        assert_eq!(
            out.iter().map(|c| c.0).collect::<Vec<_>>(),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        let joined: Vec<u8> = out.iter().flat_map(|c| c.1.clone()).collect();
        let joined = String::from_utf8(joined).unwrap();
        assert!(
            !joined.contains("someone") && !joined.contains("sk-live"),
            "{joined}"
        );
        assert!(
            joined.contains("data: {\"k\":\"[filtered]\"}\n\n"),
            "{joined}"
        );
        // The last event was not changed: its bytes are where they came, the cut character
        // too (its start ends chunk 4, after the filtered event that ended there).
        assert!(out[4].1.ends_with(&chunks[4].1[chunks[4].1.len() - 10..]));
        assert_eq!(out[5].1, chunks[5].1);
    }

    #[test]
    fn events_end_at_blank_lines_of_either_kind() {
        assert_eq!(events(b"a\n\nb\r\n\r\nc"), [0..3, 3..8, 8..9]);
        assert_eq!(events(b""), Vec::<std::ops::Range<usize>>::new());
    }
}

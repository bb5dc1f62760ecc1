//! What never reaches a cassette file: the headers that carry keys and cookies, the header and
//! body fields a caller names, and any trace of those values elsewhere in the exchange.

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

/// The secrets one exchange carried, found while filtering its request, to scrub from the rest.
#[derive(Default)]
pub(crate) struct Secrets(Vec<String>);

impl Filter {
    fn filters_header(&self, name: &str) -> bool {
        ALWAYS.contains(&name) || self.headers.iter().any(|h| h == name)
    }

    /// `headers` with the filtered ones' values replaced, each value kept in `secrets` (a
    /// bearer token also without its scheme, a cookie also by each of its values).
    pub(crate) fn headers(
        &self,
        headers: &[(String, String)],
        secrets: &mut Secrets,
    ) -> Vec<(String, String)> {
        // The secrets first, so that a header that echoes one before it is named is scrubbed.
        for (_, value) in headers.iter().filter(|(n, _)| self.filters_header(n)) {
            secrets.keep(value);
            if let Some((_, token)) = value.split_once(' ') {
                secrets.keep(token.trim());
            }
            for part in value.split(';') {
                if let Some((_, v)) = part.split_once('=') {
                    secrets.keep(v.trim());
                }
            }
        }
        headers
            .iter()
            .map(|(name, value)| {
                let value = if self.filters_header(name) {
                    FILTERED.to_string()
                } else {
                    secrets.scrub(value)
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// A query string with the named parameters' values replaced (kept in `secrets`).
    pub(crate) fn query(&self, query: &str, secrets: &mut Secrets) -> String {
        let named = |key: &str| self.fields.iter().any(|f| f == key);
        let filtered: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) if named(k) => {
                    secrets.keep(v);
                    format!("{k}={FILTERED}")
                }
                _ => pair.to_string(),
            })
            .collect();
        secrets.scrub(&filtered.join("&"))
    }

    /// A JSON body with the named fields' values replaced (each kept in `secrets`); `None`
    /// when it names none of them (so the body is kept as it came).
    pub(crate) fn json(&self, body: &Value, secrets: &mut Secrets) -> Option<Value> {
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

    /// A body's bytes with the named fields filtered (when it is JSON) and every secret found
    /// so far scrubbed (when it is text).
    pub(crate) fn body(&self, bytes: &[u8], secrets: &mut Secrets) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bytes.to_vec();
        };
        let text = match serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| self.json(&v, secrets))
        {
            Some(v) => v.to_string(),
            None => text.to_string(),
        };
        secrets.scrub(&text).into_bytes()
    }

    /// A chunk of an event stream: each `data:` line that is JSON filtered as a body is, and
    /// every secret scrubbed.
    pub(crate) fn chunk(&self, bytes: &[u8], secrets: &mut Secrets) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bytes.to_vec();
        };
        if self.fields.is_empty() {
            return secrets.scrub(text).into_bytes();
        }
        let lines: Vec<String> = text
            .split('\n')
            .map(|line| {
                let Some(data) = line.strip_prefix("data:") else {
                    return line.to_string();
                };
                let filtered = serde_json::from_str::<Value>(data.trim())
                    .ok()
                    .and_then(|v| self.json(&v, secrets));
                match filtered {
                    Some(v) => format!("data: {v}"),
                    None => line.to_string(),
                }
            })
            .collect();
        secrets.scrub(&lines.join("\n")).into_bytes()
    }
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
        let secret = secret.trim();
        if secret.len() >= SHORTEST_TRACED
            && secret != FILTERED
            && !self.0.iter().any(|s| s == secret)
        {
            self.0.push(secret.to_string());
            // Longest first, so a token is scrubbed before a part of it could be.
            self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    fn keep_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.keep(s),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            other => self.keep(&other.to_string()),
        }
    }

    /// `text` with every secret kept so far replaced.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret, FILTERED)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_filtered_where_it_is_sent_and_wherever_it_comes_back() {
        let filter = Filter {
            headers: vec!["x-session".into()],
            fields: vec!["user".into(), "/metadata/user_id".into()],
        };
        let mut secrets = Secrets::default();
        let headers = filter.headers(
            &[
                ("authorization".into(), "Bearer sk-live-0123456789".into()),
                ("x-session".into(), "session-abcdefgh".into()),
                ("cookie".into(), "a=cookie-value-1; b=xy".into()),
                ("content-type".into(), "application/json".into()),
            ],
            &mut secrets,
        );
        assert_eq!(headers[0].1, FILTERED);
        assert_eq!(headers[1].1, FILTERED);
        assert_eq!(headers[2].1, FILTERED);
        assert_eq!(headers[3].1, "application/json");
        let body = serde_json::json!({"user": "alice-in-chains", "metadata": {"user_id": "u-000000001"}, "n": 1});
        let filtered = filter.json(&body, &mut secrets).unwrap();
        assert_eq!(filtered["user"], FILTERED);
        assert_eq!(filtered["metadata"]["user_id"], FILTERED);
        assert_eq!(filtered["n"], 1);
        let echoed =
            br#"{"key":"sk-live-0123456789","who":"alice-in-chains","c":"cookie-value-1"}"#;
        let out = String::from_utf8(filter.body(echoed, &mut secrets)).unwrap();
        assert!(
            !out.contains("sk-live") && !out.contains("alice") && !out.contains("cookie-value"),
            "{out}"
        );
        let chunk = b"data: {\"user\":\"someone-else\",\"k\":\"sk-live-0123456789\"}\n\n";
        let out = String::from_utf8(filter.chunk(chunk, &mut secrets)).unwrap();
        assert_eq!(
            out,
            "data: {\"k\":\"[filtered]\",\"user\":\"[filtered]\"}\n\n"
        );
        assert_eq!(
            filter.query("user=abcdefghij&limit=5", &mut secrets),
            "user=[filtered]&limit=5"
        );
    }
}

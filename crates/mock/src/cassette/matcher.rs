//! Which recorded exchange answers a request: method, path, query and body, the body as
//! normalised JSON (keys in order, the ignored fields left out); and, for a request no cassette
//! holds, the closest one recorded and where the two differ.

use serde_json::Value;

/// Which fields the matcher leaves out: a name (that key at any depth, and that query
/// parameter) or a JSON pointer (`/metadata`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Matcher {
    pub(crate) ignore: Vec<String>,
}

/// A request as the matcher reads it.
pub(crate) struct Shape<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) body: Value,
}

impl Matcher {
    /// This matcher, also leaving out what `interactions` recorded as filtered (a body value
    /// or query parameter written `[filtered]`): a replay need not be told what the recording
    /// filtered.
    pub(crate) fn with_filtered<'a>(
        &self,
        interactions: impl IntoIterator<Item = &'a super::format::Interaction>,
    ) -> Matcher {
        let mut out = self.clone();
        for interaction in interactions {
            let request = &interaction.request;
            if let Some(body) = &request.body {
                filtered_at(&body.value(), &mut String::new(), &mut out.ignore);
            }
            for pair in request.query.split('&') {
                if let Some((k, super::filter::FILTERED)) = pair.split_once('=') {
                    out.ignore.push(k.to_string());
                }
            }
        }
        out.ignore.sort();
        out.ignore.dedup();
        out
    }

    /// The body without the ignored fields.
    pub(crate) fn normalise(&self, body: &Value) -> Value {
        let mut body = body.clone();
        for field in &self.ignore {
            if field.starts_with('/') {
                let (parent, last) = field.rsplit_once('/').unwrap_or(("", field));
                let last = last.replace("~1", "/").replace("~0", "~");
                match body.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < items.len() {
                                items[i] = Value::Null;
                            }
                        }
                    }
                    _ => {}
                }
            } else {
                remove_named(&mut body, field);
            }
        }
        body
    }

    /// The query's parameters in order, the ignored ones left out.
    fn query(&self, query: &str) -> Vec<String> {
        let mut pairs: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| {
                let key = p.split_once('=').map_or(*p, |(k, _)| k);
                !self.ignore.iter().any(|f| f == key)
            })
            .map(str::to_string)
            .collect();
        pairs.sort();
        pairs
    }

    /// The key two requests share exactly when they match.
    pub(crate) fn key(&self, shape: &Shape<'_>) -> String {
        let mut key = format!(
            "{} {}?{}\n",
            shape.method.to_ascii_uppercase(),
            shape.path,
            self.query(shape.query).join("&")
        );
        canonical(&self.normalise(&shape.body), &mut key);
        key
    }

    /// Where `recorded` and `sent` differ (at most `limit` places), each as
    /// `<where>: recorded <a>, sent <b>`; empty when they match.
    pub(crate) fn differences(
        &self,
        recorded: &Shape<'_>,
        sent: &Shape<'_>,
        limit: usize,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if !recorded.method.eq_ignore_ascii_case(sent.method) {
            out.push(format!(
                "method: recorded {}, sent {}",
                recorded.method, sent.method
            ));
        }
        if recorded.path != sent.path {
            out.push(format!(
                "path: recorded {}, sent {}",
                recorded.path, sent.path
            ));
        }
        let (a, b) = (self.query(recorded.query), self.query(sent.query));
        if a != b {
            out.push(format!(
                "query: recorded {:?}, sent {:?}",
                a.join("&"),
                b.join("&")
            ));
        }
        diff(
            &self.normalise(&recorded.body),
            &self.normalise(&sent.body),
            &mut String::new(),
            &mut out,
        );
        out.truncate(limit.max(1));
        out
    }
}

/// The JSON pointers of every `[filtered]` string in `value`.
fn filtered_at(value: &Value, at: &mut String, out: &mut Vec<String>) {
    let mut enter = |key: &str, v: &Value, at: &mut String| {
        let len = at.len();
        at.push('/');
        at.push_str(&key.replace('~', "~0").replace('/', "~1"));
        filtered_at(v, at, out);
        at.truncate(len);
    };
    match value {
        Value::String(s) if s == super::filter::FILTERED => out.push(at.clone()),
        Value::Object(map) => map.iter().for_each(|(k, v)| enter(k, v, at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| enter(&i.to_string(), v, at)),
        _ => {}
    }
}

/// A body as both sides of a match read it: an empty text is no body (`null`), as a cassette
/// writes none.
pub(crate) fn no_empty(body: Value) -> Value {
    match body {
        Value::String(s) if s.is_empty() => Value::Null,
        body => body,
    }
}

fn remove_named(value: &mut Value, name: &str) {
    match value {
        Value::Object(map) => {
            map.remove(name);
            map.values_mut().for_each(|v| remove_named(v, name));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| remove_named(v, name)),
        _ => {}
    }
}

/// JSON with every object's keys in order, whatever map the JSON library keeps.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The places (JSON pointers) where `a` and `b` differ.
fn diff(a: &Value, b: &Value, at: &mut String, out: &mut Vec<String>) {
    // One member on each side (or a side without it), under `segment`.
    let mut step = |segment: &str, p: Option<&Value>, q: Option<&Value>, at: &mut String| {
        let len = at.len();
        at.push('/');
        at.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        match (p, q) {
            (Some(p), Some(q)) => diff(p, q, at, out),
            (p, q) => out.push(difference(at, p, q)),
        }
        at.truncate(len);
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                step(key, x.get(key), y.get(key), at);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                step(&i.to_string(), x.get(i), y.get(i), at);
            }
        }
        (x, y) if x != y => out.push(difference(at, Some(x), Some(y))),
        _ => {}
    }
}

/// `body <where>: recorded <a>, sent <b>`, each value cut at 80 characters.
fn difference(at: &str, recorded: Option<&Value>, sent: Option<&Value>) -> String {
    const SHOWN: usize = 80;
    let show = |v: Option<&Value>| match v {
        None => "nothing".to_string(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > SHOWN {
                format!("{}...", text.chars().take(SHOWN).collect::<String>())
            } else {
                text
            }
        }
    };
    let place = if at.is_empty() {
        "body".to_string()
    } else {
        format!("body {at}")
    };
    format!("{place}: recorded {}, sent {}", show(recorded), show(sent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shape(body: Value) -> Shape<'static> {
        Shape {
            method: "POST",
            path: "/v1/messages",
            query: "",
            body,
        }
    }

    #[test]
    fn bodies_match_whatever_their_key_order_and_ignored_fields() {
        let m = Matcher {
            ignore: vec!["metadata".into(), "/messages/0/id".into()],
        };
        let a = shape(
            json!({"model": "m", "metadata": {"user_id": "1"}, "messages": [{"id": 1, "content": "Hi"}]}),
        );
        let b = shape(
            json!({"messages": [{"content": "Hi", "id": 2}], "model": "m", "metadata": {"user_id": "2"}}),
        );
        assert_eq!(m.key(&a), m.key(&b));
        assert!(m.differences(&a, &b, 10).is_empty());
        let c = shape(json!({"messages": [{"content": "Hello"}], "model": "m"}));
        assert_ne!(m.key(&a), m.key(&c));
        assert_eq!(
            m.differences(&a, &c, 10),
            ["body /messages/0/content: recorded \"Hi\", sent \"Hello\""]
        );
    }

    #[test]
    fn queries_match_in_any_order() {
        let m = Matcher::default();
        let a = Shape {
            method: "GET",
            path: "/v1/batches",
            query: "b=2&a=1",
            body: Value::Null,
        };
        let b = Shape {
            method: "get",
            path: "/v1/batches",
            query: "a=1&b=2",
            body: Value::Null,
        };
        assert_eq!(m.key(&a), m.key(&b));
    }
}

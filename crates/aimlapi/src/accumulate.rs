//! Folding stream chunks into the final completion.

use std::collections::BTreeMap;

use aimlapi_types as types;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::error::Error;

/// A stream chunk type: what the [`Accumulator`] reads from it.
pub trait StreamChunk: DeserializeOwned + Send + 'static {
    /// The completion type the chunks fold into.
    type Completion: DeserializeOwned + Send + 'static;

    /// Folds this chunk into `acc`.
    fn fold_into(&self, acc: &mut Accumulator);

    /// An error the server reported inside the stream (OpenRouter's `error` chunk): code, message.
    fn stream_error(&self) -> Option<(Option<String>, String)>;

    /// Whether any choice of this chunk carries a finish reason.
    fn has_finish_reason(&self) -> bool;

    /// The text delta of the choice with the lowest index, if it has one.
    fn first_text(&self) -> Option<&str>;
}

#[derive(Clone, Debug, Default)]
struct ToolCallSoFar {
    id: Option<String>,
    kind: Option<String>,
    name: String,
    arguments: String,
}

/// One piece of structured reasoning (`reasoning_details`), its deltas merged.
#[derive(Clone, Debug, Default)]
struct DetailSoFar {
    index: Option<i64>,
    kind: Option<String>,
    id: Option<String>,
    format: Option<String>,
    text: Option<String>,
    summary: Option<String>,
    data: Option<String>,
    signature: Option<String>,
}

/// Appends `piece` to `slot` (creating it).
fn append(slot: &mut Option<String>, piece: Option<&str>) {
    if let Some(piece) = piece {
        slot.get_or_insert_with(String::new).push_str(piece);
    }
}

impl DetailSoFar {
    fn merge(&mut self, d: &types::ReasoningDetail) {
        if self.index.is_none() {
            self.index = d.index;
        }
        for (slot, value) in [
            (&mut self.kind, &d.type_),
            (&mut self.id, &d.id),
            (&mut self.format, &d.format),
        ] {
            if slot.is_none() {
                slot.clone_from(value);
            }
        }
        append(&mut self.text, d.text.as_deref());
        append(&mut self.summary, d.summary.as_deref());
        append(&mut self.data, d.data.as_deref());
        append(&mut self.signature, d.signature.as_deref());
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (key, value) in [
            ("type", &self.kind),
            ("id", &self.id),
            ("format", &self.format),
            ("text", &self.text),
            ("summary", &self.summary),
            ("data", &self.data),
            ("signature", &self.signature),
        ] {
            if let Some(v) = value {
                m.insert(key.into(), json!(v));
            }
        }
        if let Some(i) = self.index {
            m.insert("index".into(), json!(i));
        }
        Value::Object(m)
    }
}

/// The reasoning text of `details`: the text and summary pieces, joined (encrypted pieces have
/// none).
fn details_text(details: &[types::ReasoningDetail]) -> Option<String> {
    let pieces: Vec<&str> = details
        .iter()
        .filter_map(|d| d.text.as_deref().or(d.summary.as_deref()))
        .collect();
    (!pieces.is_empty()).then(|| pieces.concat())
}

/// The reasoning of a message or a delta: `reasoning_content`, else OpenRouter's `reasoning`,
/// else the text of `reasoning_details` (an empty field counts as absent).
pub(crate) fn reasoning_text<'a>(
    content: Option<&'a str>,
    reasoning: Option<&'a str>,
    details: Option<&[types::ReasoningDetail]>,
) -> Option<std::borrow::Cow<'a, str>> {
    let given = |s: Option<&'a str>| s.filter(|s| !s.is_empty());
    match given(content).or(given(reasoning)) {
        Some(r) => Some(std::borrow::Cow::Borrowed(r)),
        None => details
            .and_then(details_text)
            .filter(|t| !t.is_empty())
            .map(std::borrow::Cow::Owned),
    }
}

#[derive(Clone, Debug, Default)]
struct ChoiceSoFar {
    role: Option<String>,
    content: String,
    reasoning: String,
    details: Vec<DetailSoFar>,
    refusal: String,
    tool_calls: BTreeMap<i64, ToolCallSoFar>,
    finish_reason: Option<String>,
}

/// Folds chunks into one completion: text, reasoning (`reasoning_content`, `reasoning`, or the
/// text of `reasoning_details`, whose pieces are merged by index), refusal, tool calls merged by index
/// (arguments concatenated; id, type and name from whichever chunk carries them), the raw finish
/// reason (`end_turn` stays `end_turn`), and usage from whichever chunk carries it.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    id: Option<String>,
    model: Option<String>,
    created: Option<i64>,
    choices: BTreeMap<i64, ChoiceSoFar>,
    usage: Option<Value>,
    /// The last `meta` a chunk carried (the AI/ML API's cost, in the final chunk).
    meta: Option<Value>,
}

/// Merges `new` into `old`: numbers keep the larger, objects merge field by field, anything
/// else non-null replaces.
fn merge_usage(old: &mut Value, new: Value) {
    match (old, new) {
        (_, Value::Null) => {}
        (Value::Object(old), Value::Object(new)) => {
            for (key, value) in new {
                match old.get_mut(&key) {
                    Some(slot) if !slot.is_null() => merge_usage(slot, value),
                    _ if value.is_null() => {}
                    _ => {
                        old.insert(key, value);
                    }
                }
            }
        }
        (old @ Value::Number(_), new @ Value::Number(_)) => {
            if new.as_f64() > old.as_f64() {
                *old = new;
            }
        }
        (old, new) => *old = new,
    }
}

/// The usage of a folded stream: the merged counts, with `total_tokens` at least the sum of the
/// prompt and completion counts (chunks of the old format each report a part of the total).
fn folded_usage(usage: &Value) -> Value {
    let mut usage = usage.clone();
    if let Value::Object(u) = &mut usage {
        let n = |k: &str| u.get(k).and_then(Value::as_u64);
        if let (Some(p), Some(c)) = (n("prompt_tokens"), n("completion_tokens")) {
            let sum = p.saturating_add(c);
            if n("total_tokens").is_none_or(|t| t < sum) {
                u.insert("total_tokens".into(), sum.into());
            }
        }
    }
    usage
}

/// The text of a JSON-serializable value (open enums serialize to their string).
fn as_text<T: serde::Serialize>(v: &T) -> Option<String> {
    match serde_json::to_value(v).ok()? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one chunk in.
    pub fn push<C: StreamChunk>(&mut self, chunk: &C) {
        chunk.fold_into(self);
    }

    /// The first choice's text so far.
    pub fn text(&self) -> &str {
        self.choices
            .values()
            .next()
            .map_or("", |c| c.content.as_str())
    }

    /// Whether any choice has a finish reason yet.
    pub fn is_finished(&self) -> bool {
        self.choices.values().any(|c| c.finish_reason.is_some())
    }

    /// The first choice's finish reason, as the server sent it.
    pub fn finish_reason(&self) -> Option<&str> {
        self.choices.values().next()?.finish_reason.as_deref()
    }

    fn header(&mut self, id: Option<&String>, model: Option<&String>, created: Option<i64>) {
        // Chunks after the first have an empty id: keep the first real one.
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            self.id.get_or_insert_with(|| id.clone());
        }
        if let Some(m) = model {
            self.model.get_or_insert_with(|| m.clone());
        }
        if let Some(c) = created {
            self.created.get_or_insert(c);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn delta(
        &mut self,
        index: i64,
        role: Option<String>,
        content: Option<&str>,
        reasoning: Option<std::borrow::Cow<'_, str>>,
        details: &[types::ReasoningDetail],
        refusal: Option<&str>,
        tool_calls: Option<&[types::DeltaToolCall]>,
        finish_reason: Option<String>,
    ) {
        let c = self.choices.entry(index).or_default();
        if role.is_some() {
            c.role = role;
        }
        c.content.push_str(content.unwrap_or(""));
        if let Some(r) = reasoning {
            c.reasoning.push_str(&r);
        }
        for d in details {
            // A piece continues the one with its index; one without an index, the last piece
            // of its type.
            let same = match d.index {
                Some(i) => c.details.iter().rposition(|s| s.index == Some(i)),
                None => c
                    .details
                    .len()
                    .checked_sub(1)
                    .filter(|&last| c.details[last].kind == d.type_),
            };
            match same {
                Some(at) => c.details[at].merge(d),
                None => {
                    let mut piece = DetailSoFar::default();
                    piece.merge(d);
                    c.details.push(piece);
                }
            }
        }
        c.refusal.push_str(refusal.unwrap_or(""));
        for call in tool_calls.unwrap_or(&[]) {
            let t = c.tool_calls.entry(call.index).or_default();
            if let Some(id) = call.id.as_ref().filter(|i| !i.is_empty()) {
                t.id = Some(id.clone());
            }
            if let Some(kind) = call.type_.as_ref().and_then(as_text) {
                t.kind = Some(kind);
            }
            if let Some(f) = &call.function {
                t.name.push_str(f.name.as_deref().unwrap_or(""));
                t.arguments.push_str(f.arguments.as_deref().unwrap_or(""));
            }
        }
        if finish_reason.is_some() {
            c.finish_reason = finish_reason;
        }
    }

    /// Merges a chunk's usage in: each count keeps the largest value any chunk reported.
    ///
    /// Why the largest and not the last: in every format the counts of a stream only grow (they
    /// are running totals), so the largest is the final one; and in the format used before
    /// 2026-02-13 most chunks report zeros and the chunk with the final `output_tokens` may report
    /// `input_tokens: 0`, so a last-wins rule would lose the prompt count. Fields that are not
    /// numbers (and nested objects' fields, by the same rule) take the last non-null value.
    fn usage(&mut self, usage: Option<Value>) {
        let Some(new) = usage.filter(|u| !u.is_null()) else {
            return;
        };
        match &mut self.usage {
            Some(old) => merge_usage(old, new),
            none => *none = Some(new),
        }
    }

    /// The completion as JSON, in the shape of a non-streaming response.
    pub fn to_json(&self) -> Value {
        let choices: Vec<Value> = self
            .choices
            .iter()
            .map(|(index, c)| {
                let mut message = Map::new();
                message.insert("role".into(), json!(c.role.clone().unwrap_or_else(|| "assistant".into())));
                message.insert("content".into(), json!(c.content));
                if !c.reasoning.is_empty() {
                    message.insert("reasoning_content".into(), json!(c.reasoning));
                    message.insert("reasoning".into(), json!(c.reasoning));
                }
                if !c.details.is_empty() {
                    let details = c.details.iter().map(DetailSoFar::to_json).collect();
                    message.insert("reasoning_details".into(), Value::Array(details));
                }
                if !c.refusal.is_empty() {
                    message.insert("refusal".into(), json!(c.refusal));
                }
                if !c.tool_calls.is_empty() {
                    let calls: Vec<Value> = c
                        .tool_calls
                        .values()
                        .map(|t| {
                            json!({"id": t.id, "type": t.kind.clone().unwrap_or_else(|| "function".into()),
                                   "function": {"name": t.name, "arguments": t.arguments}})
                        })
                        .collect();
                    message.insert("tool_calls".into(), Value::Array(calls));
                }
                json!({"index": index, "message": message, "finish_reason": c.finish_reason})
            })
            .collect();
        json!({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": choices, "usage": self.usage.as_ref().map(folded_usage),
            "meta": self.meta,
        })
    }

    /// The final completion, typed.
    pub fn finish<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let json = self.to_json();
        serde_json::from_value(json.clone()).map_err(|e| Error::Decode {
            message: e.to_string(),
            body: json.to_string(),
        })
    }
}

macro_rules! stream_chunk {
    ($chunk:ty, $completion:ty, |$c:ident| $error:expr) => {
        impl StreamChunk for $chunk {
            type Completion = $completion;

            fn fold_into(&self, acc: &mut Accumulator) {
                acc.header(self.id.as_ref(), self.model.as_ref(), self.created);
                for choice in &self.choices {
                    let d = choice.delta.as_ref();
                    acc.delta(
                        choice.index,
                        d.and_then(|d| d.role.as_ref()).and_then(as_text),
                        d.and_then(|d| d.content.as_deref()),
                        d.and_then(|d| {
                            reasoning_text(
                                d.reasoning_content.as_deref(),
                                d.reasoning.as_deref(),
                                d.reasoning_details.as_deref(),
                            )
                        }),
                        d.and_then(|d| d.reasoning_details.as_deref())
                            .unwrap_or_default(),
                        d.and_then(|d| d.refusal.as_deref()),
                        d.and_then(|d| d.tool_calls.as_deref()),
                        choice.finish_reason.as_ref().and_then(as_text),
                    );
                }
                acc.usage(
                    self.usage
                        .as_ref()
                        .and_then(|u| serde_json::to_value(u).ok()),
                );
                if let Some(meta) = self
                    .meta
                    .as_ref()
                    .and_then(|m| serde_json::to_value(m).ok())
                {
                    acc.meta = Some(meta);
                }
            }

            #[inline]
            fn stream_error(&self) -> Option<(Option<String>, String)> {
                let $c = self;
                $error
            }

            #[inline]
            fn has_finish_reason(&self) -> bool {
                self.choices.iter().any(|c| c.finish_reason.is_some())
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
    };
}

stream_chunk!(types::ChatCompletionChunk, types::ChatCompletion, |c| {
    let e = c.error.as_ref()?;
    let code = e
        .code
        .as_ref()
        .and_then(|code| match serde_json::to_value(code).ok()? {
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        });
    Some((code, e.message.clone().unwrap_or_default()))
});

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

    fn chunk(v: Value) -> types::ChatCompletionChunk {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn tool_calls_merge_by_index_and_the_raw_finish_reason_stays() {
        let mut acc = Accumulator::new();
        let parts = [
            json!({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}}]}),
            json!({"id": "", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}}]}),
            json!({"id": "", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}}]}),
            json!({"id": "", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}}]}),
            json!({"id": "", "choices": [{"index": 0, "finish_reason": "end_turn"}], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}),
        ];
        for p in parts {
            acc.push(&chunk(p));
        }
        let done: types::ChatCompletion = acc.finish().unwrap();
        let v = serde_json::to_value(&done).unwrap();
        assert_eq!(v["id"], "c1");
        assert_eq!(v["choices"][0]["finish_reason"], "end_turn");
        assert_eq!(
            v["choices"][0]["message"]["tool_calls"][0],
            json!({"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}})
        );
        assert_eq!(
            v["choices"][0]["message"]["tool_calls"][1]["function"]["name"],
            "get_time"
        );
        assert_eq!(v["usage"]["total_tokens"], 12);
    }

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

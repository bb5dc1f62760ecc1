//! [`Accumulator`]: chat-completion chunks folded, typed into typed, into the completion a
//! non-streaming call would have returned.

use crate::indexed::Indexed;

use aimlapi_types as types;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde_json::{Map, Value};

use crate::completion::reasoning_text;
use crate::completions::decode::StreamChunk;
use crate::error::Error;
use crate::streaming::merge::{last, merge_fields, merge_value, Numbers};
use crate::streaming::Fold;

/// The text of an open enum (each serializes to its string).
pub(crate) fn as_text<T: serde::Serialize>(v: &T) -> Option<String> {
    match serde_json::to_value(v).ok()? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The open enum of the completion that `text` spells (the chunk's and the completion's enums
/// are types of their own that read the same strings).
fn recast<T: DeserializeOwned>(text: String) -> Option<T> {
    T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
}

/// Appends `piece` to `slot` (creating it).
fn append(slot: &mut Option<String>, piece: &Option<String>) {
    if let Some(piece) = piece {
        slot.get_or_insert_with(String::new).push_str(piece);
    }
}

#[derive(Clone, Debug, Default)]
struct ToolCallSoFar {
    id: Option<String>,
    kind: Option<String>,
    name: String,
    arguments: String,
    /// What the call's deltas carried beyond the fields named here.
    extra: Map<String, Value>,
    /// What its `function` objects carried beyond `name` and `arguments`.
    function_extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default)]
struct ChoiceSoFar {
    role: Option<String>,
    content: String,
    reasoning: String,
    details: Vec<types::ReasoningDetail>,
    refusal: String,
    tool_calls: Indexed<i64, ToolCallSoFar>,
    finish_reason: Option<String>,
    native_finish_reason: Option<String>,
    logprobs: Option<types::Logprobs>,
    /// What the choices carried beyond the fields named here.
    extra: Map<String, Value>,
    /// What the deltas carried beyond the fields named here: the message's.
    message_extra: Map<String, Value>,
}

/// Folds chunks, in order, into one completion: text, reasoning (`reasoning_content`,
/// `reasoning`, or the text of `reasoning_details`, whose pieces are merged by index), refusal,
/// tool calls merged by index (arguments concatenated; id, type and name from whichever chunk
/// carries them), the raw finish reason (`end_turn` stays `end_turn`), log probabilities
/// concatenated, usage from every chunk that carries it (each count the largest reported), and
/// every field the chunks carry that is not named here, at its level (scalars: the last value;
/// objects: merged).
///
/// ```
/// use aimlapi::sse::{Accumulator, Fold};
/// use aimlapi::types::ChatCompletionChunk;
///
/// let chunks = [
///     r#"{"id":"c1","provider":"Anthropic","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"id":"","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
/// ];
/// let mut fold = Accumulator::new();
/// for c in chunks {
///     fold.push(&serde_json::from_str::<ChatCompletionChunk>(c).unwrap())?;
/// }
/// let done = fold.finish()?;
/// assert_eq!(done.choices[0].message.as_ref().unwrap().content.as_deref(), Some("Hello"));
/// assert_eq!(done.provider.as_deref(), Some("Anthropic"));
/// # Ok::<(), aimlapi::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    id: Option<String>,
    model: Option<String>,
    created: Option<i64>,
    provider: Option<String>,
    system_fingerprint: Option<String>,
    choices: Indexed<i64, ChoiceSoFar>,
    /// Boxed: it comes once, at the end, and inline it was over half the fold (360 bytes
    /// that every open stream held).
    usage: Option<Box<types::CompletionUsage>>,
    /// The AI/ML API's cost, in the final chunk.
    meta: Option<types::Meta>,
    /// What the chunks carried beyond the fields named here (`service_tier` among them: the
    /// completion type does not name it).
    extra: Map<String, Value>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first choice's text so far.
    pub fn text(&self) -> &str {
        self.choices
            .values()
            .next()
            .map_or("", |c| c.content.as_str())
    }

    /// Whether the first choice has a tool call yet.
    pub(crate) fn has_tool_calls(&self) -> bool {
        self.choices
            .values()
            .next()
            .is_some_and(|c| !c.tool_calls.is_empty())
    }

    /// Whether any choice has a finish reason yet.
    pub fn is_finished(&self) -> bool {
        self.choices.values().any(|c| c.finish_reason.is_some())
    }

    /// The first choice's tool call `index` so far: its arguments as parsed JSON, read from the
    /// text that has arrived ([`parse_partial_json`](crate::chat::parse_partial_json): a prefix
    /// is never an error; `{}` before any of it); `None` before the call's first piece.
    pub fn tool_input(&self, index: u32) -> Option<Value> {
        let call = self
            .choices
            .values()
            .next()?
            .tool_calls
            .get(&i64::from(index))?;
        Some(crate::partial_json::tool_input_so_far(&call.arguments))
    }

    /// The first choice's finish reason, as the server sent it.
    pub fn finish_reason(&self) -> Option<&str> {
        self.choices.values().next()?.finish_reason.as_deref()
    }

    fn choice(&mut self, choice: &types::ChunkChoice) {
        let types::ChunkChoice {
            delta,
            finish_reason,
            index,
            logprobs,
            native_finish_reason,
            extra,
        } = choice;
        let c = self.choices.entry_or_default(*index);
        if let Some(delta) = delta {
            c.delta(delta);
        }
        if let Some(reason) = finish_reason.as_ref().and_then(as_text) {
            c.finish_reason = Some(reason);
        }
        last(&mut c.native_finish_reason, native_finish_reason);
        if let Some(new) = logprobs {
            match &mut c.logprobs {
                None => c.logprobs = Some(new.clone()),
                Some(old) => {
                    let types::Logprobs {
                        content,
                        refusal,
                        extra,
                    } = new;
                    for (slot, more) in [(&mut old.content, content), (&mut old.refusal, refusal)] {
                        if let Some(more) = more {
                            slot.get_or_insert_with(Vec::new)
                                .extend(more.iter().cloned());
                        }
                    }
                    merge_fields(&mut old.extra, extra, Numbers::Last);
                }
            }
        }
        merge_fields(&mut c.extra, extra, Numbers::Last);
    }

    /// Merges a chunk's usage in: each count keeps the largest value any chunk reported.
    ///
    /// Why the largest and not the last: in every format the counts of a stream only grow (they
    /// are running totals), so the largest is the final one; and in the format used before
    /// 2026-02-13 most chunks report zeros and the chunk with the final `output_tokens` may report
    /// `input_tokens: 0`, so a last-wins rule would lose the prompt count. Fields that are not
    /// numbers (and nested objects' fields, by the same rule) take the last non-null value.
    fn usage(&mut self, new: &types::CompletionUsage) {
        let Some(old) = &mut self.usage else {
            self.usage = Some(Box::new(new.clone()));
            return;
        };
        let types::CompletionUsage {
            cache_creation_input_tokens,
            cache_read_input_tokens,
            completion_tokens,
            completion_tokens_details,
            cost,
            cost_details,
            is_byok,
            prompt_tokens,
            prompt_tokens_details,
            total_tokens,
            extra,
        } = new;
        for (slot, n) in [
            (
                &mut old.cache_creation_input_tokens,
                cache_creation_input_tokens,
            ),
            (&mut old.cache_read_input_tokens, cache_read_input_tokens),
            (&mut old.completion_tokens, completion_tokens),
            (&mut old.prompt_tokens, prompt_tokens),
            (&mut old.total_tokens, total_tokens),
        ] {
            largest(slot, n);
        }
        if cost.is_some_and(|c| old.cost.is_none_or(|o| c > o)) {
            old.cost = *cost;
        }
        last(&mut old.is_byok, is_byok);
        if let Some(d) = completion_tokens_details {
            let old = old
                .completion_tokens_details
                .get_or_insert_with(|| d.clone());
            for (slot, n) in [
                (
                    &mut old.accepted_prediction_tokens,
                    &d.accepted_prediction_tokens,
                ),
                (&mut old.audio_tokens, &d.audio_tokens),
                (&mut old.image_tokens, &d.image_tokens),
                (&mut old.reasoning_tokens, &d.reasoning_tokens),
                (
                    &mut old.rejected_prediction_tokens,
                    &d.rejected_prediction_tokens,
                ),
            ] {
                largest(slot, n);
            }
            merge_fields(&mut old.extra, &d.extra, Numbers::Largest);
        }
        if let Some(d) = prompt_tokens_details {
            let old = old.prompt_tokens_details.get_or_insert_with(|| d.clone());
            for (slot, n) in [
                (&mut old.audio_tokens, &d.audio_tokens),
                (&mut old.cache_write_tokens, &d.cache_write_tokens),
                (&mut old.cached_tokens, &d.cached_tokens),
                (&mut old.video_tokens, &d.video_tokens),
            ] {
                largest(slot, n);
            }
            merge_fields(&mut old.extra, &d.extra, Numbers::Largest);
        }
        if let Some(d) = cost_details {
            let old = old.cost_details.get_or_insert_with(|| d.clone());
            if d.upstream_inference_cost
                .is_some_and(|c| old.upstream_inference_cost.is_none_or(|o| c > o))
            {
                old.upstream_inference_cost = d.upstream_inference_cost;
            }
            merge_fields(&mut old.extra, &d.extra, Numbers::Largest);
        }
        merge_fields(&mut old.extra, extra, Numbers::Largest);
    }

    fn meta(&mut self, new: &types::Meta) {
        match &mut self.meta {
            None => self.meta = Some(new.clone()),
            Some(old) => {
                last(&mut old.usage, &new.usage);
                merge_fields(&mut old.extra, &new.extra, Numbers::Last);
            }
        }
    }
}

/// The larger of `slot` and `n`.
fn largest(slot: &mut Option<i64>, n: &Option<i64>) {
    if let Some(n) = *n {
        if slot.is_none_or(|o| n > o) {
            *slot = Some(n);
        }
    }
}

impl ChoiceSoFar {
    fn delta(&mut self, delta: &types::Delta) {
        let types::Delta {
            content,
            reasoning,
            reasoning_content,
            reasoning_details,
            refusal,
            role,
            tool_calls,
            extra,
        } = delta;
        if let Some(role) = role.as_ref().and_then(as_text) {
            self.role = Some(role);
        }
        self.content.push_str(content.as_deref().unwrap_or(""));
        if let Some(r) = reasoning_text(
            reasoning_content.as_deref(),
            reasoning.as_deref(),
            reasoning_details.as_deref(),
        ) {
            self.reasoning.push_str(&r);
        }
        for d in reasoning_details.iter().flatten() {
            self.detail(d);
        }
        self.refusal.push_str(refusal.as_deref().unwrap_or(""));
        for call in tool_calls.iter().flatten() {
            self.tool_call(call);
        }
        merge_fields(&mut self.message_extra, extra, Numbers::Last);
    }

    /// A piece of `reasoning_details`: it continues the one with its index; one without an
    /// index, the last piece of its type.
    fn detail(&mut self, d: &types::ReasoningDetail) {
        let same = match d.index {
            Some(i) => self.details.iter().rposition(|s| s.index == Some(i)),
            None => self
                .details
                .len()
                .checked_sub(1)
                .filter(|&last| self.details[last].type_ == d.type_),
        };
        let Some(at) = same else {
            self.details.push(d.clone());
            return;
        };
        let old = &mut self.details[at];
        let types::ReasoningDetail {
            data,
            format,
            id,
            index,
            signature,
            summary,
            text,
            type_,
            extra,
        } = d;
        for (slot, value) in [
            (&mut old.type_, type_),
            (&mut old.id, id),
            (&mut old.format, format),
        ] {
            if slot.is_none() {
                slot.clone_from(value);
            }
        }
        if old.index.is_none() {
            old.index = *index;
        }
        append(&mut old.text, text);
        append(&mut old.summary, summary);
        append(&mut old.data, data);
        append(&mut old.signature, signature);
        merge_fields(&mut old.extra, extra, Numbers::Last);
    }

    fn tool_call(&mut self, call: &types::DeltaToolCall) {
        let types::DeltaToolCall {
            function,
            id,
            index,
            type_,
            extra,
        } = call;
        let t = self.tool_calls.entry_or_default(*index);
        if let Some(id) = id.as_ref().filter(|i| !i.is_empty()) {
            t.id = Some(id.clone());
        }
        if let Some(kind) = type_.as_ref().and_then(as_text) {
            t.kind = Some(kind);
        }
        if let Some(types::ChoiceMessageFunctionToolCallFunction {
            arguments,
            name,
            extra,
        }) = function
        {
            t.name.push_str(name.as_deref().unwrap_or(""));
            t.arguments.push_str(arguments.as_deref().unwrap_or(""));
            merge_fields(&mut t.function_extra, extra, Numbers::Last);
        }
        merge_fields(&mut t.extra, extra, Numbers::Last);
    }

    fn into_choice(self, index: i64) -> types::Choice {
        let given = |s: String| (!s.is_empty()).then_some(s);
        let reasoning = given(self.reasoning);
        let tool_calls: Vec<types::ToolCall> = self
            .tool_calls
            .into_values()
            .map(|t| {
                let mut extra = t.extra;
                if let Some(kind) = t.kind.filter(|k| k != "function") {
                    // A kind the completion type does not name: kept as it came.
                    extra.insert("type".into(), Value::String(kind));
                }
                types::ToolCall::ChoiceMessageFunctionToolCall(
                    types::ChoiceMessageFunctionToolCall {
                        function: Some(types::ChoiceMessageFunctionToolCallFunction {
                            arguments: Some(t.arguments),
                            name: Some(t.name),
                            extra: t.function_extra,
                        }),
                        id: t.id,
                        type_: types::FunctionMessageRole::Function,
                        extra,
                    },
                )
            })
            .collect();
        types::Choice {
            finish_reason: self.finish_reason.and_then(recast),
            index,
            logprobs: self.logprobs,
            message: Some(types::ChoiceMessage {
                annotations: None,
                audio: None,
                content: Some(self.content),
                reasoning: reasoning.clone(),
                reasoning_content: reasoning,
                reasoning_details: (!self.details.is_empty()).then_some(self.details),
                refusal: given(self.refusal),
                role: Some(self.role.unwrap_or_else(|| "assistant".into())),
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                extra: self.message_extra,
            }),
            native_finish_reason: self.native_finish_reason,
            extra: self.extra,
        }
    }
}

/// The usage of a folded stream: the merged counts, with `total_tokens` at least the sum of the
/// prompt and completion counts (chunks of the old format each report a part of the total).
fn folded_usage(mut u: types::CompletionUsage) -> types::CompletionUsage {
    if let (Some(p), Some(c)) = (u.prompt_tokens, u.completion_tokens) {
        let sum = p.max(0).saturating_add(c.max(0));
        if u.total_tokens.is_none_or(|t| t < sum) {
            u.total_tokens = Some(sum);
        }
    }
    u
}

impl Fold for Accumulator {
    type Event = types::ChatCompletionChunk;
    type Output = types::ChatCompletion;

    /// Folds one chunk in; an error chunk (OpenRouter's) is [`Error::Stream`].
    fn push(&mut self, chunk: &types::ChatCompletionChunk) -> Result<(), Error> {
        if let Some((code, message)) = chunk.stream_error() {
            return Err(Error::Stream { code, message });
        }
        let types::ChatCompletionChunk {
            choices,
            created,
            error: _,
            id,
            meta,
            model,
            // `chat.completion.chunk`: the completion is a `chat.completion`.
            object: _,
            provider,
            service_tier,
            system_fingerprint,
            usage,
            extra,
        } = chunk;
        // Chunks after the first have an empty id: keep the first real one.
        if let Some(id) = id.as_ref().filter(|i| !i.is_empty()) {
            self.id.get_or_insert_with(|| id.clone());
        }
        if let Some(m) = model {
            self.model.get_or_insert_with(|| m.clone());
        }
        if let Some(c) = created {
            self.created.get_or_insert(*c);
        }
        last(&mut self.provider, provider);
        last(&mut self.system_fingerprint, system_fingerprint);
        for choice in choices {
            self.choice(choice);
        }
        if let Some(u) = usage {
            self.usage(u);
        }
        if let Some(m) = meta {
            self.meta(m);
        }
        if let Some(tier) = service_tier.as_ref().and_then(as_text) {
            merge_value(
                self.extra.entry("service_tier").or_insert(Value::Null),
                &Value::String(tier),
                Numbers::Last,
            );
        }
        merge_fields(&mut self.extra, extra, Numbers::Last);
        Ok(())
    }

    /// The completion (a stream's end is its `[DONE]`, which is no chunk: the stream checks it).
    fn finish(self) -> Result<types::ChatCompletion, Error> {
        Ok(types::ChatCompletion {
            choices: self
                .choices
                .into_iter()
                .map(|(index, c)| c.into_choice(index))
                .collect(),
            created: self.created,
            id: self.id,
            meta: self.meta,
            model: self.model,
            object: recast("chat.completion".to_string()),
            provider: self.provider,
            system_fingerprint: self.system_fingerprint,
            usage: self.usage.map(|u| folded_usage(*u)),
            extra: self.extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            acc.push(&chunk(p)).unwrap();
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
}

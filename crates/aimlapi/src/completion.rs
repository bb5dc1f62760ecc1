//! [`Completion`]: a response body with its [`ResponseMeta`], and [`Answer`], what every
//! endpoint's answer offers through it: text, reasoning, tool calls, the finish reason, usage,
//! cost, the turn for the next request.

use std::borrow::Cow;

use aimlapi_types as types;

use crate::chat::conversation::{Part, ToolUse, Turn};
use crate::cost::Cost;
use crate::http::meta::ResponseMeta;
use crate::usage::TokenUsage;

/// A typed response and what came with it.
#[derive(Clone, Debug)]
pub struct Completion<T> {
    /// The response body.
    pub value: T,
    /// Status, request id, cost headers, attempts.
    pub meta: ResponseMeta,
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

/// What an answer offers, whatever its endpoint: the chat endpoint's
/// [`ChatCompletion`](types::ChatCompletion) and the Messages endpoint's
/// [`MessageResponse`](types::MessageResponse) both implement it, and [`Completion`] offers each
/// view on top of it (with the cost, which needs the response's [`ResponseMeta`]).
pub trait Answer {
    /// The answer's text: the first choice's message, or the text blocks joined.
    fn text(&self) -> Option<Cow<'_, str>>;

    /// The model's reasoning, when the answer carries it: `reasoning_content`, OpenRouter's
    /// `reasoning` or the text of `reasoning_details`; the thinking blocks joined.
    fn reasoning(&self) -> Option<Cow<'_, str>>;

    /// The tool calls the model made, in order (their arguments as JSON text).
    fn tool_calls(&self) -> Vec<ToolUse>;

    /// Why the model stopped, as the server wrote it.
    fn finish_reason_raw(&self) -> Option<&str>;

    /// The token counts (cache reads and writes counted in the prompt), when the answer has them.
    fn usage(&self) -> Option<TokenUsage>;

    /// The model that answered, as the answer names it (with OpenRouter's fallbacks, the one of
    /// them that did).
    fn model(&self) -> Option<&str>;

    /// The response's id, when the answer carries one (default: none).
    fn response_id(&self) -> Option<&str> {
        None
    }

    /// The answer as an assistant turn for the next request.
    fn turn(&self) -> Turn;

    /// The model's refusal, when it refused: OpenAI's `refusal` text, or the text beside
    /// Anthropic's `stop_reason: "refusal"` (empty when there is none). Default: none.
    fn refusal(&self) -> Option<Cow<'_, str>> {
        None
    }

    /// The vendor's cost figure in the body (`meta.usage.usd_spent`, OpenRouter's
    /// `usage.cost`), when it sent one.
    fn body_cost(&self) -> Option<Cost>;
}

impl<T: Answer> Completion<T> {
    /// The answer's text ([`Answer::text`]).
    pub fn text(&self) -> Option<Cow<'_, str>> {
        self.value.text()
    }

    /// The model's reasoning ([`Answer::reasoning`]).
    pub fn reasoning(&self) -> Option<Cow<'_, str>> {
        self.value.reasoning()
    }

    /// The tool calls the model made, in order.
    pub fn tool_calls(&self) -> Vec<ToolUse> {
        self.value.tool_calls()
    }

    /// The finish reason as the server wrote it.
    pub fn finish_reason_raw(&self) -> Option<&str> {
        self.value.finish_reason_raw()
    }

    /// The finish reason, typed.
    pub fn finish_reason(&self) -> Option<StopReason> {
        self.finish_reason_raw().map(StopReason::parse)
    }

    /// The token usage, when the response has it.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.value.usage()
    }

    /// The model that answered ([`Answer::model`]).
    pub fn model(&self) -> Option<&str> {
        self.value.model()
    }

    /// The answer as an assistant turn, to add to the conversation before the next user turn
    /// ([`Answer::turn`]).
    pub fn turn(&self) -> Turn {
        self.value.turn()
    }

    /// The model's refusal, when it refused ([`Answer::refusal`]).
    pub fn refusal(&self) -> Option<Cow<'_, str>> {
        self.value.refusal()
    }

    /// The usage priced with the model's facts, in US dollars (cache reads and writes at
    /// their own prices): `None` for a model this crate does not know or a response without
    /// usage. The vendor's own figure, when it sends one, is [`ResponseMeta::usd_spent`].
    pub fn estimated_cost(&self) -> Option<f64> {
        estimate(&self.meta, self.usage()?)
    }

    /// What the call cost: the vendor's figure when it sent one (`meta.usage.usd_spent` in
    /// the body, then the `x-aimlapi-usd-spent` header, then OpenRouter's `usage.cost`),
    /// else the estimate from usage and the model's facts
    /// ([`CostSource::Estimate`](crate::cost::CostSource::Estimate)); `None` when there is
    /// neither.
    pub fn cost(&self) -> Option<Cost> {
        crate::cost::choose(self.value.body_cost(), self.meta.usd_spent, || {
            estimate(&self.meta, self.usage()?)
        })
    }
}

impl Completion<types::ChatCompletion> {
    /// The answer's choices, in order: one, or as many as `n` asked for (each with its message,
    /// finish reason and log probabilities).
    pub fn choices(&self) -> &[types::Choice] {
        &self.value.choices
    }

    /// The first choice's log probabilities, when the request asked for them (`logprobs`).
    pub fn logprobs(&self) -> Option<&types::Logprobs> {
        self.value.choices.first()?.logprobs.as_ref()
    }
}

impl<T: Answer> Completion<T> {
    /// What this answer tells its call's record: the answer's output message (the
    /// OpenTelemetry GenAI conventions' role and parts) only when `contents` are recorded.
    pub(crate) fn answered(
        &self,
        cost: Option<f64>,
        contents: bool,
    ) -> crate::telemetry::Answered<'_> {
        let answer = &self.value;
        crate::telemetry::Answered {
            id: answer.response_id(),
            model: answer.model(),
            finish_reason: answer.finish_reason_raw(),
            usage: answer.usage(),
            cost,
            output: contents.then(|| output_message(answer)),
        }
    }
}

/// An answer as the GenAI conventions' output message: its reasoning, text and tool calls as
/// typed parts, with the finish reason.
fn output_message<T: Answer>(answer: &T) -> serde_json::Value {
    use serde_json::{json, Value};
    let mut parts = Vec::new();
    if let Some(r) = answer.reasoning() {
        parts.push(json!({"type": "reasoning", "content": r}));
    }
    if let Some(t) = answer.text() {
        parts.push(json!({"type": "text", "content": t}));
    }
    for call in answer.tool_calls() {
        let arguments = serde_json::from_str::<Value>(&call.arguments)
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        parts.push(json!({
            "type": "tool_call",
            "id": call.id,
            "name": call.name,
            "arguments": arguments,
        }));
    }
    json!({
        "role": "assistant",
        "parts": parts,
        "finish_reason": answer.finish_reason_raw(),
    })
}

/// `usage` priced with the facts of the model the call named.
fn estimate(meta: &ResponseMeta, usage: TokenUsage) -> Option<f64> {
    Some(meta.facts?.price(&usage))
}

/// Why the model stopped, across dialects: OpenAI's `stop`/`length`/`tool_calls`/`content_filter`
/// and Anthropic's `end_turn`/`stop_sequence`/`max_tokens`/`tool_use`/`refusal` (the chat
/// endpoint passes either through).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The answer is complete (`stop`, `end_turn`, `stop_sequence`).
    Stop,
    /// The token limit cut it (`length`, `max_tokens`).
    Length,
    /// The model called tools (`tool_calls`, `tool_use`).
    ToolCalls,
    /// A filter or the model refused (`content_filter`, `refusal`).
    Refused,
    /// Another reason, as the server wrote it.
    Other(String),
}

impl StopReason {
    /// The typed view of a reason as the server wrote it.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "stop" | "end_turn" | "stop_sequence" => StopReason::Stop,
            "length" | "max_tokens" => StopReason::Length,
            "tool_calls" | "tool_use" => StopReason::ToolCalls,
            "content_filter" | "refusal" => StopReason::Refused,
            other => StopReason::Other(other.to_string()),
        }
    }
}

/// The reason as the server wrote it.
pub(crate) fn finish_reason_text(reason: &types::FinishReason) -> &str {
    match reason {
        types::FinishReason::KnownFinishReason(k) => match k {
            types::KnownFinishReason::Stop => "stop",
            types::KnownFinishReason::Length => "length",
            types::KnownFinishReason::ContentFilter => "content_filter",
            types::KnownFinishReason::ToolCalls => "tool_calls",
        },
        types::FinishReason::String(s) => s,
    }
}

/// The first choice's message.
fn first_message(c: &types::ChatCompletion) -> Option<&types::ChoiceMessage> {
    c.choices.first()?.message.as_ref()
}

impl Answer for types::ChatCompletion {
    fn text(&self) -> Option<Cow<'_, str>> {
        first_message(self)?.content.as_deref().map(Cow::Borrowed)
    }

    fn reasoning(&self) -> Option<Cow<'_, str>> {
        let m = first_message(self)?;
        crate::completion::reasoning_text(
            m.reasoning_content.as_deref(),
            m.reasoning.as_deref(),
            m.reasoning_details.as_deref(),
        )
    }

    fn tool_calls(&self) -> Vec<ToolUse> {
        tool_calls_of(
            first_message(self)
                .and_then(|m| m.tool_calls.as_deref())
                .unwrap_or_default(),
        )
    }

    fn finish_reason_raw(&self) -> Option<&str> {
        let choice = self.choices.first()?;
        choice.finish_reason.as_ref().map(finish_reason_text)
    }

    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(crate::usage::chat_usage)
    }

    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Its `reasoning_details` as they came (sent back to OpenRouter and the OpenRouter-style
    /// pages), its text and its tool calls; other reasoning text is not sent back on the chat
    /// endpoint.
    fn turn(&self) -> Turn {
        let mut content = Vec::new();
        if let Some(details) = first_message(self)
            .and_then(|m| m.reasoning_details.as_deref())
            .filter(|d| !d.is_empty())
        {
            content.push(Part::ReasoningDetails(
                details.iter().map(crate::chat::settings::json_of).collect(),
            ));
        }
        if let Some(t) = Answer::text(self).filter(|t| !t.is_empty()) {
            content.push(Part::Text(t.into_owned()));
        }
        Turn::Assistant {
            content,
            tool_calls: Answer::tool_calls(self),
        }
    }

    fn body_cost(&self) -> Option<Cost> {
        crate::cost::body_cost(self.meta.as_ref(), self.usage.as_ref().and_then(|u| u.cost))
    }

    fn refusal(&self) -> Option<Cow<'_, str>> {
        let m = first_message(self)?;
        match m.refusal.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => Some(Cow::Borrowed(r)),
            None => (self.finish_reason_raw() == Some("refusal"))
                .then(|| self.text().unwrap_or_default()),
        }
    }
}

/// Name and arguments of a tool call (empty when absent).
pub(crate) fn call_parts(call: &types::ToolCall) -> (String, String) {
    match call {
        types::ToolCall::ChoiceMessageFunctionToolCall(c) => {
            let f = c.function.as_ref();
            (
                f.and_then(|f| f.name.clone()).unwrap_or_default(),
                f.and_then(|f| f.arguments.clone()).unwrap_or_default(),
            )
        }
        types::ToolCall::CustomToolCall(c) => (
            c.custom
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_default(),
            c.custom
                .as_ref()
                .and_then(|c| c.input.clone())
                .unwrap_or_default(),
        ),
    }
}

/// The tool calls of a response, in the conversation's terms.
pub(crate) fn tool_calls_of(tool_calls: &[types::ToolCall]) -> Vec<ToolUse> {
    tool_calls
        .iter()
        .map(|c| {
            let id = match c {
                types::ToolCall::ChoiceMessageFunctionToolCall(c) => c.id.clone(),
                types::ToolCall::CustomToolCall(c) => c.id.clone(),
            };
            let (name, arguments) = call_parts(c);
            ToolUse {
                id: id.unwrap_or_default(),
                name,
                arguments,
            }
        })
        .collect()
}

/// The blocks of a message.
fn blocks(m: &types::MessageResponse) -> &[types::ContentBlock] {
    m.content.as_deref().unwrap_or_default()
}

/// The text `pick` finds in each block, joined; `None` when no block has any (one block's text
/// is borrowed).
fn joined<'a>(
    m: &'a types::MessageResponse,
    pick: impl Fn(&'a types::ContentBlock) -> Option<&'a str>,
) -> Option<Cow<'a, str>> {
    let mut texts = blocks(m).iter().filter_map(pick);
    let first = texts.next()?;
    match texts.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut all = String::from(first);
            all.push_str(second);
            texts.for_each(|t| all.push_str(t));
            Some(Cow::Owned(all))
        }
    }
}

impl Answer for types::MessageResponse {
    /// The text blocks, joined.
    fn text(&self) -> Option<Cow<'_, str>> {
        joined(self, |b| match b {
            types::ContentBlock::TextBlock(t) => t.text.as_deref(),
            _ => None,
        })
    }

    /// The thinking blocks' text, joined.
    fn reasoning(&self) -> Option<Cow<'_, str>> {
        joined(self, |b| match b {
            types::ContentBlock::ThinkingBlock(t) => t.thinking.as_deref(),
            _ => None,
        })
    }

    /// The tool-use blocks, in order (their input as JSON text).
    fn tool_calls(&self) -> Vec<ToolUse> {
        blocks(self)
            .iter()
            .filter_map(|b| match b {
                types::ContentBlock::ToolUseBlock(t) => Some(ToolUse {
                    id: t.id.clone().unwrap_or_default(),
                    name: t.name.clone().unwrap_or_default(),
                    arguments: serde_json::Value::Object(t.input.clone().unwrap_or_default())
                        .to_string(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The stop reason as the server wrote it.
    fn finish_reason_raw(&self) -> Option<&str> {
        self.stop_reason.as_deref()
    }

    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(crate::usage::message_usage)
    }

    fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    fn response_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Every block in order: thinking blocks with their signatures (and redacted ones)
    /// unchanged, plain text, and every other block as it came ([`Part::Block`]: server tool
    /// calls and results, text with citations, types not named here); the tool calls after.
    fn turn(&self) -> Turn {
        let mut content = Vec::new();
        for b in blocks(self) {
            let part = match b {
                types::ContentBlock::ThinkingBlock(t) if t.extra.is_empty() => Part::Thinking {
                    text: t.thinking.clone().unwrap_or_default(),
                    signature: t.signature.clone(),
                },
                types::ContentBlock::RedactedThinkingBlock(r) if r.extra.is_empty() => {
                    Part::RedactedThinking {
                        data: r.data.clone().unwrap_or_default(),
                    }
                }
                types::ContentBlock::TextBlock(t)
                    if t.citations.is_none() && t.extra.is_empty() =>
                {
                    Part::Text(t.text.clone().unwrap_or_default())
                }
                types::ContentBlock::ToolUseBlock(_) => continue,
                other => Part::Block(crate::chat::settings::json_of(other)),
            };
            content.push(part);
        }
        Turn::Assistant {
            content,
            tool_calls: Answer::tool_calls(self),
        }
    }

    fn body_cost(&self) -> Option<Cost> {
        crate::cost::body_cost(self.meta.as_ref(), None)
    }

    fn refusal(&self) -> Option<Cow<'_, str>> {
        (self.stop_reason.as_deref() == Some("refusal")).then(|| self.text().unwrap_or_default())
    }
}

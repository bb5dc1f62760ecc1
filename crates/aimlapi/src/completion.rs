//! [`Completion`]: a response body with its [`ResponseMeta`], and what every dialect's answer
//! offers through it: text, reasoning, tool calls, the finish reason, usage, cost.

use aimlapi_types as types;

use crate::conversation::{Part, ToolCall, Turn};
use crate::cost::Cost;
use crate::meta::ResponseMeta;
use crate::request::{ChatResponse, TokenUsage};

/// A typed response and what came with it.
#[derive(Clone, Debug)]
pub struct Completion<T> {
    /// The response body.
    pub value: T,
    /// Status, request id, cost headers, attempts.
    pub meta: ResponseMeta,
}

impl<T: ChatResponse> Completion<T> {
    /// The token usage, when the response has it.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.value.token_usage()
    }

    /// The text of the first choice's message, when it has one.
    pub fn text(&self) -> Option<&str> {
        self.value.text()
    }

    /// The usage priced with the model's facts, in US dollars (cache reads and writes at
    /// their own prices): `None` for a model this crate does not know or a response without
    /// usage. The vendor's own figure, when it sends one, is [`ResponseMeta::usd_spent`].
    pub fn estimated_cost(&self) -> Option<f64> {
        estimate(&self.meta, self.usage()?)
    }
}

/// `usage` priced with the facts of the model the call named.
fn estimate(meta: &ResponseMeta, usage: TokenUsage) -> Option<f64> {
    Some(meta.facts?.price(&usage))
}

/// The call's cost: the vendor's figure when it sent one, else the estimate.
pub(crate) fn cost_of<T: crate::request::TokenCounts>(c: &Completion<T>) -> Option<Cost> {
    crate::cost::choose(c.value.body_cost(), c.meta.usd_spent, || {
        estimate(&c.meta, c.value.token_counts()?)
    })
}

/// The doc of both `cost` methods.
macro_rules! cost_method {
    () => {
        /// What the call cost: the vendor's figure when it sent one (`meta.usage.usd_spent` in
        /// the body, then the `x-aimlapi-usd-spent` header, then OpenRouter's `usage.cost`),
        /// else the estimate from usage and the model's facts
        /// ([`CostSource::Estimate`](crate::cost::CostSource::Estimate)); `None` when there is
        /// neither.
        pub fn cost(&self) -> Option<Cost> {
            cost_of(self)
        }
    };
}

/// Why the model stopped, across dialects: OpenAI's `stop`/`length`/`tool_calls`/`content_filter`
/// and Anthropic's `end_turn`/`stop_sequence`/`max_tokens`/`tool_use`/`refusal` (the chat
/// endpoint passes either through).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinishReason {
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

impl FinishReason {
    /// The typed view of a reason as the server wrote it.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "stop" | "end_turn" | "stop_sequence" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "tool_calls" | "tool_use" => FinishReason::ToolCalls,
            "content_filter" | "refusal" => FinishReason::Refused,
            other => FinishReason::Other(other.to_string()),
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

impl Completion<types::ChatCompletion> {
    cost_method!();

    /// The model that answered, as the response names it (with OpenRouter's fallbacks, the one
    /// of them that did).
    pub fn model(&self) -> Option<&str> {
        self.value.model.as_deref()
    }

    fn message(&self) -> Option<&types::ChoiceMessage> {
        self.value.choices.first()?.message.as_ref()
    }

    /// The model's reasoning, when the answer carries it: `reasoning_content`, OpenRouter's
    /// `reasoning`, or the text and summaries of `reasoning_details`.
    pub fn reasoning(&self) -> Option<String> {
        let m = self.message()?;
        crate::accumulate::reasoning_text(
            m.reasoning_content.as_deref(),
            m.reasoning.as_deref(),
            m.reasoning_details.as_deref(),
        )
        .map(std::borrow::Cow::into_owned)
    }

    /// The tool calls the model made, in order.
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        tool_calls_of(self.value.tool_calls())
    }

    /// The finish reason as the server wrote it.
    pub fn finish_reason_raw(&self) -> Option<&str> {
        let choice = self.value.choices.first()?;
        choice.finish_reason.as_ref().map(finish_reason_text)
    }

    /// The finish reason, typed.
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.finish_reason_raw().map(FinishReason::parse)
    }

    /// The answer as an assistant turn, to add to the conversation before the next user turn
    /// (its text and tool calls; reasoning is not sent back on the chat endpoint).
    pub fn turn(&self) -> Turn {
        Turn::Assistant {
            content: self
                .text()
                .filter(|t| !t.is_empty())
                .map(|t| vec![Part::Text(t.to_string())])
                .unwrap_or_default(),
            tool_calls: self.tool_calls(),
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
pub(crate) fn tool_calls_of(tool_calls: &[types::ToolCall]) -> Vec<ToolCall> {
    tool_calls
        .iter()
        .map(|c| {
            let id = match c {
                types::ToolCall::ChoiceMessageFunctionToolCall(c) => c.id.clone(),
                types::ToolCall::CustomToolCall(c) => c.id.clone(),
            };
            let (name, arguments) = call_parts(c);
            ToolCall {
                id: id.unwrap_or_default(),
                name,
                arguments,
            }
        })
        .collect()
}

impl crate::request::TokenCounts for types::MessageResponse {
    fn token_counts(&self) -> Option<TokenUsage> {
        message_usage(self)
    }

    fn body_cost(&self) -> Option<Cost> {
        crate::cost::body_cost(self.meta.as_ref(), None)
    }
}

/// A message's counts: every prompt token (cache reads and writes included) in, output out.
fn message_usage(m: &types::MessageResponse) -> Option<TokenUsage> {
    m.usage.as_ref().map(crate::request::message_usage)
}

impl Completion<types::MessageResponse> {
    cost_method!();

    fn blocks(&self) -> &[types::ContentBlock] {
        self.value.content.as_deref().unwrap_or_default()
    }

    /// The text `pick` finds in each block, joined; `None` when no block has any.
    fn joined(&self, pick: impl Fn(&types::ContentBlock) -> Option<&str>) -> Option<String> {
        let texts: Vec<&str> = self.blocks().iter().filter_map(pick).collect();
        (!texts.is_empty()).then(|| texts.concat())
    }

    /// The text blocks, joined.
    pub fn text(&self) -> Option<String> {
        self.joined(|b| match b {
            types::ContentBlock::TextBlock(t) => t.text.as_deref(),
            _ => None,
        })
    }

    /// The thinking blocks' text, joined.
    pub fn reasoning(&self) -> Option<String> {
        self.joined(|b| match b {
            types::ContentBlock::ThinkingBlock(t) => t.thinking.as_deref(),
            _ => None,
        })
    }

    /// The tool calls, in order (their input as JSON text).
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                types::ContentBlock::ToolUseBlock(t) => Some(ToolCall {
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
    pub fn finish_reason_raw(&self) -> Option<&str> {
        self.value.stop_reason.as_deref()
    }

    /// The stop reason, typed.
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.finish_reason_raw().map(FinishReason::parse)
    }

    /// The token counts (cache reads and writes counted in).
    pub fn usage(&self) -> Option<TokenUsage> {
        message_usage(&self.value)
    }

    /// The usage priced with the model's facts, in US dollars (cache reads and writes at their
    /// own prices): `None` for a model this crate does not know or a message without usage.
    pub fn estimated_cost(&self) -> Option<f64> {
        estimate(&self.meta, self.usage()?)
    }

    /// The message as an assistant turn for the next request: thinking blocks with their
    /// signatures (and redacted ones) unchanged, text, tool calls, in order.
    pub fn turn(&self) -> Turn {
        let mut content = Vec::new();
        for b in self.blocks() {
            match b {
                types::ContentBlock::ThinkingBlock(t) => content.push(Part::Thinking {
                    text: t.thinking.clone().unwrap_or_default(),
                    signature: t.signature.clone(),
                }),
                types::ContentBlock::RedactedThinkingBlock(r) => {
                    content.push(Part::RedactedThinking {
                        data: r.data.clone().unwrap_or_default(),
                    })
                }
                types::ContentBlock::TextBlock(t) => {
                    content.push(Part::Text(t.text.clone().unwrap_or_default()))
                }
                _ => {}
            }
        }
        Turn::Assistant {
            content,
            tool_calls: self.tool_calls(),
        }
    }
}

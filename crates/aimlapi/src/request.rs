//! The typed-request path: the generated request types (one per wire shape; pages that share a
//! shape share the type) sent with [`Client::chat_completion`](crate::Client::chat_completion),
//! and what the client needs of them.

use aimlapi_types as types;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::provider::ProviderKind;

/// Token counts of one completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    pub completion_tokens: u64,
    /// Both together.
    pub total_tokens: u64,
}

/// What every non-streaming response type offers.
pub trait ChatResponse {
    /// The usage, when the response has it.
    fn token_usage(&self) -> Option<TokenUsage>;

    /// The text of the first choice's message, when it has one.
    fn text(&self) -> Option<&str>;

    /// The tool calls of the first choice's message (none when it made none).
    fn tool_calls(&self) -> &[types::ToolCall];
}

fn usage_of(prompt: Option<i64>, completion: Option<i64>, total: Option<i64>) -> TokenUsage {
    let p = prompt.unwrap_or(0).max(0) as u64;
    let c = completion.unwrap_or(0).max(0) as u64;
    TokenUsage {
        prompt_tokens: p,
        completion_tokens: c,
        total_tokens: total.map_or(p + c, |t| t.max(0) as u64),
    }
}

macro_rules! chat_response {
    ($($response:ty),+) => {$(
        impl ChatResponse for $response {
            fn token_usage(&self) -> Option<TokenUsage> {
                self.usage.as_ref().map(|u| usage_of(u.prompt_tokens, u.completion_tokens, u.total_tokens))
            }

            fn text(&self) -> Option<&str> {
                self.choices.first()?.message.as_ref()?.content.as_deref()
            }

            fn tool_calls(&self) -> &[types::ToolCall] {
                self.choices
                    .first()
                    .and_then(|c| c.message.as_ref())
                    .and_then(|m| m.tool_calls.as_deref())
                    .unwrap_or_default()
            }
        }
    )+};
}

chat_response!(types::ChatCompletion);

/// The token counts of an answer, whatever its endpoint (recorded in the call's span).
pub(crate) trait TokenCounts {
    fn token_counts(&self) -> Option<TokenUsage>;
}

impl<T: ChatResponse> TokenCounts for T {
    fn token_counts(&self) -> Option<TokenUsage> {
        self.token_usage()
    }
}

/// How a request body writes messages, tools and tool turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// OpenAI's chat completions: `system`/`user`/`assistant`/`tool` messages, `function` tools.
    OpenAi,
    /// Anthropic's messages on the chat endpoint: `user`/`assistant` turns of content blocks,
    /// `tool_use` and `tool_result` blocks, tools with an `input_schema`.
    Anthropic,
    /// Either of the two, the request's messages say which (the newest pages take both).
    Hybrid,
}

/// A chat-completions request body this crate can send: one of the generated request types.
pub trait ChatRequest: Serialize + Clone + Send + Sync + 'static {
    /// What a successful non-streaming call returns.
    type Response: DeserializeOwned + ChatResponse + Send + 'static;

    /// One chunk of a streaming response.
    type Chunk: crate::accumulate::StreamChunk;

    /// The model id the request names.
    fn model_id(&self) -> String;

    /// Whether the model is one of its document's known ids (a typed model, such as
    /// `KnownModelId::Claude35HaikuLatest`) rather than a string the caller wrote.
    /// Only a typed model is translated for a provider that spells it differently.
    fn model_is_typed(&self) -> bool;

    /// The gateway whose spelling the document's known model ids follow.
    fn id_spelling() -> ProviderKind;

    /// How the body writes messages and tools.
    fn dialect() -> Dialect;

    /// The generated type's name: `AnthropicChatRequest`, as the model table names request types.
    fn type_name() -> &'static str;

    /// Replaces the model id (the client sends the id its provider expects).
    fn set_model_id(&mut self, id: &str);
}

/// The id a typed model field holds: every generated model type serializes to its id.
fn id_of<T: Serialize>(model: &T) -> String {
    match serde_json::to_value(model) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

macro_rules! chat_request {
    ($request:ty, $model_id:ident :: $known:ident, $spelling:ident, $dialect:ident, $response:ty, $chunk:ty) => {
        impl ChatRequest for $request {
            type Response = $response;
            type Chunk = $chunk;

            fn model_id(&self) -> String {
                id_of(&self.model)
            }

            fn model_is_typed(&self) -> bool {
                matches!(self.model, types::$model_id::$known(_))
            }

            fn id_spelling() -> ProviderKind {
                ProviderKind::$spelling
            }

            fn dialect() -> Dialect {
                Dialect::$dialect
            }

            fn type_name() -> &'static str {
                // `types::AnthropicChatRequest` -> `AnthropicChatRequest`.
                let path = stringify!($request);
                path.rsplit(':').next().unwrap_or(path).trim()
            }

            fn set_model_id(&mut self, id: &str) {
                // The id as it goes on the wire: whether it is a known one does not matter there.
                self.model = types::$model_id::String(id.to_string());
            }
        }
    };
}

chat_request!(
    types::ChatCompletionRequest,
    ModelId::KnownModelId,
    AimlApi,
    OpenAi,
    types::ChatCompletion,
    types::ChatCompletionChunk
);
chat_request!(
    types::OpenRouterStyleRequest,
    ModelId::KnownModelId,
    AimlApi,
    OpenAi,
    types::ChatCompletion,
    types::ChatCompletionChunk
);
chat_request!(
    types::AnthropicChatRequest,
    ModelId::KnownModelId,
    AimlApi,
    Anthropic,
    types::ChatCompletion,
    types::ChatCompletionChunk
);
chat_request!(
    types::HybridChatRequest,
    ModelId::KnownModelId,
    AimlApi,
    Hybrid,
    types::ChatCompletion,
    types::ChatCompletionChunk
);
chat_request!(
    types::OpenRouterRequest,
    OpenRouterModelId::KnownOpenRouterModelId,
    OpenRouter,
    OpenAi,
    types::ChatCompletion,
    types::ChatCompletionChunk
);

/// A user message with plain text, in the OpenAI-style dialect.
pub fn user(text: impl Into<String>) -> types::Message {
    types::Message::UserMessage(types::UserMessage {
        content: types::UserContent::String(text.into()),
        name: None,
        role: types::UserMessageRole::User,
    })
}

/// A system message with plain text, in the OpenAI-style dialect.
pub fn system(text: impl Into<String>) -> types::Message {
    types::Message::SystemMessage(types::SystemMessage {
        content: types::SystemContent::String(text.into()),
        name: None,
        role: types::SystemMessageRole::System,
    })
}

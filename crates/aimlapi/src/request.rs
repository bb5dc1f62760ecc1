//! The typed-request path: the generated request types (one per wire shape; pages that share a
//! shape share the type) sent with [`Client::chat_completion`](crate::Client::chat_completion),
//! and what the client needs of them.

use aimlapi_types as types;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::provider::ProviderKind;
use crate::types::WireShape;

/// Token counts of one completion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Tokens in the prompt, cache reads and writes included.
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    pub completion_tokens: u64,
    /// Both together.
    pub total_tokens: u64,
    /// Prompt tokens read from the cache (part of `prompt_tokens`).
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the cache, whatever their lifetime (part of `prompt_tokens`).
    pub cache_write_tokens: u64,
    /// Of `cache_write_tokens`, those written for an hour (the rest are for five minutes), when
    /// the answer says.
    pub cache_write_1h_tokens: u64,
}

impl TokenUsage {
    /// Prompt tokens neither read from nor written to the cache.
    pub fn uncached_prompt_tokens(&self) -> u64 {
        self.prompt_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }
}

/// A count as the API sent it: missing or negative is 0.
fn count(n: Option<i64>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// The counts of a chat completion's `usage`. OpenAI-style cache counts
/// (`prompt_tokens_details.cached_tokens`, `.cache_write_tokens`) are part of `prompt_tokens`;
/// Anthropic's (`cache_read_input_tokens`, `cache_creation_input_tokens`), which the chat
/// endpoint may pass through, are not (Anthropic's `input_tokens` leaves them out) and are added.
pub(crate) fn chat_usage(u: &types::CompletionUsage) -> TokenUsage {
    let details = u.prompt_tokens_details.as_ref();
    let read = details.and_then(|d| d.cached_tokens);
    let write = details.and_then(|d| d.cache_write_tokens);
    let mut prompt = count(u.prompt_tokens);
    let (read, write) = if read.is_some() || write.is_some() {
        (count(read), count(write))
    } else {
        let (read, write) = (
            count(u.cache_read_input_tokens),
            count(u.cache_creation_input_tokens),
        );
        prompt = prompt.saturating_add(read).saturating_add(write);
        (read, write)
    };
    let completion = count(u.completion_tokens);
    let sum = prompt.saturating_add(completion);
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: u.total_tokens.map_or(sum, |t| count(Some(t)).max(sum)),
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_write_1h_tokens: 0,
    }
}

/// The counts of a Messages `usage`: `input_tokens` leaves the cache reads and writes out, so
/// they are added to the prompt.
pub(crate) fn message_usage(u: &types::MessageUsage) -> TokenUsage {
    let read = count(u.cache_read_input_tokens);
    let split = u.cache_creation.as_ref();
    let (write_5m, write_1h) = (
        count(split.and_then(|c| c.ephemeral_5m_input_tokens)),
        count(split.and_then(|c| c.ephemeral_1h_input_tokens)),
    );
    let write = count(u.cache_creation_input_tokens).max(write_5m.saturating_add(write_1h));
    let prompt = count(u.input_tokens)
        .saturating_add(read)
        .saturating_add(write);
    let completion = count(u.output_tokens);
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt.saturating_add(completion),
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_write_1h_tokens: write_1h.min(write),
    }
}

/// A chat-completions request body this crate can send: one of the generated request types.
pub trait ChatRequest: Serialize + Clone + Send + Sync + 'static {
    /// What a successful non-streaming call returns.
    type Response: DeserializeOwned + crate::completion::Answer + Send + 'static;

    /// One chunk of a streaming response.
    type Chunk: crate::sse::StreamChunk;

    /// The model id the request names.
    fn model_id(&self) -> String;

    /// Whether the model is one of its document's known ids (a typed model, such as
    /// `KnownModelId::Claude35HaikuLatest`) rather than a string the caller wrote.
    /// Only a typed model is translated for a provider that spells it differently.
    fn model_is_typed(&self) -> bool;

    /// The gateway whose spelling the document's known model ids follow.
    fn id_spelling() -> ProviderKind;

    /// The wire shape the type is generated for: the one its pages say
    /// (`ModelPage::shape`).
    const SHAPE: WireShape;

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
    ($request:ty, $model_id:ident :: $known:ident, $spelling:ident, $shape:ident, $response:ty, $chunk:ty) => {
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

            const SHAPE: WireShape = WireShape::$shape;

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
    OpenRouterStyle,
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
    OpenRouter,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chat(usage: serde_json::Value) -> TokenUsage {
        chat_usage(&serde_json::from_value(usage).unwrap())
    }

    #[test]
    fn openai_style_cache_counts_are_part_of_the_prompt() {
        let u = chat(json!({"prompt_tokens": 256, "completion_tokens": 10,
            "prompt_tokens_details": {"cached_tokens": 192, "cache_write_tokens": 40}}));
        assert_eq!(
            (u.prompt_tokens, u.cache_read_tokens, u.cache_write_tokens),
            (256, 192, 40)
        );
        assert_eq!(u.uncached_prompt_tokens(), 24);
        assert_eq!(u.total_tokens, 266);
    }

    #[test]
    fn anthropic_cache_counts_on_the_chat_endpoint_are_added_to_the_prompt() {
        let u = chat(json!({"prompt_tokens": 20, "completion_tokens": 5,
            "cache_read_input_tokens": 300, "cache_creation_input_tokens": 100}));
        assert_eq!((u.prompt_tokens, u.uncached_prompt_tokens()), (420, 20));
        assert_eq!(u.total_tokens, 425);
    }

    #[test]
    fn a_messages_usage_without_the_ttl_split_counts_its_writes_as_five_minute_ones() {
        let u = message_usage(
            &serde_json::from_value(json!({"input_tokens": 7, "output_tokens": 3,
                "cache_creation_input_tokens": 50, "cache_read_input_tokens": -4}))
            .unwrap(),
        );
        assert_eq!(
            (
                u.prompt_tokens,
                u.cache_write_tokens,
                u.cache_write_1h_tokens,
                u.cache_read_tokens
            ),
            (57, 50, 0, 0)
        );
    }
}

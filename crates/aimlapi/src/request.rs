//! The typed-request path: the generated request types (one per wire shape; pages that share a
//! shape share the type) sent with [`Client::chat_completion`](crate::Client::chat_completion),
//! and what the client needs of them.

use aimlapi_types as types;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::provider::ProviderKind;
use aimlapi_types::WireShape;

pub use crate::usage::TokenUsage;

/// A chat-completions request body this crate can send: one of the generated request types.
pub trait ChatRequest: Serialize + Clone + Send + Sync + 'static {
    /// What a successful non-streaming call returns.
    type Response: DeserializeOwned + crate::completion::Answer + Send + 'static;

    /// One chunk of a streaming response.
    type Chunk: crate::completions::decode::StreamChunk;

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

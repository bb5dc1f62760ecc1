//! Which wire shape a body is written in, and what follows from the shape alone.

use crate::model::Model;
use crate::provider::ProviderKind;
use aimlapi_types::WireShape;

/// The shape of `model`'s chat-completions body on `provider`: OpenRouter's own there; on the
/// AI/ML API its page's (a page of the Messages endpoint says nothing of the chat body); the
/// OpenAI shape for a model no page lists.
pub(crate) fn chat_shape(model: &Model, provider: ProviderKind) -> WireShape {
    if provider == ProviderKind::OpenRouter {
        return WireShape::OpenRouter;
    }
    match model.page().map(|p| p.shape) {
        None | Some(WireShape::Messages) => WireShape::OpenAi,
        Some(shape) => shape,
    }
}

/// Whether `shape` writes Anthropic-style turns: a top-level `system`, `user`/`assistant` turns
/// of content blocks, `stop_sequences`, `top_k`, `thinking` (the hybrid pages take both forms and
/// are written in this one).
pub(crate) fn writes_blocks(shape: WireShape) -> bool {
    !matches!(
        shape,
        WireShape::OpenAi | WireShape::OpenRouter | WireShape::OpenRouterStyle
    )
}

/// The property the stop sequences go in.
pub(crate) fn stop_property(shape: WireShape) -> &'static str {
    if writes_blocks(shape) {
        "stop_sequences"
    } else {
        "stop"
    }
}

//! The settings of a request beside its conversation: sampling, length, stop sequences,
//! thinking, OpenRouter's fallbacks and reasoning, and what to do with one a page does not take.

use serde::Serialize;

use super::shape::stop_property;
use crate::types::WireShape;

/// The settings of a request beside its conversation (sampling, length, thinking, OpenRouter's
/// fallbacks and reasoning); each is sent only when set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sampling {
    /// `temperature`.
    pub temperature: Option<f64>,
    /// `top_p`.
    pub top_p: Option<f64>,
    /// `top_k` (Anthropic-style pages).
    pub top_k: Option<u64>,
    /// `max_tokens`.
    pub max_tokens: Option<u64>,
    /// Stop sequences: `stop` (OpenAI style) or `stop_sequences` (Anthropic style).
    pub stop: Vec<String>,
    /// Extended thinking: `thinking: {type, budget_tokens?}`.
    pub thinking: Option<ThinkingMode>,
    /// Whether thinking is shown or omitted: `thinking.display`.
    pub thinking_display: Option<ThinkingDisplay>,
    /// Models to fall back on, in order (OpenRouter's `models`).
    pub fallback_models: Vec<String>,
    /// OpenRouter's `reasoning` object.
    pub reasoning: Option<ReasoningSettings>,
}

/// OpenRouter's `reasoning` request object: an effort or a budget of tokens, whether to leave
/// the reasoning out of the answer, or reasoning turned on or off.
///
/// ```
/// use aimlapi::chat::ReasoningSettings;
/// use aimlapi::types::ReasoningEffort;
///
/// let r = ReasoningSettings::effort(ReasoningEffort::High).exclude();
/// assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!({"effort": "high", "exclude": true}));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReasoningSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    effort: Option<aimlapi_types::ReasoningEffort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    exclude: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
}

impl ReasoningSettings {
    /// Reason with this effort (`effort`).
    pub fn effort(effort: aimlapi_types::ReasoningEffort) -> Self {
        ReasoningSettings {
            effort: Some(effort),
            ..Self::default()
        }
    }

    /// Reason with at most this many tokens (`max_tokens`).
    pub fn max_tokens(tokens: u64) -> Self {
        ReasoningSettings {
            max_tokens: Some(tokens),
            ..Self::default()
        }
    }

    /// Reasoning on, at the default effort, or off (`enabled`).
    pub fn enabled(on: bool) -> Self {
        ReasoningSettings {
            enabled: Some(on),
            ..Self::default()
        }
    }

    /// Reason, but leave the reasoning out of the answer (`exclude: true`).
    pub fn exclude(mut self) -> Self {
        self.exclude = true;
        self
    }
}

/// Extended thinking: the reasoning the model does before it answers (`thinking`). A budget of
/// tokens converts into [`ThinkingMode::Enabled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThinkingMode {
    /// `{type: "enabled", budget_tokens}`: think, spending at most this many tokens (at least
    /// 1,024, and fewer than `max_tokens`).
    Enabled {
        /// The most tokens the model may spend thinking.
        budget_tokens: u64,
    },
    /// `{type: "adaptive"}`: the model decides how much to think.
    Adaptive,
    /// `{type: "disabled"}`: no thinking.
    Disabled,
}

impl ThinkingMode {
    /// The `type` as the API writes it: `enabled`, `adaptive` or `disabled`.
    pub fn kind(self) -> &'static str {
        match self {
            ThinkingMode::Enabled { .. } => "enabled",
            ThinkingMode::Adaptive => "adaptive",
            ThinkingMode::Disabled => "disabled",
        }
    }
}

impl From<u64> for ThinkingMode {
    fn from(budget_tokens: u64) -> Self {
        ThinkingMode::Enabled { budget_tokens }
    }
}

/// How the answer shows the model's thinking (`thinking.display`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThinkingDisplay {
    /// A summary of the thinking (`summarized`, the API's default).
    Summarized,
    /// No thinking text: the blocks come back empty, with their signatures (`omitted`).
    Omitted,
}

impl ThinkingDisplay {
    /// The value as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkingDisplay::Summarized => "summarized",
            ThinkingDisplay::Omitted => "omitted",
        }
    }
}

impl Sampling {
    /// Each setting that is set, by the property name it has in `shape`.
    pub(crate) fn set(&self, shape: WireShape) -> impl Iterator<Item = &'static str> + '_ {
        let stop = stop_property(shape);
        [
            ("temperature", self.temperature.is_some()),
            ("top_p", self.top_p.is_some()),
            ("top_k", self.top_k.is_some()),
            ("max_tokens", self.max_tokens.is_some()),
            (stop, !self.stop.is_empty()),
            ("thinking", self.thinking.is_some()),
            ("thinking.display", self.thinking_display.is_some()),
            ("models", !self.fallback_models.is_empty()),
            ("reasoning", self.reasoning.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
    }

    pub(crate) fn clear(&mut self, property: &str) {
        match property {
            "temperature" => self.temperature = None,
            "top_p" => self.top_p = None,
            "top_k" => self.top_k = None,
            "max_tokens" => self.max_tokens = None,
            "stop" | "stop_sequences" => self.stop.clear(),
            "thinking" => {
                self.thinking = None;
                self.thinking_display = None;
            }
            "thinking.display" => self.thinking_display = None,
            "models" => self.fallback_models.clear(),
            "reasoning" => self.reasoning = None,
            _ => {}
        }
    }
}

/// What to do with a setting the model's page does not take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unsupported {
    /// Refuse the request before sending ([`Error::Unsupported`]). The default.
    #[default]
    Refuse,
    /// Leave the setting out and send the rest.
    Drop,
    /// Send it anyway (the page may be wrong).
    Send,
}

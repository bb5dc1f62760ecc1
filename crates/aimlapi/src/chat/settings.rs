//! The settings of a request beside its conversation: sampling, length, stop sequences,
//! thinking, OpenRouter's fallbacks and reasoning, and what to do with one a page does not take.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::shape::{stop_property, writes_blocks};
use super::tool_choice::ToolChoice;
use aimlapi_types::WireShape;

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
    /// Which tool the model calls (`tool_choice`; `parallel_tool_calls` on OpenAI-style pages).
    pub tool_choice: Option<ToolChoice>,
    /// Every other property, by its name on the wire, as its typed setter on
    /// [`Chat`](super::Chat) wrote it (`seed`, `metadata`, `provider`, ...): the same in every
    /// dialect, checked against the page by its name.
    pub properties: BTreeMap<&'static str, Value>,
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
    /// Each sampling setting that is set, by the property name it has in `shape` (the tool
    /// choice and the typed properties: [`set_beside`](Self::set_beside)).
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

    /// The properties of the tool choice and the typed setters, by name in `shape` (apart from
    /// [`set`](Self::set): most requests have none, and skip them).
    pub(crate) fn set_beside(&self, shape: WireShape) -> impl Iterator<Item = &'static str> + '_ {
        self.tool_choice
            .iter()
            .flat_map(move |c| c.properties(writes_blocks(shape)))
            .chain(self.properties.keys().copied())
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
            "tool_choice" => self.tool_choice = None,
            "parallel_tool_calls" => {
                self.tool_choice = self.tool_choice.take().map(|c| c.parallel(true));
            }
            other => {
                self.properties.remove(other);
            }
        }
    }
}

/// What to do with a setting the model's page does not take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unsupported {
    /// Refuse the request before sending ([`Error::Unsupported`](crate::Error::Unsupported)). The default.
    #[default]
    Refuse,
    /// Leave the setting out and send the rest.
    Drop,
    /// Send it anyway (the page may be wrong).
    Send,
}

/// One of OpenRouter's plugins (`plugins: [{id, ...}]`): web search, the PDF parser, response
/// healing, or any other by its id, with its settings.
///
/// ```
/// use aimlapi::chat::Plugin;
///
/// let web = Plugin::web().setting("max_results", 3);
/// assert_eq!(web.json(), serde_json::json!({"id": "web", "max_results": 3}));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Plugin(serde_json::Map<String, Value>);

impl Plugin {
    /// The plugin `id`.
    pub fn new(id: impl Into<String>) -> Self {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), Value::String(id.into()));
        Plugin(m)
    }

    /// Web search results added to the prompt (`web`).
    pub fn web() -> Self {
        Self::new("web")
    }

    /// PDFs parsed into text before the model reads them (`file-parser`).
    pub fn file_parser() -> Self {
        Self::new("file-parser")
    }

    /// Malformed JSON in the answer repaired (`response-healing`).
    pub fn response_healing() -> Self {
        Self::new("response-healing")
    }

    /// A setting of the plugin (`max_results`, `search_prompt`, `pdf`, ...); a value that does
    /// not serialize to JSON is written as `null`.
    pub fn setting(mut self, key: impl Into<String>, value: impl Serialize) -> Self {
        self.0.insert(key.into(), json_of(value));
        self
    }

    /// The plugin as the request carries it.
    pub fn json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

/// A remote MCP server the API connects to for the model (Anthropic's `mcp_servers`, not on the
/// vendor's pages: refused unless sent anyway).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpServer {
    /// Its URL.
    pub url: String,
    /// The name the model knows it by.
    pub name: String,
    /// A bearer token for it.
    pub authorization_token: Option<String>,
    /// The only tools of it the model may call (all when `None`).
    pub allowed_tools: Option<Vec<String>>,
}

impl McpServer {
    pub(crate) fn json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), "url".into());
        m.insert("url".into(), self.url.clone().into());
        m.insert("name".into(), self.name.clone().into());
        if let Some(t) = &self.authorization_token {
            m.insert("authorization_token".into(), t.clone().into());
        }
        if let Some(tools) = &self.allowed_tools {
            m.insert(
                "tool_configuration".into(),
                serde_json::json!({"enabled": true, "allowed_tools": tools}),
            );
        }
        Value::Object(m)
    }
}

/// Search filters of the vendor's OpenRouter-style body (`search_mode`, `search_recency_filter`,
/// `search_domain_filter`, the date filters, `return_images`, `return_related_questions`): each
/// set field is written as its own property.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchFilters {
    /// `search_mode`: `academic` or `web`.
    pub mode: Option<String>,
    /// `search_recency_filter`: `day`, `week`, `month` or `year`.
    pub recency: Option<String>,
    /// `search_domain_filter`: at most 10 domains; a leading `-` excludes one.
    pub domains: Vec<String>,
    /// `search_after_date_filter`, written `M/D/YYYY`.
    pub published_after: Option<String>,
    /// `search_before_date_filter`, written `M/D/YYYY`.
    pub published_before: Option<String>,
    /// `last_updated_after_filter`, written `M/D/YYYY`.
    pub updated_after: Option<String>,
    /// `last_updated_before_filter`, written `M/D/YYYY`.
    pub updated_before: Option<String>,
    /// `return_images`.
    pub return_images: Option<bool>,
    /// `return_related_questions`.
    pub return_related_questions: Option<bool>,
}

impl SearchFilters {
    /// Each set filter by its property name.
    pub(crate) fn properties(&self) -> Vec<(&'static str, Value)> {
        let text = |v: &Option<String>| v.clone().map(Value::String);
        [
            ("search_mode", text(&self.mode)),
            ("search_recency_filter", text(&self.recency)),
            (
                "search_domain_filter",
                (!self.domains.is_empty()).then(|| json_of(&self.domains)),
            ),
            ("search_after_date_filter", text(&self.published_after)),
            ("search_before_date_filter", text(&self.published_before)),
            ("last_updated_after_filter", text(&self.updated_after)),
            ("last_updated_before_filter", text(&self.updated_before)),
            ("return_images", self.return_images.map(Value::Bool)),
            (
                "return_related_questions",
                self.return_related_questions.map(Value::Bool),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
    }
}

/// `value` as JSON: `null` for what does not serialize (no type this crate takes fails).
pub(crate) fn json_of(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

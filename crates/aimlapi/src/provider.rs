//! The gateways a [`Client`](crate::Client) can talk to, and the key it uses.

use std::fmt;

/// Which kind of gateway: decides the model ids sent and the headers added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// The AI/ML API.
    AimlApi,
    /// OpenRouter.
    OpenRouter,
    /// Any other OpenAI-compatible base URL; model ids are sent as the AI/ML API expects them.
    Custom,
}

/// A gateway and its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The AI/ML API at `https://api.aimlapi.com`; key from `AIMLAPI_API_KEY`.
    AimlApi,
    /// OpenRouter at `https://openrouter.ai/api`; key from `OPENROUTER_API_KEY`.
    OpenRouter {
        /// Your site's URL, sent as `HTTP-Referer` (OpenRouter's rankings).
        referer: Option<String>,
        /// Your site's name, sent as `X-Title` (OpenRouter's rankings).
        title: Option<String>,
    },
    /// Any other base URL (the part before `/v1/chat/completions`), such as a local mock.
    Custom {
        /// The base URL.
        base_url: String,
    },
}

impl Provider {
    /// OpenRouter without ranking headers.
    pub fn open_router() -> Self {
        Provider::OpenRouter {
            referer: None,
            title: None,
        }
    }

    /// A custom base URL.
    pub fn custom(base_url: impl Into<String>) -> Self {
        Provider::Custom {
            base_url: base_url.into(),
        }
    }

    /// The kind of gateway.
    pub fn kind(&self) -> ProviderKind {
        match self {
            Provider::AimlApi => ProviderKind::AimlApi,
            Provider::OpenRouter { .. } => ProviderKind::OpenRouter,
            Provider::Custom { .. } => ProviderKind::Custom,
        }
    }

    /// The base URL requests go to (paths such as `/v1/chat/completions` follow it).
    pub fn base_url(&self) -> &str {
        match self {
            Provider::AimlApi => "https://api.aimlapi.com",
            Provider::OpenRouter { .. } => "https://openrouter.ai/api",
            Provider::Custom { base_url } => base_url.trim_end_matches('/'),
        }
    }

    /// The environment variable the key is read from, for the gateways that have one.
    pub fn key_variable(&self) -> Option<&'static str> {
        match self {
            Provider::AimlApi => Some("AIMLAPI_API_KEY"),
            Provider::OpenRouter { .. } => Some("OPENROUTER_API_KEY"),
            Provider::Custom { .. } => None,
        }
    }

    /// A short name for logs: `aimlapi`, `openrouter`, `custom`.
    pub fn name(&self) -> &'static str {
        match self.kind() {
            ProviderKind::AimlApi => "aimlapi",
            ProviderKind::OpenRouter => "openrouter",
            ProviderKind::Custom => "custom",
        }
    }
}

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, to store it (a key just made with
    /// [`Account::create_key`](crate::account::Account::create_key) is shown only once). Never
    /// in `Debug`.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The key itself, for the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for ApiKey {
    fn from(s: &str) -> Self {
        ApiKey::new(s)
    }
}

impl From<String> for ApiKey {
    fn from(s: String) -> Self {
        ApiKey::new(s)
    }
}

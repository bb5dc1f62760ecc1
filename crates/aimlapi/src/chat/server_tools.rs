//! [`ServerTool`]: Anthropic's tools that run on the API's side (web search, web fetch, code
//! execution, tool search, memory, bash, the text editor), typed with their settings. The model
//! calls them itself; their calls and results come back as blocks of the answer
//! ([`Part::Block`](super::Part::Block)), which the next turn carries back as they came.

use serde_json::{Map, Value};

use super::conversation::{Cache, CacheControl};

/// A tool the API runs itself, offered beside the caller's own tools ([`Chat::server_tool`]).
/// Each has a dated `type` (the version of the tool) and a `name`; [`version`](Self::version)
/// picks another dated type the pages list. Pages whose tools take no such type refuse it
/// before sending (the Anthropic-style chat pages of Claude 3 and 4, the OpenAI-style ones).
///
/// ```
/// use aimlapi::chat::{ServerTool, WebSearch};
///
/// let search: ServerTool = WebSearch::new().max_uses(3).allowed_domains(["docs.rs"]).into();
/// assert_eq!(search.kind(), "web_search_20250305");
/// assert_eq!(
///     search.json()["allowed_domains"],
///     serde_json::json!(["docs.rs"])
/// );
/// ```
///
/// [`Chat::server_tool`]: super::Chat::server_tool
#[derive(Clone, Debug, PartialEq)]
pub struct ServerTool {
    kind: String,
    name: &'static str,
    settings: Map<String, Value>,
    defer_loading: bool,
    cache: Option<Cache>,
}

impl ServerTool {
    fn of(kind: &str, name: &'static str) -> Self {
        ServerTool {
            kind: kind.to_string(),
            name,
            settings: Map::new(),
            defer_loading: false,
            cache: None,
        }
    }

    /// Code execution in a sandbox (`code_execution_20250825`, named `code_execution`).
    pub fn code_execution() -> Self {
        Self::of("code_execution_20250825", "code_execution")
    }

    /// Tool search by regular expression over the tools offered with `defer_loading`
    /// (`tool_search_tool_regex_20251119`, named `tool_search_tool_regex`).
    pub fn tool_search_regex() -> Self {
        Self::of("tool_search_tool_regex_20251119", "tool_search_tool_regex")
    }

    /// Tool search by BM25 over the tools offered with `defer_loading`
    /// (`tool_search_tool_bm25_20251119`, named `tool_search_tool_bm25`).
    pub fn tool_search_bm25() -> Self {
        Self::of("tool_search_tool_bm25_20251119", "tool_search_tool_bm25")
    }

    /// The memory tool (`memory_20250818`, named `memory`): the model reads and writes files
    /// of a memory directory, through calls the caller answers.
    pub fn memory() -> Self {
        Self::of("memory_20250818", "memory")
    }

    /// A bash shell (`bash_20250124`, named `bash`), through calls the caller answers.
    pub fn bash() -> Self {
        Self::of("bash_20250124", "bash")
    }

    /// The text editor (`text_editor_20250728`, named `str_replace_based_edit_tool`), through
    /// calls the caller answers.
    pub fn text_editor() -> Self {
        Self::of("text_editor_20250728", "str_replace_based_edit_tool")
    }

    /// Another dated version of the same tool (`web_search_20260209`, `code_execution_20260120`,
    /// ...): checked against the page's tool types before sending.
    pub fn version(mut self, kind: impl Into<String>) -> Self {
        self.kind = kind.into();
        self
    }

    /// Loads the tool only when a tool search finds it (`defer_loading: true`).
    pub fn defer_loading(mut self, on: bool) -> Self {
        self.defer_loading = on;
        self
    }

    /// Sets a cache breakpoint on this tool (`cache_control`).
    pub fn cache(mut self, ttl: Cache) -> Self {
        self.cache = Some(ttl);
        self
    }

    /// The dated `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The `name` the model calls it by.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Whether it is loaded only when a tool search finds it.
    pub fn is_deferred(&self) -> bool {
        self.defer_loading
    }

    /// The cache breakpoint on this tool, if one is set.
    pub fn cache_point(&self) -> Option<Cache> {
        self.cache
    }

    /// The definition as the request carries it.
    pub fn json(&self) -> Value {
        let mut tool = Map::new();
        tool.insert("type".into(), Value::String(self.kind.clone()));
        tool.insert("name".into(), Value::String(self.name.into()));
        tool.extend(self.settings.clone());
        if self.defer_loading {
            tool.insert("defer_loading".into(), Value::Bool(true));
        }
        if let Some(ttl) = self.cache {
            tool.insert("cache_control".into(), serde_json::json!(CacheControl(ttl)));
        }
        Value::Object(tool)
    }

    fn set(mut self, key: &str, value: Value) -> Self {
        self.settings.insert(key.into(), value);
        self
    }
}

/// Where the user is, roughly, for search results near them (`user_location`, `approximate`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserLocation {
    /// The city.
    pub city: Option<String>,
    /// The region or state.
    pub region: Option<String>,
    /// The ISO 3166-1 alpha-2 country code (`GB`).
    pub country: Option<String>,
    /// The IANA time zone (`Europe/London`).
    pub timezone: Option<String>,
}

impl UserLocation {
    fn json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), Value::String("approximate".into()));
        for (k, v) in [
            ("city", &self.city),
            ("region", &self.region),
            ("country", &self.country),
            ("timezone", &self.timezone),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::Array(items.into_iter().map(|s| Value::String(s.into())).collect())
}

/// Web search on the API's side (`web_search_20250305`, named `web_search`): its results come
/// back as `web_search_tool_result` blocks, and the text that uses them with `citations`.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct WebSearch(ServerTool);

impl WebSearch {
    /// Web search with the API's defaults.
    pub fn new() -> Self {
        WebSearch(ServerTool::of("web_search_20250305", "web_search"))
    }

    /// At most this many searches in one request (`max_uses`).
    pub fn max_uses(self, n: u32) -> Self {
        WebSearch(self.0.set("max_uses", n.into()))
    }

    /// Search only these domains (`allowed_domains`; not with `blocked_domains`).
    pub fn allowed_domains<S: Into<String>>(self, domains: impl IntoIterator<Item = S>) -> Self {
        WebSearch(self.0.set("allowed_domains", strings(domains)))
    }

    /// Never search these domains (`blocked_domains`).
    pub fn blocked_domains<S: Into<String>>(self, domains: impl IntoIterator<Item = S>) -> Self {
        WebSearch(self.0.set("blocked_domains", strings(domains)))
    }

    /// Results near this place (`user_location`).
    pub fn user_location(self, location: &UserLocation) -> Self {
        WebSearch(self.0.set("user_location", location.json()))
    }
}

impl Default for WebSearch {
    fn default() -> Self {
        Self::new()
    }
}

impl From<WebSearch> for ServerTool {
    fn from(tool: WebSearch) -> Self {
        tool.0
    }
}

/// Web fetch on the API's side (`web_fetch_20250910`, named `web_fetch`): the model reads the
/// pages and PDFs at URLs the conversation gives; the results come back as
/// `web_fetch_tool_result` blocks.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct WebFetch(ServerTool);

impl WebFetch {
    /// Web fetch with the API's defaults.
    pub fn new() -> Self {
        WebFetch(ServerTool::of("web_fetch_20250910", "web_fetch"))
    }

    /// At most this many fetches in one request (`max_uses`).
    pub fn max_uses(self, n: u32) -> Self {
        WebFetch(self.0.set("max_uses", n.into()))
    }

    /// Fetch only from these domains (`allowed_domains`).
    pub fn allowed_domains<S: Into<String>>(self, domains: impl IntoIterator<Item = S>) -> Self {
        WebFetch(self.0.set("allowed_domains", strings(domains)))
    }

    /// Never fetch from these domains (`blocked_domains`).
    pub fn blocked_domains<S: Into<String>>(self, domains: impl IntoIterator<Item = S>) -> Self {
        WebFetch(self.0.set("blocked_domains", strings(domains)))
    }

    /// Cite the fetched documents in the answer (`citations: {enabled}`).
    pub fn citations(self, on: bool) -> Self {
        WebFetch(
            self.0
                .set("citations", serde_json::json!({ "enabled": on })),
        )
    }

    /// Cut each fetched document at this many tokens (`max_content_tokens`).
    pub fn max_content_tokens(self, n: u64) -> Self {
        WebFetch(self.0.set("max_content_tokens", n.into()))
    }
}

impl Default for WebFetch {
    fn default() -> Self {
        Self::new()
    }
}

impl From<WebFetch> for ServerTool {
    fn from(tool: WebFetch) -> Self {
        tool.0
    }
}

//! Tools and structured outputs from Rust types: a type that derives [`schemars::JsonSchema`]
//! describes a tool's arguments or the shape of an answer; the values come back typed.
//!
//! - [`ToolSpec`] makes a tool definition in either request dialect: the OpenAI style
//!   ([`ToolSpec::openai`], `{type: function, function: {name, description, parameters,
//!   strict}}`) and the Anthropic style of the Sonnet document ([`ToolSpec::anthropic`],
//!   `{name, description, input_schema}`); [`response_format`] makes a `json_schema` response
//!   format.
//! - [`parse_arguments`], [`parse_tool_use`] and [`parse_content`] read the model's output into a
//!   type; failures name the tool (or the answer) and carry the raw text.
//! - [`Toolbox`] holds handlers keyed by tool name; [`Client::run_tools`](crate::Client::run_tools)
//!   sends, runs the calls the model asks for, appends the results, and repeats.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::chat::conversation::{Cache, CacheControl, Conversation, Part, ToolUse, Turn};
use crate::completion::call_parts;
use crate::error::Error;
use aimlapi_types::WireShape;

/// A boxed, sendable future.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;
use aimlapi_types as types;

/// Formats the API knows; schemars' numeric formats (`uint32`, `double`, ...) are dropped.
const KNOWN_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
    "uri",
];

/// A tool definition: made from the type of its arguments ([`new`](Self::new)), or from a JSON
/// schema as given ([`from_schema`](Self::from_schema), the form MCP servers hand out).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    name: String,
    description: Option<String>,
    parameters: Map<String, Value>,
    strict: bool,
    cache: Option<Cache>,
    /// Whether the schema is sent exactly as given (`strict` rewrites nothing).
    as_given: bool,
    defer_loading: bool,
}

impl ToolSpec {
    /// A tool called `name` whose arguments are a `T` (a struct: the API wants an object). The
    /// description is `T`'s doc comment, if it has one; field doc comments describe the fields.
    pub fn new<T: JsonSchema>(name: &str) -> Result<ToolSpec, Error> {
        let (parameters, description) = object_schema::<T>(&format!("tool `{name}`"))?;
        Ok(ToolSpec {
            name: name.to_string(),
            description,
            parameters,
            strict: false,
            cache: None,
            as_given: false,
            defer_loading: false,
        })
    }

    /// A tool called `name` whose arguments `schema` describes (a JSON Schema object, such as
    /// an MCP server's `inputSchema`), sent exactly as given in every dialect: its `title`,
    /// its own `description`, `$defs` and `$ref`s untouched; [`strict`](Self::strict) only
    /// asks the API to follow it. `description` describes the tool.
    ///
    /// ```
    /// use aimlapi::tools::ToolSpec;
    /// use serde_json::json;
    ///
    /// let schema = json!({"title": "Lookup", "type": "object",
    ///     "properties": {"word": {"$ref": "#/$defs/word"}}, "$defs": {"word": {"type": "string"}}});
    /// let tool = ToolSpec::from_schema("lookup", Some("Looks a word up."), schema.clone()).unwrap();
    /// assert_eq!(serde_json::Value::Object(tool.parameters()), schema);
    /// ```
    pub fn from_schema(
        name: &str,
        description: Option<&str>,
        schema: Value,
    ) -> Result<ToolSpec, Error> {
        let Value::Object(parameters) = schema else {
            return Err(Error::Config(format!(
                "tool `{name}`: its schema is not a JSON object"
            )));
        };
        Ok(ToolSpec {
            name: name.to_string(),
            description: description.map(str::to_string),
            parameters,
            strict: false,
            cache: None,
            as_given: true,
            defer_loading: false,
        })
    }

    /// Loads the tool only when a tool search finds it (`defer_loading: true`, Anthropic-style
    /// tools, beside a [`ServerTool::tool_search_regex`] or `bm25`); pages whose tools take
    /// no such field refuse it by default.
    ///
    /// [`ServerTool::tool_search_regex`]: crate::chat::ServerTool::tool_search_regex
    pub fn defer_loading(mut self, on: bool) -> Self {
        self.defer_loading = on;
        self
    }

    /// Whether it is loaded only when a tool search finds it.
    pub fn is_deferred(&self) -> bool {
        self.defer_loading
    }

    /// Replaces the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Asks the model to follow the schema exactly (`strict: true`, on OpenAI-style tools and
    /// on Anthropic-style ones where the pages take it). For a tool made from a Rust type the
    /// schema is rewritten for OpenAI's strict mode: every object gets `additionalProperties:
    /// false` and lists all its properties as required, optional ones admitting `null`; `oneOf`
    /// becomes `anyOf`. A schema given with [`from_schema`](Self::from_schema) is sent as given.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sets a cache breakpoint on this tool (`cache_control`): the tools up to and including it
    /// are cached with the prompt. Put it on the last tool to cache them all. Pages that take
    /// no `cache_control` on tools refuse it by default.
    pub fn cache(mut self, ttl: Cache) -> Self {
        self.cache = Some(ttl);
        self
    }

    /// The cache breakpoint on this tool, if one is set.
    pub fn cache_point(&self) -> Option<Cache> {
        self.cache
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The arguments' JSON Schema as it is sent.
    pub fn parameters(&self) -> Map<String, Value> {
        if self.strict && !self.as_given {
            strict(self.parameters.clone())
        } else {
            self.parameters.clone()
        }
    }

    /// The definition in the OpenAI-style dialect: `{type: "function", function: {...}}`
    /// (`typed-tools` feature).
    #[cfg(feature = "typed-tools")]
    pub fn openai(&self) -> types::FunctionTool {
        typed(self.openai_json())
    }

    /// The definition in the Anthropic-style dialect: `{name, description, input_schema}`
    /// (`typed-tools` feature).
    #[cfg(feature = "typed-tools")]
    pub fn anthropic(&self) -> types::AnthropicTool {
        typed(self.anthropic_json())
    }

    /// The definition as a body of `shape` takes it: Anthropic-style for the shapes that write
    /// content blocks (with `strict` and `defer_loading` when `custom` fields are taken),
    /// OpenAI-style for the others (on both request paths).
    pub(crate) fn json_for(&self, shape: WireShape, custom: bool) -> Value {
        if !crate::chat::shape::writes_blocks(shape) {
            return self.openai_json();
        }
        let mut tool = self.anthropic_json();
        if let (true, Value::Object(t)) = (custom, &mut tool) {
            if self.strict {
                t.insert("strict".into(), Value::Bool(true));
            }
            if self.defer_loading {
                t.insert("defer_loading".into(), Value::Bool(true));
            }
        }
        tool
    }

    fn openai_json(&self) -> Value {
        let mut function = Map::new();
        function.insert("name".into(), Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            function.insert("description".into(), Value::String(d.clone()));
        }
        function.insert("parameters".into(), Value::Object(self.parameters()));
        if self.strict {
            function.insert("strict".into(), Value::Bool(true));
        }
        let mut tool = json!({"type": "function", "function": function});
        if let (Some(ttl), Value::Object(tool)) = (self.cache, &mut tool) {
            tool.insert("cache_control".into(), json!(CacheControl(ttl)));
        }
        tool
    }

    fn anthropic_json(&self) -> Value {
        let mut tool = Map::new();
        tool.insert("name".into(), Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            tool.insert("description".into(), Value::String(d.clone()));
        }
        tool.insert("input_schema".into(), Value::Object(self.parameters()));
        if let Some(ttl) = self.cache {
            tool.insert("cache_control".into(), json!(CacheControl(ttl)));
        }
        Value::Object(tool)
    }
}

/// A generated type from JSON this crate writes in that type's shape (tool definitions, tool
/// turns): the shape is fixed by the code here, so a failure is a bug in this crate.
#[cfg(feature = "typed-tools")]
fn typed<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("the JSON is written in the generated type's shape")
}

/// A `json_schema` response format asking for a `T`, strict: read the answer with
/// [`parse_content`].
pub fn response_format<T: JsonSchema>(name: &str) -> Result<types::ResponseFormat, Error> {
    let (schema, description) = object_schema::<T>(&format!("response format `{name}`"))?;
    let schema = strict(schema);
    Ok(types::ResponseFormat::JsonSchemaResponseFormat(
        types::JsonSchemaResponseFormat {
            type_: types::JsonSchemaResponseFormatType::JsonSchema,
            json_schema: types::JsonSchema {
                name: name.to_string(),
                description,
                schema,
                strict: Some(true),
            },
        },
    ))
}

/// `T`'s schema cleaned for the API, and its description; an error unless it is an object.
pub(crate) fn object_schema<T: JsonSchema>(
    what: &str,
) -> Result<(Map<String, Value>, Option<String>), Error> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut value = schema.to_value();
    clean(&mut value);
    let Value::Object(mut map) = value else {
        return Err(Error::Config(format!(
            "{what}: the schema is not an object"
        )));
    };
    if map.get("type") != Some(&json!("object")) {
        return Err(Error::Config(format!(
            "{what}: `{}` must be a struct (the API wants an object schema)",
            T::schema_name()
        )));
    }
    let description = match map.remove("description") {
        Some(Value::String(d)) => Some(d),
        _ => None,
    };
    Ok((map, description))
}

/// What the API does not take: `$schema`, titles, schemars' own formats; definitions that are
/// not recursive are inlined, the rest stay under `$defs` (and references stay valid).
fn clean(root: &mut Value) {
    let defs = match root.as_object_mut().and_then(|m| m.remove("$defs")) {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    let mut kept = Map::new();
    inline(root, &defs, &mut Vec::new(), &mut kept);
    strip(root);
    if !kept.is_empty() {
        let mut kept_clean = Map::new();
        for (name, mut def) in kept {
            strip(&mut def);
            kept_clean.insert(name, def);
        }
        if let Value::Object(m) = root {
            m.insert("$defs".into(), Value::Object(kept_clean));
        }
    }
}

/// Replaces each `$ref` to `#/$defs/X` by X, unless X is being inlined already (recursion):
/// then the reference stays and X is kept in `kept`.
fn inline(
    v: &mut Value,
    defs: &Map<String, Value>,
    stack: &mut Vec<String>,
    kept: &mut Map<String, Value>,
) {
    match v {
        Value::Object(m) => {
            let target = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .map(str::to_string);
            if let Some(name) = target {
                if let Some(def) = defs.get(&name) {
                    if stack.contains(&name) {
                        if !kept.contains_key(&name) {
                            kept.insert(name.clone(), Value::Null);
                            let mut body = def.clone();
                            inline(&mut body, defs, &mut vec![name.clone()], kept);
                            kept.insert(name, body);
                        }
                        return;
                    }
                    let mut body = def.clone();
                    stack.push(name);
                    inline(&mut body, defs, stack, kept);
                    stack.pop();
                    m.remove("$ref");
                    if let Value::Object(b) = body {
                        for (k, x) in b {
                            m.entry(k).or_insert(x);
                        }
                    }
                    return;
                }
            }
            for x in m.values_mut() {
                inline(x, defs, stack, kept);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| inline(x, defs, stack, kept)),
        _ => {}
    }
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("$schema");
            m.remove("title");
            if m.get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| !KNOWN_FORMATS.contains(&f))
            {
                m.remove("format");
            }
            // Property names are data, not keywords: recurse into their schemas only.
            for (k, x) in m.iter_mut() {
                if k == "properties" || k == "$defs" {
                    if let Value::Object(props) = x {
                        props.values_mut().for_each(strip);
                    }
                } else {
                    strip(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip),
        _ => {}
    }
}

/// Whether a schema admits `null`.
fn admits_null(v: &Value) -> bool {
    match v.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => ["anyOf", "oneOf"].iter().any(|k| {
            v.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|bs| bs.iter().any(admits_null))
        }),
    }
}

/// An object schema in OpenAI's strict mode (see [`make_strict`]).
pub(crate) fn strict(schema: Map<String, Value>) -> Map<String, Value> {
    let mut v = Value::Object(schema);
    make_strict(&mut v);
    match v {
        Value::Object(m) => m,
        _ => unreachable!("an object stays an object"),
    }
}

/// OpenAI's strict mode: closed objects, every property required (optional ones nullable),
/// `anyOf` for `oneOf`.
fn make_strict(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(one_of) = m.remove("oneOf") {
                m.insert("anyOf".into(), one_of);
            }
            if let Some(Value::Object(props)) = m.get_mut("properties") {
                props.values_mut().for_each(make_strict);
            }
            for (k, x) in m.iter_mut() {
                if k != "properties" {
                    make_strict(x);
                }
            }
            let is_object = m.get("type") == Some(&json!("object")) || m.contains_key("properties");
            if !is_object {
                return;
            }
            let required: Vec<String> = m
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let mut all = Vec::new();
            if let Some(Value::Object(props)) = m.get_mut("properties") {
                for (name, schema) in props.iter_mut() {
                    if !required.contains(name) && !admits_null(schema) {
                        let mut inner = std::mem::take(schema);
                        let description =
                            inner.as_object_mut().and_then(|m| m.remove("description"));
                        *schema = json!({"anyOf": [inner, {"type": "null"}]});
                        if let Some(d) = description {
                            schema["description"] = d;
                        }
                    }
                    all.push(Value::String(name.clone()));
                }
            }
            m.insert("required".into(), Value::Array(all));
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
        Value::Array(items) => items.iter_mut().for_each(make_strict),
        _ => {}
    }
}

fn parse_text<T: DeserializeOwned>(what: &str, raw: &str) -> Result<T, Error> {
    serde_json::from_str(raw).map_err(|e| Error::Decode {
        message: format!("{what}: {e}"),
        body: raw.to_string(),
    })
}

/// A tool call's `arguments` (OpenAI style) read into `T`. The error names the tool and keeps
/// the raw arguments.
pub fn parse_arguments<T: DeserializeOwned>(call: &types::ToolCall) -> Result<T, Error> {
    let (name, arguments) = call_parts(call);
    parse_text(&format!("arguments of tool `{name}`"), &arguments)
}

/// A `tool_use` block's `input` (Anthropic style) read into `T`. The error names the tool and
/// keeps the raw input.
pub fn parse_tool_use<T: DeserializeOwned>(block: &types::ToolUsePart) -> Result<T, Error> {
    let raw = Value::Object(block.input.clone());
    serde_json::from_value(raw.clone()).map_err(|e| Error::Decode {
        message: format!("input of tool `{}`: {e}", block.name),
        body: raw.to_string(),
    })
}

/// The first choice's text read into `T`: the answer to a [`response_format`] request.
pub fn parse_content<T: DeserializeOwned, R: crate::completion::Answer>(
    response: &R,
) -> Result<T, Error> {
    let text = response.text().ok_or_else(|| Error::Decode {
        message: "the answer has no text to read".into(),
        body: String::new(),
    })?;
    parse_text("the answer", &text)
}

/// One tool call the model made and what running it gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolCallRecord {
    /// The call's id, as the model gave it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments, as the model sent them.
    pub arguments: String,
    /// What was sent back: the handler's output as JSON text, or the error.
    pub result: String,
    /// Whether the result is an error (unknown tool, bad arguments, the handler failed).
    pub is_error: bool,
}

type Handler = Arc<dyn Fn(String) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// Tools with their handlers, keyed by name.
#[derive(Clone, Default)]
pub struct Toolbox {
    specs: Vec<ToolSpec>,
    handlers: BTreeMap<String, Handler>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("tools", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Toolbox {
    /// No tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool: `spec` describes it (its arguments' type is `T`), `handler` runs it. The
    /// handler's output is sent back as JSON (a string as it is); its error as an error result.
    pub fn add<T, F, Fut, R, E>(mut self, spec: ToolSpec, handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        R: Serialize + 'static,
        E: Display + 'static,
    {
        let name = spec.name.clone();
        let handler = Arc::new(handler);
        let run: Handler = Arc::new(move |arguments: String| {
            let handler = handler.clone();
            let name = name.clone();
            Box::pin(async move {
                let args: T = parse_text(&format!("arguments of tool `{name}`"), &arguments)
                    .map_err(|e| e.to_string())?;
                match handler(args).await {
                    Ok(out) => Ok(match serde_json::to_value(out) {
                        Ok(Value::String(s)) => s,
                        Ok(v) => v.to_string(),
                        Err(e) => return Err(format!("the result of `{name}`: {e}")),
                    }),
                    Err(e) => Err(e.to_string()),
                }
            })
        });
        self.handlers.insert(spec.name.clone(), run);
        self.specs.retain(|s| s.name != spec.name);
        self.specs.push(spec);
        self
    }

    /// The tools' definitions.
    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    /// Runs one call: the handler's result, or an error result for an unknown tool, bad
    /// arguments or a failed handler.
    ///
    /// Empty arguments (`""`, which servers send for a tool without parameters) are read as `{}`,
    /// as every request path writes them.
    pub async fn run(&self, id: &str, name: &str, arguments: &str) -> ToolCallRecord {
        let given = if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        };
        let outcome = match self.handlers.get(name) {
            Some(h) => h(given.to_string()).await,
            None => Err(format!("there is no tool `{name}`")),
        };
        let (result, is_error) = match outcome {
            Ok(r) => (r, false),
            Err(e) => (e, true),
        };
        ToolCallRecord {
            id: id.to_string(),
            name: name.to_string(),
            arguments: arguments.to_string(),
            result,
            is_error,
        }
    }
}

/// A request that can carry tools and a conversation of tool calls and results: every generated
/// request type, each in its wire shape ([`ChatRequest::SHAPE`](crate::request::ChatRequest::SHAPE)).
/// Its tools and tool rounds are written by the same writer as the conversation API's.
pub trait ToolRequest: crate::request::ChatRequest + DeserializeOwned {
    /// Sets the tools the model may call.
    fn set_tools(&mut self, tools: &Toolbox) -> Result<(), Error> {
        let list: Vec<Value> = tools
            .specs()
            .iter()
            .map(|t| t.json_for(Self::SHAPE, false))
            .collect();
        edit(self, |body| {
            body.insert("tools".into(), Value::Array(list));
        })
    }

    /// Appends the model's turn (its text, if any, and its tool calls) and the results.
    fn push_tool_round(
        &mut self,
        text: Option<String>,
        calls: &[ToolCallRecord],
    ) -> Result<(), Error> {
        let mut rounds = WithRounds::new(self.clone());
        rounds.push(text, calls);
        *self = rounds.into_request()?;
        Ok(())
    }
}

/// A typed request and the tool rounds a loop added to it, sent as the request's own body with
/// the rounds after its messages, written by the conversation API's writer for the request's
/// shape ([`crate::chat::write::write_messages`]).
#[derive(Clone, Debug)]
pub(crate) struct WithRounds<R> {
    request: R,
    rounds: Conversation,
}

impl<R: ToolRequest> WithRounds<R> {
    pub(crate) fn new(request: R) -> Self {
        WithRounds {
            request,
            rounds: Conversation::new(),
        }
    }

    /// Adds one round: the model's turn (its text, if any, and its tool calls), then the results.
    pub(crate) fn push(&mut self, text: Option<String>, calls: &[ToolCallRecord]) {
        for turn in round(text, calls) {
            self.rounds.push(turn);
        }
    }

    /// The request with the rounds in its messages, for the caller to go on with.
    pub(crate) fn into_request(self) -> Result<R, Error> {
        if self.rounds.turns().is_empty() {
            return Ok(self.request);
        }
        let body = serde_json::to_value(&self).map_err(request_json)?;
        serde_json::from_value(body).map_err(|e| {
            Error::Config(format!(
                "the request's messages do not fit its type after a tool round: {e}"
            ))
        })
    }
}

/// One round of a tool loop as conversation turns: the model's turn (its text, if any, and its
/// tool calls), then each call's result.
fn round(text: Option<String>, calls: &[ToolCallRecord]) -> Vec<Turn> {
    let said = Turn::Assistant {
        content: text
            .filter(|t| !t.is_empty())
            .map(|t| vec![Part::Text(t)])
            .unwrap_or_default(),
        tool_calls: calls
            .iter()
            .map(|c| ToolUse {
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            })
            .collect(),
    };
    let results = calls.iter().map(|c| Turn::ToolResult {
        call_id: c.id.clone(),
        content: c.result.clone(),
        is_error: c.is_error,
    });
    std::iter::once(said).chain(results).collect()
}

impl<R: ToolRequest> Serialize for WithRounds<R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap, SerializeSeq};
        if self.rounds.turns().is_empty() {
            return self.request.serialize(s);
        }
        let Value::Object(body) = serde_json::to_value(&self.request).map_err(S::Error::custom)?
        else {
            return Err(S::Error::custom("a request body that is not a JSON object"));
        };
        struct Appended<'a> {
            own: &'a Value,
            shape: WireShape,
            rounds: &'a Conversation,
        }
        impl Serialize for Appended<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(None)?;
                for m in self.own.as_array().into_iter().flatten() {
                    seq.serialize_element(m)?;
                }
                crate::chat::write::write_messages(&mut seq, self.shape, self.rounds)?;
                seq.end()
            }
        }
        let mut map = s.serialize_map(Some(body.len()))?;
        for (key, value) in &body {
            if key == "messages" {
                let messages = Appended {
                    own: value,
                    shape: R::SHAPE,
                    rounds: &self.rounds,
                };
                map.serialize_entry(key, &messages)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<R: ToolRequest> crate::request::ChatRequest for WithRounds<R> {
    type Response = R::Response;
    type Chunk = R::Chunk;
    const SHAPE: WireShape = R::SHAPE;

    fn model_id(&self) -> String {
        self.request.model_id()
    }

    fn model_is_typed(&self) -> bool {
        self.request.model_is_typed()
    }

    fn id_spelling() -> crate::provider::ProviderKind {
        R::id_spelling()
    }

    fn set_model_id(&mut self, id: &str) {
        self.request.set_model_id(id)
    }
}

impl<R: crate::request::ChatRequest + DeserializeOwned> ToolRequest for R {}

fn request_json(e: serde_json::Error) -> Error {
    Error::Config(format!("the request could not be written as JSON: {e}"))
}

/// Changes the body through its JSON: turns and tools are written in each dialect's wire shape.
fn edit<R: Serialize + DeserializeOwned>(
    request: &mut R,
    f: impl FnOnce(&mut Map<String, Value>),
) -> Result<(), Error> {
    let mut body = serde_json::to_value(&*request).map_err(request_json)?;
    if let Value::Object(m) = &mut body {
        f(m);
    }
    *request = serde_json::from_value(body).map_err(|e| {
        Error::Config(format!(
            "the request's messages or tools do not fit its type after a tool round: {e}"
        ))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MODEL_PAGES;
    use serde_json::json;

    /// The top-level elements of the `messages` array in a body's JSON text, as written.
    fn message_texts(body: &str) -> Vec<&str> {
        let start = body.find("\"messages\":[").expect("a messages array") + "\"messages\":[".len();
        let (mut depth, mut in_string, mut escaped, mut from) = (0i32, false, false, start);
        let mut out = Vec::new();
        for (i, c) in body[start..].char_indices().map(|(i, c)| (start + i, c)) {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_string = true,
                '{' | '[' => depth += 1,
                '}' => depth -= 1,
                ']' if depth == 0 => {
                    out.push(&body[from..i]);
                    return out;
                }
                ']' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(&body[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        panic!("the messages array does not end: {body}")
    }

    const ARGS: &str = r#"{"city":"Paris","days":2}"#;

    /// One round: a call with an object, one with `""` (a tool without parameters) and one with
    /// arguments that are not an object; one result an error.
    fn records() -> Vec<ToolCallRecord> {
        [
            ("call_1", "get_forecast", ARGS, "{\"celsius\":21}", false),
            ("call_2", "get_time", "", "12:00", false),
            ("call_3", "echo", "[1,2]", "no such thing", true),
        ]
        .into_iter()
        .map(|(id, name, arguments, result, is_error)| ToolCallRecord {
            id: id.into(),
            name: name.into(),
            arguments: arguments.into(),
            result: result.into(),
            is_error,
        })
        .collect()
    }

    /// The same round through the conversation API and through a typed request of `R`, for a
    /// model of a page of `R`'s shape: the tool turns go out as the same bytes.
    fn both_paths<R: ToolRequest>(
        provider: crate::provider::Provider,
        extra: serde_json::Value,
    ) -> Vec<String> {
        let page = MODEL_PAGES
            .iter()
            .find(|p| p.shape == R::SHAPE)
            .expect("a page of the shape");
        let id = page.ids[0];
        let client = crate::api::Client::builder()
            .provider(provider)
            .base_url("http://127.0.0.1:9")
            .api_key("test-key")
            .build()
            .unwrap();
        let mut conversation = Conversation::new().user("Weather?");
        let mut typed = WithRounds::new({
            let mut body =
                json!({"model": id, "messages": [{"role": "user", "content": "Weather?"}]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            serde_json::from_value::<R>(body).unwrap()
        });
        let calls = records();
        // The same turns, as a conversation holds them: the conversation path writes them.
        for turn in round(Some("Checking.".into()), &calls) {
            conversation.push(turn);
        }
        typed.push(Some("Checking.".into()), &calls);
        let chat = client.chat(id).conversation(conversation).body_text();
        let typed = serde_json::to_string(&typed).unwrap();
        let (chat, typed) = (message_texts(&chat), message_texts(&typed));
        assert_eq!(chat[1..], typed[1..], "{}", R::SHAPE.name());
        assert!(chat.len() > 2, "{chat:?}");
        chat[1..].iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn both_request_paths_write_the_same_tool_turns_in_every_shape() {
        let openai = [
            both_paths::<types::ChatCompletionRequest>(
                crate::provider::Provider::AimlApi,
                json!({}),
            ),
            both_paths::<types::OpenRouterStyleRequest>(
                crate::provider::Provider::AimlApi,
                json!({}),
            ),
            both_paths::<types::OpenRouterRequest>(
                crate::provider::Provider::open_router(),
                json!({}),
            ),
        ];
        for turns in &openai {
            let assistant: Value = serde_json::from_str(&turns[0]).unwrap();
            let arguments: Vec<&str> = assistant["tool_calls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["function"]["arguments"].as_str().unwrap())
                .collect();
            assert_eq!(arguments, [ARGS, "{}", r#"{"arguments":"[1,2]"}"#]);
        }
        let anthropic = [
            both_paths::<types::AnthropicChatRequest>(
                crate::provider::Provider::AimlApi,
                json!({"max_tokens": 64}),
            ),
            both_paths::<types::HybridChatRequest>(
                crate::provider::Provider::AimlApi,
                json!({"max_tokens": 64}),
            ),
        ];
        for turns in &anthropic {
            let assistant: Value = serde_json::from_str(&turns[0]).unwrap();
            let inputs: Vec<&Value> = assistant["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b.get("input"))
                .collect();
            assert_eq!(
                inputs,
                [
                    &json!({"city": "Paris", "days": 2}),
                    &json!({}),
                    &json!({"arguments": "[1,2]"})
                ]
            );
            let results: Value = serde_json::from_str(&turns[1]).unwrap();
            assert_eq!(results["content"][2]["is_error"], true);
        }
    }

    #[tokio::test]
    async fn empty_arguments_reach_a_handler_as_an_empty_object() {
        #[derive(serde::Deserialize, JsonSchema)]
        struct NoArguments {}
        let tools = Toolbox::new().add(
            ToolSpec::new::<NoArguments>("get_time").unwrap(),
            |_: NoArguments| async { Ok::<_, String>("12:00") },
        );
        let record = tools.run("call_1", "get_time", "").await;
        assert!(!record.is_error, "{record:?}");
        assert_eq!(
            (record.result.as_str(), record.arguments.as_str()),
            ("12:00", "")
        );
    }
}

//! The model table: for every page (document), the endpoint it documents, the model ids it names,
//! the request type its body became, the request properties it accepts, where it takes
//! `cache_control`, its `thinking` variants and its `max_tokens` default. Read from each document as published, before any pass changes it, and generated into
//! the types crate as data.

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use crate::adopt::DIALECTS;
use crate::doc::Doc;
use crate::walk::{operations_mut, visit_mut};

/// What one page says about the models it documents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageFacts {
    /// The document's stem: `claude-sonnet-4-5`.
    pub page: String,
    /// The generated request type its chat body became (filled in after hoisting).
    pub request: Option<String>,
    /// The wire shape its body is written in: a dialect of `adopt::DIALECTS` (`info.x-codegen-dialect`;
    /// `messages` for a body that goes to `POST .../messages`, else `openai` when the document
    /// names none or one we do not know).
    pub dialect: &'static str,
    /// The model ids its `model` enum lists, in the document's order (none for a batch page,
    /// which is no model's page).
    pub ids: Vec<String>,
    /// The top-level properties its request body has, sorted.
    pub properties: Vec<String>,
    /// The top-level properties under which its body takes a `cache_control` marker
    /// (`messages`, `system`, `tools`), sorted.
    pub cache_control: Vec<String>,
    /// The `type` values its `thinking` object takes (`enabled`, `disabled`, `adaptive`), in
    /// the document's order; empty when it takes no `thinking`.
    pub thinking: Vec<String>,
    /// Whether its `thinking` object takes `display` (`summarized` or `omitted`).
    pub thinking_display: bool,
    /// The `type` values its tool definitions take (`custom`, `function`, `web_search_20250305`,
    /// ...), sorted; empty when its tools have no `type`.
    pub tool_types: Vec<String>,
    /// The `max_tokens` default it states, if any.
    pub max_tokens_default: Option<u64>,
}

/// The facts of `doc`, read from its first JSON request body.
pub fn page_facts(doc: &Doc) -> PageFacts {
    let mut value = doc.value.clone();
    let mut body = None;
    let mut messages_endpoint = false;
    operations_mut(&mut value, &mut |path, _, op| {
        if body.is_none() {
            body = op
                .get("requestBody")
                .and_then(|b| b.pointer("/content/application~1json/schema"))
                .cloned();
            messages_endpoint = body.is_some() && path.trim_end_matches('/').ends_with("/messages");
        }
    });
    // A batch of Messages requests (`requests[].params`): its params are a Messages body, and
    // the batch is no model's page (its `model` enum lists every model a batch may name).
    let batch_params = body
        .as_ref()
        .and_then(|b| b.pointer("/properties/requests/items/properties/params"))
        .filter(|p| p.get("properties").is_some())
        .cloned();
    let of_batch = batch_params.is_some();
    if let Some(params) = batch_params {
        body = Some(params);
        messages_endpoint = true;
    }
    let named = doc
        .value
        .pointer("/info/x-codegen-dialect")
        .and_then(Value::as_str);
    let dialect = if messages_endpoint {
        "messages"
    } else {
        DIALECTS
            .iter()
            .map(|(d, ..)| *d)
            .find(|d| Some(*d) == named)
            .unwrap_or("openai")
    };
    let mut facts = PageFacts {
        page: doc.stem.clone(),
        dialect,
        ..PageFacts::default()
    };
    let Some(props) = body
        .as_ref()
        .and_then(|b| b.get("properties"))
        .and_then(Value::as_object)
    else {
        return facts;
    };
    facts.properties = props.keys().cloned().collect();
    facts.properties.sort();
    if let Some(model) = props.get("model").filter(|_| !of_batch) {
        let mut ids = Vec::new();
        let mut m = model.clone();
        visit_mut(&mut m, &mut |s| {
            if let Some(Value::Array(values)) = s.get("enum") {
                ids.extend(values.iter().filter_map(Value::as_str).map(String::from));
            }
        });
        for id in ids {
            if !facts.ids.contains(&id) {
                facts.ids.push(id);
            }
        }
    }
    facts.cache_control = props
        .iter()
        .filter(|(_, schema)| takes_cache_control(schema))
        .map(|(name, _)| name.clone())
        .collect();
    facts.cache_control.sort();
    if let Some(tools) = props.get("tools") {
        let mut t = tools.clone();
        visit_mut(&mut t, &mut |s| {
            let Some(p) = s.get("properties").and_then(Value::as_object) else {
                return;
            };
            // A tool definition: it has a name, a function, a custom tool or an input schema
            // beside its `type` (not a `cache_control` or `user_location` inside one).
            if !["name", "function", "custom", "input_schema"]
                .iter()
                .any(|k| p.contains_key(*k))
            {
                return;
            }
            let values = p
                .get("type")
                .and_then(|ty| ty.get("enum"))
                .and_then(Value::as_array);
            for v in values.into_iter().flatten().filter_map(Value::as_str) {
                if !facts.tool_types.iter().any(|x| x == v) {
                    facts.tool_types.push(v.to_string());
                }
            }
        });
        facts.tool_types.sort();
    }
    if let Some(thinking) = props.get("thinking") {
        let mut t = thinking.clone();
        visit_mut(&mut t, &mut |s| {
            if s.get("properties").and_then(|p| p.get("display")).is_some() {
                facts.thinking_display = true;
            }
            let consts = s
                .get("properties")
                .and_then(|p| p.get("type"))
                .and_then(|ty| ty.get("enum"))
                .and_then(Value::as_array);
            for v in consts.into_iter().flatten().filter_map(Value::as_str) {
                if !facts.thinking.iter().any(|x| x == v) {
                    facts.thinking.push(v.to_string());
                }
            }
        });
    }
    facts.max_tokens_default = props
        .get("max_tokens")
        .and_then(|m| m.get("default"))
        .and_then(Value::as_f64)
        .filter(|d| *d >= 0.0 && d.fract() == 0.0 && *d <= u32::MAX as f64)
        .map(|d| d as u64);
    facts
}

/// Whether `schema` (or a schema inside it) has a `cache_control` property.
fn takes_cache_control(schema: &Value) -> bool {
    let mut s = schema.clone();
    let mut found = false;
    visit_mut(&mut s, &mut |s| {
        found |= s
            .get("properties")
            .and_then(|p| p.get("cache_control"))
            .is_some();
    });
    found
}

/// The generated variant of `dialect`.
fn shape_variant(dialect: &str) -> proc_macro2::Ident {
    let (.., variant, _) = DIALECTS
        .iter()
        .find(|(d, ..)| *d == dialect)
        .expect("page_facts takes its dialect from DIALECTS");
    quote::format_ident!("{variant}")
}

/// The Messages shape: what every body in the `messages` dialect takes (the Messages pages and
/// the batch page's params), together; what a request to the Messages endpoint is checked
/// against, whatever its model's chat page says.
pub fn messages_shape(pages: &[PageFacts]) -> PageFacts {
    let mut shape = PageFacts {
        page: "the Messages shape".into(),
        dialect: "messages",
        ..PageFacts::default()
    };
    for p in pages.iter().filter(|p| p.dialect == "messages") {
        let union = |all: &mut Vec<String>, more: &[String]| {
            for x in more {
                if !all.contains(x) {
                    all.push(x.clone());
                }
            }
        };
        union(&mut shape.properties, &p.properties);
        union(&mut shape.cache_control, &p.cache_control);
        union(&mut shape.thinking, &p.thinking);
        union(&mut shape.tool_types, &p.tool_types);
        shape.thinking_display |= p.thinking_display;
    }
    shape.properties.sort();
    shape.cache_control.sort();
    shape.tool_types.sort();
    shape
}

/// One `ModelPage` literal.
fn entry(p: &PageFacts) -> TokenStream {
    let page = &p.page;
    let request = match &p.request {
        Some(r) => quote!(Some(#r)),
        None => quote!(None),
    };
    let ids = &p.ids;
    let properties = &p.properties;
    let thinking = &p.thinking;
    let thinking_display = p.thinking_display;
    let shape = shape_variant(p.dialect);
    let cache_control = &p.cache_control;
    let tool_types = &p.tool_types;
    let max_tokens = match p.max_tokens_default {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    quote! {
        ModelPage {
            page: #page,
            request: #request,
            shape: WireShape::#shape,
            ids: &[#(#ids),*],
            properties: &[#(#properties),*],
            cache_control: &[#(#cache_control),*],
            thinking: &[#(#thinking),*],
            thinking_display: #thinking_display,
            tool_types: &[#(#tool_types),*],
            max_tokens_default: #max_tokens,
        }
    }
}

/// The table as Rust: the `ModelPage` type and `MODEL_PAGES`, one entry per model page (a
/// document that names no model, such as the catalogue's, is not one), and `MESSAGES_SHAPE`.
pub fn tokens(pages: &[PageFacts]) -> TokenStream {
    let messages = entry(&messages_shape(pages));
    let entries = pages.iter().filter(|p| !p.ids.is_empty()).map(entry);
    let variants = DIALECTS.iter().map(|(dialect, .., variant, doc)| {
        let variant = quote::format_ident!("{variant}");
        let doc = format!("{doc} (`{dialect}`)");
        quote! {
            #[doc = #doc]
            #variant
        }
    });
    let names = DIALECTS.iter().map(|(dialect, .., variant, _)| {
        let variant = quote::format_ident!("{variant}");
        quote!(WireShape::#variant => #dialect)
    });
    quote! {
        /// The wire shape a page's request body is written in: which messages, tools and settings
        /// it takes, and which endpoint it goes to.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum WireShape {
            #(#variants),*
        }

        impl WireShape {
            /// The shape's name in the bundled documents (`info.x-codegen-dialect`).
            pub const fn name(self) -> &'static str {
                match self {
                    #(#names),*
                }
            }

            /// Whether the body goes to Anthropic's Messages endpoint (`POST /v1/messages`)
            /// rather than chat completions.
            pub const fn is_messages(self) -> bool {
                matches!(self, WireShape::Messages)
            }
        }

        /// What one bundled model page (one OpenAPI document) says about its models.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct ModelPage {
            /// The document's name: `claude-sonnet-4-5`.
            pub page: &'static str,
            /// The request type the page's chat body is generated as: `AnthropicChatRequest`.
            pub request: Option<&'static str>,
            /// The wire shape of the page's request body (and so the endpoint it goes to).
            pub shape: WireShape,
            /// Every model id the page lists.
            pub ids: &'static [&'static str],
            /// The top-level request properties the page accepts, sorted.
            pub properties: &'static [&'static str],
            /// The top-level request properties under which the page takes a `cache_control`
            /// marker (`messages`, `system`, `tools`), sorted; empty when it takes none.
            pub cache_control: &'static [&'static str],
            /// The `type` values of the `thinking` object the page accepts; empty when it takes
            /// no `thinking`.
            pub thinking: &'static [&'static str],
            /// Whether the page's `thinking` object takes `display` (`summarized`, `omitted`).
            pub thinking_display: bool,
            /// The `type` values the page's tool definitions take (`custom`, `function`, the
            /// server tools' dated types such as `web_search_20250305`), sorted; empty when its
            /// tools carry no `type`.
            pub tool_types: &'static [&'static str],
            /// The `max_tokens` the page says the API uses when the request sets none.
            pub max_tokens_default: Option<u64>,
        }

        impl ModelPage {
            /// Whether the page's request body has the top-level property `name`.
            pub fn accepts(&self, name: &str) -> bool {
                self.properties.binary_search(&name).is_ok()
            }

            /// Whether the page's tool definitions take the `type` `kind`.
            pub fn takes_tool(&self, kind: &str) -> bool {
                self.tool_types.binary_search(&kind).is_ok()
            }

            /// Whether the page takes a `cache_control` marker under the top-level property
            /// `name`.
            pub fn caches(&self, name: &str) -> bool {
                self.cache_control.binary_search(&name).is_ok()
            }

            /// The chat-completions page that lists `id` (the first in page order when several
            /// do), or else the first Messages page that lists it.
            pub fn of(id: &str) -> Option<&'static ModelPage> {
                let listing = |p: &&ModelPage| p.ids.contains(&id);
                MODEL_PAGES
                    .iter()
                    .filter(|p| !p.shape.is_messages())
                    .find(listing)
                    .or_else(|| MODEL_PAGES.iter().find(listing))
            }

            /// The Messages-endpoint page that lists `id`, when one does.
            pub fn messages_of(id: &str) -> Option<&'static ModelPage> {
                MODEL_PAGES
                    .iter()
                    .find(|p| p.shape.is_messages() && p.ids.contains(&id))
            }
        }

        /// Every bundled page, in file-name order: the model table.
        pub const MODEL_PAGES: &[ModelPage] = &[#(#entries),*];

        /// The Messages shape: what the Messages pages and the batch page's params take,
        /// together (its `page` is `the Messages shape`; it lists no ids). A request to the
        /// Messages endpoint is checked against it (and its model's own pages), whatever the
        /// model's chat page says.
        pub const MESSAGES_SHAPE: ModelPage = #messages;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn facts_come_from_the_page_as_published() {
        let doc = Doc {
            stem: "claude-x".into(),
            value: json!({"openapi": "3.0.0", "paths": {"/v1/chat/completions": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                    "model": {"type": "string", "enum": ["a/x", "x-1"]},
                    "temperature": {"type": "number"},
                    "max_tokens": {"type": "number", "default": 64000},
                    "thinking": {"anyOf": [
                        {"oneOf": [
                            {"type": "object", "properties": {"type": {"type": "string", "enum": ["enabled"]}, "budget_tokens": {"type": "integer"}, "display": {"type": "string"}}},
                            {"type": "object", "properties": {"type": {"type": "string", "enum": ["disabled"]}}}]},
                        {"type": "object", "properties": {"type": {"type": "string", "minLength": 1}}}]},
                    "tools": {"type": "array", "items": {"anyOf": [{"type": "object", "properties": {
                        "name": {"type": "string"}, "cache_control": {"type": "object"}}}]}},
                    "messages": {"type": "array"}}}}}}}}}}),
        };
        let f = page_facts(&doc);
        assert_eq!(f.ids, ["a/x", "x-1"]);
        assert_eq!(
            f.properties,
            [
                "max_tokens",
                "messages",
                "model",
                "temperature",
                "thinking",
                "tools"
            ]
        );
        assert_eq!(f.thinking, ["enabled", "disabled"]);
        assert!(f.thinking_display);
        assert_eq!(f.cache_control, ["tools"]);
        assert_eq!(f.dialect, "openai");
        assert_eq!(f.max_tokens_default, Some(64000));
        let text = tokens(&[f]).to_string();
        assert!(text.contains("MODEL_PAGES"), "{text}");
    }

    #[test]
    fn a_messages_page_is_marked_and_takes_no_display_unless_it_says() {
        let doc = Doc {
            stem: "claude-x-MESSAGES".into(),
            value: json!({"openapi": "3.0.0", "paths": {"/v1/messages": {"post": {
                "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                    "model": {"type": "string", "enum": ["x-1"]},
                    "system": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object",
                        "properties": {"text": {"type": "string"}, "cache_control": {"type": "object"}}}}]},
                    "thinking": {"type": "object", "properties": {"type": {"type": "string", "enum": ["enabled"]}}},
                    "messages": {"type": "array"}}}}}}}}}}),
        };
        let f = page_facts(&doc);
        assert_eq!(f.dialect, "messages");
        assert_eq!(f.cache_control, ["system"]);
        assert!(!f.thinking_display);
    }
}

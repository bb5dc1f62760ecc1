//! The names of hoisted types: the name a schema asks for from where it sits, and the qualified
//! names it falls back on when that one is taken.

use serde_json::{json, Map, Value};

use super::registry::Registry;
use crate::doc::Doc;
use crate::walk::{camel, const_of, singular};

/// Names that would clash with what the generated modules already define or import.
const RESERVED: &[&str] = &[
    "String",
    "Option",
    "Vec",
    "Box",
    "Result",
    "Value",
    "Map",
    "HashMap",
    "Error",
    "Client",
    "ConversionError",
    "ResponseValue",
    "Self",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    // Too generic to stand alone: these always take their parent's name in front.
    "Type",
    "Object",
    "Role",
    "Format",
    "Detail",
    "Code",
    "Content",
    "Part",
    "Data",
    "Name",
    "Id",
    "Kind",
    "Status",
    "Item",
];

/// Longer qualified names are passed over for the next candidate: a reader scans a 40-character
/// name; past that the qualifiers drown the noun.
const MAX_NAME: usize = 40;

/// What a named root schema is: it picks the root's name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Root {
    Request,
    Response,
    Stream,
}

/// Where a schema sits while it is being named.
#[derive(Clone)]
pub(super) struct Ctx {
    /// The qualifier for names that differ between dialects: `info.x-codegen-prefix`, else the
    /// `UpperCamel` document stem (`Claude35Haiku`).
    pub(super) doc: String,
    /// The document's dialect (`info.x-codegen-dialect`, else its stem): documents of one dialect
    /// share widened types; across dialects only a schema that another includes is shared.
    pub(super) dialect: String,
    /// The name of the nearest named ancestor, if any.
    pub(super) parent: Option<String>,
    /// The property this schema is the value of (or, with `in_items`, the items of).
    pub(super) prop: Option<String>,
    /// Whether this schema is the `items` of the array at `prop`.
    pub(super) in_items: bool,
    /// Set for the root schema of a request body or response.
    pub(super) root: Option<Root>,
    /// The name the parent asked for (open enums name their known part `Known<Name>`).
    pub(super) hint: Option<String>,
    /// Whether `hint` is as firm as a name a document chose (the known part of an open enum the
    /// document named): such names are merged across documents whatever their place.
    pub(super) firm_hint: bool,
}

impl Ctx {
    /// A schema of document `doc` of `dialect` with nothing around it: no parent, property, root
    /// or hint.
    pub(super) fn top(doc: &str, dialect: &str) -> Ctx {
        Ctx {
            doc: doc.to_string(),
            dialect: dialect.to_string(),
            parent: None,
            prop: None,
            in_items: false,
            root: None,
            hint: None,
            firm_hint: false,
        }
    }
}

impl Registry {
    /// The names a schema may take, best first.
    pub(super) fn candidates(&self, base: &str, ctx: &Ctx, doc_stem: &str) -> Vec<String> {
        // Every name as typify will write it (its `UpperCamelCase` of digits and capitals:
        // `Sao10KL31...` becomes `Sao10kl31...`), so that the name registered here is the name
        // of the generated type.
        self.raw_candidates(base, ctx, doc_stem)
            .into_iter()
            .map(|c| typify_case(&c))
            .collect()
    }

    fn raw_candidates(&self, base: &str, ctx: &Ctx, doc_stem: &str) -> Vec<String> {
        // A name taken in another document marks a difference between documents (a dialect):
        // qualify with the document. Taken in this one, it marks a difference of context:
        // qualify with the parent.
        let by_parent = ctx
            .parent
            .as_ref()
            .filter(|p| !base.starts_with(p.as_str()))
            .map(|p| format!("{p}{base}"));
        let by_doc = (!base.starts_with(&ctx.doc)).then(|| format!("{}{base}", ctx.doc));
        let taken_here = RESERVED.contains(&base)
            || self
                .used_by
                .get(base)
                .is_some_and(|users| users.iter().any(|u| u == doc_stem));
        let mut candidates = vec![base.to_string()];
        if taken_here {
            candidates.extend(by_parent.clone());
            candidates.extend(by_doc.clone());
        } else {
            candidates.extend(by_doc.clone());
            candidates.extend(by_parent);
        }
        if let (Some(_), Some(p)) = (&by_doc, &ctx.parent) {
            candidates.push(format!("{}{p}{base}", ctx.doc));
        }
        // A parent whose name is too long to put in front whole: its first words, which tell
        // siblings apart (`BashCodeExecution...` -> `BashErrorCode`), then with the qualifier.
        if let Some(p) = &ctx.parent {
            let words = words_of(p);
            for k in 1..words.len() {
                let head: String = words[..k].concat();
                if !base.starts_with(&head) {
                    candidates.push(format!("{head}{base}"));
                }
            }
            for k in 1..words.len() {
                let head: String = words[..k].concat();
                candidates.push(format!("{}{head}{base}", ctx.doc));
            }
        }
        candidates
    }

    /// The first candidate name nobody holds yet.
    pub(super) fn free_name(&self, base: &str, ctx: &Ctx, doc_stem: &str) -> String {
        self.candidates(base, ctx, doc_stem)
            .into_iter()
            .find(|c| acceptable(c, base) && !self.schemas.contains_key(c))
            .unwrap_or_else(|| {
                (2..)
                    .map(|i| typify_case(&format!("{base}{i}")))
                    .find(|c| !self.schemas.contains_key(c))
                    .expect("some number is free")
            })
    }

    /// The name a schema will most likely get: the first candidate that is free, or held by
    /// another document's schema of the same place (which it may merge with).
    pub(super) fn likely_name(&self, base: &str, ctx: &Ctx, doc_stem: &str, hard: bool) -> String {
        self.candidates(base, ctx, doc_stem)
            .into_iter()
            .filter(|c| acceptable(c, base))
            .find(|c| {
                !self.schemas.contains_key(c) || self.mergeable_holder(c, ctx, doc_stem, hard)
            })
            .unwrap_or_else(|| self.free_name(base, ctx, doc_stem))
    }
}

/// Whether a candidate for a schema whose base name is `base` may be taken: not reserved, and
/// not too long unless it is the base name itself.
pub(super) fn acceptable(candidate: &str, base: &str) -> bool {
    (candidate.len() <= MAX_NAME || candidate == typify_case(base))
        && !RESERVED.contains(&candidate)
}

/// Where a schema sits, for deciding whether two schemas of one name are the same thing: its
/// parent's name (or, for a root, what the root is) and its property.
pub(super) fn place_of(ctx: &Ctx) -> String {
    let parent = match (&ctx.parent, ctx.root) {
        (Some(p), _) => p.clone(),
        (None, Some(Root::Request)) => "(request)".into(),
        (None, Some(Root::Response)) => "(response)".into(),
        (None, Some(Root::Stream)) => "(stream)".into(),
        (None, None) => String::new(),
    };
    format!(
        "{parent}.{}{}",
        ctx.prop.as_deref().unwrap_or(""),
        if ctx.in_items { "[]" } else { "" }
    )
}

/// `name` in the case typify gives type names (heck's `UpperCamelCase`).
pub fn typify_case(name: &str) -> String {
    use heck::ToPascalCase;
    name.to_pascal_case()
}

/// The `UpperCamel` words of a name: `BashCodeExecution` -> `Bash`, `Code`, `Execution` (digits
/// stay with the word before them).
fn words_of(name: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = name
        .char_indices()
        .filter(|(_, c)| c.is_ascii_uppercase())
        .map(|(i, _)| i)
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &i)| &name[i..starts.get(n + 1).copied().unwrap_or(name.len())])
        .collect()
}

/// The last `UpperCamel` word: `ChatCompletionChunk` -> `Chunk`.
pub(super) fn last_word(name: &str) -> &str {
    let start = name.rfind(|c: char| c.is_ascii_uppercase()).unwrap_or(0);
    &name[start..]
}

/// The prefix that qualifies this document's own type names: `info.x-codegen-prefix` when the
/// document sets one, else its file stem: `claude-3-5-sonnet` -> `Claude35Sonnet`.
pub(super) fn doc_prefix(doc: &Doc) -> String {
    match doc
        .value
        .pointer("/info/x-codegen-prefix")
        .and_then(Value::as_str)
    {
        Some(p) => camel(p),
        None => camel(&doc.stem),
    }
}

/// A branch that takes any object with a string `type` (no list of values): the catch-all beside
/// known kinds.
pub(super) fn is_catch_all(v: &Value) -> bool {
    let Some(props) = v.get("properties").and_then(Value::as_object) else {
        return false;
    };
    props.len() == 1
        && props
            .get("type")
            .is_some_and(|t| t.get("type") == Some(&json!("string")) && t.get("enum").is_none())
}

/// The dialect a document's request is written in: `info.x-codegen-dialect`, else its stem (a
/// document on its own).
pub fn doc_dialect(doc: &Doc) -> String {
    doc.value
        .pointer("/info/x-codegen-dialect")
        .and_then(Value::as_str)
        .unwrap_or(&doc.stem)
        .to_string()
}

/// Objects with properties, unions, enums and strings with length limits get names; the rest
/// stays inline (a string's `pattern` does not make a type: see [`crate::jsonschema::to_json_schema`]).
pub(super) fn needs_name(m: &Map<String, Value>) -> bool {
    m.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        || m.contains_key("oneOf")
        || m.contains_key("anyOf")
        || m.contains_key("enum")
        || ["minLength", "maxLength"]
            .iter()
            .any(|k| m.contains_key(*k))
            && m.get("type") == Some(&json!("string"))
}

/// The name a schema asks for before collisions are settled.
pub(super) fn base_name(m: &Map<String, Value>, ctx: &Ctx) -> String {
    if let Some(h) = m.get("x-codegen-name").and_then(Value::as_str) {
        return h.to_string();
    }
    if let Some(h) = &ctx.hint {
        return h.clone();
    }
    if let Some(root) = ctx.root {
        // A response names itself by its `object` constant: `chat.completion` -> ChatCompletion.
        let object = const_of(m, "object").map(camel).or_else(|| {
            let o = m.get("properties")?.get("object")?;
            let known = o.get("anyOf")?.get(0)?;
            match known.get("enum")?.as_array()?.as_slice() {
                [Value::String(s)] => Some(camel(s)),
                _ => None,
            }
        });
        return match (root, object) {
            (Root::Request, _) => format!("{}Request", ctx.doc),
            (_, Some(o)) => o,
            (Root::Response, None) => format!("{}Response", ctx.doc),
            (Root::Stream, None) => format!("{}StreamEvent", ctx.doc),
        };
    }
    if let Some(role) = const_of(m, "role") {
        return format!("{}Message", camel(role));
    }
    let prop = ctx.prop.as_deref().unwrap_or("");
    let parent_stem = ctx
        .parent
        .as_deref()
        .map(|p| {
            p.strip_suffix("Message")
                .filter(|s| !s.is_empty())
                .unwrap_or(p)
        })
        .unwrap_or("");
    let discriminated = const_of(m, "type").is_some();
    let is_union = m.contains_key("oneOf") || m.contains_key("anyOf");
    let noun = match (prop, ctx.in_items) {
        ("content", true) if discriminated || is_union => "Part".to_string(),
        ("content", true) => format!("{parent_stem}Content"),
        (p, true) => camel(&singular(p)),
        (p, false) => camel(p),
    };
    if let Some(t) = const_of(m, "type") {
        // A branch of a union with no property to name it (a root union's branches): the
        // parent's last word (`MessageStreamEvent` -> `MessageStartEvent`).
        let noun = match (noun.is_empty(), ctx.parent.as_deref()) {
            (true, Some(p)) => words_of(p).last().copied().unwrap_or("").to_string(),
            _ => noun.clone(),
        };
        if !noun.is_empty() {
            let kind = camel(t);
            // `text_delta` in a `delta`: `TextDelta`, not `TextDeltaDelta`.
            return if kind.ends_with(&noun) {
                kind
            } else {
                format!("{kind}{noun}")
            };
        }
    }
    let name = match (prop, ctx.in_items, is_union) {
        ("content", false, true) => format!("{parent_stem}Content"),
        ("content", true, true) => format!("{parent_stem}ContentPart"),
        ("", _, _) => format!(
            "{}{}",
            ctx.parent.clone().unwrap_or_else(|| ctx.doc.clone()),
            "Item"
        ),
        _ => noun,
    };
    match &ctx.parent {
        Some(p) if RESERVED.contains(&name.as_str()) => format!("{p}{name}"),
        _ => name,
    }
}

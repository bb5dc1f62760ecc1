//! Hoisting: every object, union and enum schema of every document becomes a named component,
//! referenced by `$ref`. This is where type names are chosen, so typify never derives a name on
//! its own (typify reuses a derived name without comparing schemas: the silent loss of
//! typify#695). Identical schemas, across all documents, become one component.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use crate::doc::Doc;
use crate::walk::{camel, const_of, operations_mut, singular};

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
enum Root {
    Request,
    Response,
    Stream,
}

/// Where a schema sits while it is being named.
#[derive(Clone)]
struct Ctx {
    /// The qualifier for names that differ between dialects: `info.x-codegen-prefix`, else the
    /// `UpperCamel` document stem (`Claude35Haiku`).
    doc: String,
    /// The document's dialect (`info.x-codegen-dialect`, else its stem): documents of one dialect
    /// share widened types; across dialects only a schema that another includes is shared.
    dialect: String,
    /// The name of the nearest named ancestor, if any.
    parent: Option<String>,
    /// The property this schema is the value of (or, with `in_items`, the items of).
    prop: Option<String>,
    /// Whether this schema is the `items` of the array at `prop`.
    in_items: bool,
    /// Set for the root schema of a request body or response.
    root: Option<Root>,
    /// The name the parent asked for (open enums name their known part `Known<Name>`).
    hint: Option<String>,
    /// Whether `hint` is as firm as a name a document chose (the known part of an open enum the
    /// document named): such names are merged across documents whatever their place.
    firm_hint: bool,
}

/// All components of all documents, by name.
#[derive(Default)]
pub struct Registry {
    /// Name -> hoisted schema (an OpenAPI 3.0 schema whose nested named schemas are `$ref`s).
    pub schemas: BTreeMap<String, Value>,
    /// Canonical text of a schema (without documentation keywords) -> its name.
    canon: HashMap<String, String>,
    /// Which documents use each name, for the report.
    pub used_by: BTreeMap<String, Vec<String>>,
    /// The dialect of the document that first registered each name.
    dialect: HashMap<String, String>,
    /// Where each name's schema first sat (parent, property): schemas are only merged with a
    /// holder of the same place.
    place: HashMap<String, String>,
}

/// Reference to a component.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The component name a `$ref` points at.
pub fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?.as_str()?.rsplit('/').next()
}

impl Registry {
    /// Hoists every schema of `doc` into the registry and rewrites `doc` to reference them;
    /// `doc`'s own `components/schemas` then lists every component it reaches.
    pub fn hoist_doc(&mut self, doc: &mut Doc) -> Result<(), String> {
        let stem = doc_prefix(doc);
        let dialect = doc_dialect(doc);
        // The `pointer_refs` pass resolved every pointer that points somewhere.
        let mut pointers = Vec::new();
        stray_refs(
            doc.value.get("paths").unwrap_or(&Value::Null),
            &mut pointers,
        );
        if let Some(p) = pointers.first() {
            return Err(format!(
                "{}: `$ref: {p}` points nowhere: neither into the document nor into the schema around it",
                doc.stem
            ));
        }
        // Components the document already names keep their names (they are hard names).
        let existing: Vec<(String, Value)> = doc
            .value
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for (name, mut schema) in existing {
            let ctx = Ctx {
                dialect: dialect.clone(),
                doc: stem.clone(),
                parent: None,
                prop: None,
                in_items: false,
                root: None,
                hint: Some(name.clone()),
                firm_hint: false,
            };
            self.hoist(&mut schema, &ctx, &doc.stem);
            if ref_name(&schema) != Some(name.as_str()) {
                return Err(format!(
                    "{}: component `{name}` collides with a different schema of the same name in another document",
                    doc.stem
                ));
            }
        }
        let mut failures = Vec::new();
        operations_mut(&mut doc.value, &mut |_, _, op| {
            let op_name = camel(
                op.get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or("operation"),
            );
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                for p in params {
                    let pname = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("param")
                        .to_string();
                    if let Some(s) = p.get_mut("schema") {
                        let ctx = Ctx {
                            dialect: dialect.clone(),
                            doc: stem.clone(),
                            parent: Some(format!("{op_name}Param")),
                            prop: Some(pname),
                            in_items: false,
                            root: None,
                            hint: None,
                            firm_hint: false,
                        };
                        self.hoist(s, &ctx, &doc.stem);
                    }
                }
            }
            if let Some(Value::Object(content)) =
                op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
            {
                for media in content.values_mut() {
                    if let Some(s) = media.get_mut("schema") {
                        let ctx = Ctx {
                            dialect: dialect.clone(),
                            doc: stem.clone(),
                            parent: None,
                            prop: None,
                            in_items: false,
                            root: Some(Root::Request),
                            hint: None,
                            firm_hint: false,
                        };
                        self.hoist(s, &ctx, &doc.stem);
                    }
                }
            }
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                for resp in responses.values_mut() {
                    let Some(Value::Object(content)) = resp.get_mut("content") else {
                        continue;
                    };
                    for (media_type, media) in content.iter_mut() {
                        let root = if media_type == "text/event-stream" {
                            Root::Stream
                        } else {
                            Root::Response
                        };
                        if let Some(s) = media.get_mut("schema") {
                            let ctx = Ctx {
                                dialect: dialect.clone(),
                                doc: stem.clone(),
                                parent: None,
                                prop: None,
                                in_items: false,
                                root: Some(root),
                                hint: None,
                                firm_hint: false,
                            };
                            self.hoist(s, &ctx, &doc.stem);
                        }
                    }
                }
            }
            if op
                .get("requestBody")
                .is_some_and(|b| b.pointer("/content/application~1json/schema").is_none())
            {
                failures.push(format!(
                    "{op_name}: request body without an application/json schema"
                ));
            }
        });
        if !failures.is_empty() {
            return Err(failures.join("\n"));
        }
        // The document's own components: everything it reaches.
        let mut reach = std::collections::BTreeSet::new();
        let mut todo = Vec::new();
        collect_refs(doc.value.get("paths").unwrap_or(&Value::Null), &mut todo);
        while let Some(name) = todo.pop() {
            if reach.insert(name.clone()) {
                let schema = self.schemas.get(&name).ok_or_else(|| {
                    format!(
                        "{}: a `$ref` points at `{name}`, which is no schema of the document",
                        doc.stem
                    )
                })?;
                collect_refs(schema, &mut todo);
            }
        }
        let comps = doc
            .value
            .as_object_mut()
            .ok_or("a document must be a JSON object")?
            .entry("components")
            .or_insert_with(|| json!({}));
        let schemas: Map<String, Value> = reach
            .iter()
            .filter_map(|n| Some((n.clone(), self.schemas.get(n)?.clone())))
            .collect();
        comps
            .as_object_mut()
            .ok_or("components must be an object")?
            .insert("schemas".into(), Value::Object(schemas));
        Ok(())
    }

    /// Replaces `schema` by a reference to its hoisted component, or, for a primitive, array or
    /// map, hoists what it contains.
    fn hoist(&mut self, schema: &mut Value, ctx: &Ctx, doc_stem: &str) {
        let Value::Object(m) = schema else { return };
        if m.contains_key("$ref") {
            return;
        }
        if !needs_name(m) {
            // Arrays, maps and primitives stay inline; their insides get names.
            if let Some(items) = m.get_mut("items") {
                let c = Ctx {
                    in_items: true,
                    hint: None,
                    firm_hint: false,
                    root: None,
                    ..ctx.clone()
                };
                self.hoist(items, &c, doc_stem);
            }
            if let Some(ap @ Value::Object(_)) = m.get_mut("additionalProperties") {
                let c = Ctx {
                    prop: ctx.prop.as_ref().map(|p| format!("{p}_value")),
                    in_items: false,
                    hint: None,
                    firm_hint: false,
                    root: None,
                    ..ctx.clone()
                };
                self.hoist(ap, &c, doc_stem);
            }
            for key in ["allOf", "not"] {
                if let Some(v) = m.get_mut(key) {
                    match v {
                        Value::Array(list) => {
                            list.iter_mut().for_each(|s| self.hoist(s, ctx, doc_stem))
                        }
                        other => self.hoist(other, ctx, doc_stem),
                    }
                }
            }
            return;
        }
        let base = base_name(m, ctx);
        let hard = m.contains_key("x-codegen-name") || ctx.firm_hint;
        // Children are named after the name this schema will most likely get: if its base name
        // is taken, it will be qualified, and so should its children's. (Were it identical to the
        // holder, or merged with it, its children take the holder's children's names.)
        let mut parent = self.likely_name(&base, ctx, doc_stem, hard);
        if ctx.root.is_some() {
            // A root's children qualify with its last word, `ChunkChoice` rather than
            // `ChatCompletionChunkChoice`: the rest of the root's name is the same for all of them.
            parent = last_word(&parent).to_string();
        }
        let open_enum = m.remove("x-open-enum").is_some();
        m.remove("x-codegen-name");
        // Children first: the parent's canonical form refers to their final names.
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            for (pname, p) in props.iter_mut() {
                let c = Ctx {
                    dialect: ctx.dialect.clone(),
                    doc: ctx.doc.clone(),
                    parent: Some(parent.clone()),
                    prop: Some(pname.clone()),
                    in_items: false,
                    root: None,
                    hint: None,
                    firm_hint: false,
                };
                self.hoist(p, &c, doc_stem);
            }
        }
        if let Some(ap @ Value::Object(_)) = m.get_mut("additionalProperties") {
            let c = Ctx {
                dialect: ctx.dialect.clone(),
                doc: ctx.doc.clone(),
                parent: Some(parent.clone()),
                prop: Some(format!("{base}_value")),
                in_items: false,
                root: None,
                hint: None,
                firm_hint: false,
            };
            self.hoist(ap, &c, doc_stem);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = m.get_mut(key) {
                // A union of known kinds beside a catch-all for kinds added later
                // (`{type: <any non-empty string>}`) is an open union: its known part is
                // `Known<Name>`, like an open enum's.
                let open_union = branches.iter().any(is_catch_all);
                for (i, b) in branches.iter_mut().enumerate() {
                    let is_union = b.get("oneOf").is_some() || b.get("anyOf").is_some();
                    // An open enum's known values are `Known<Name>`; a closed list of modes
                    // beside other branches is `<Name>Mode` (`ToolChoiceMode`).
                    let hint = if open_enum && i == 0 || open_union && is_union {
                        Some(format!("Known{base}"))
                    } else if b.get("enum").is_some() && b.get("properties").is_none() {
                        Some(format!("{base}Mode"))
                    } else {
                        None
                    };
                    // Branches of a union that no property holds (a root union) are named
                    // after the union itself.
                    let c = Ctx {
                        hint,
                        firm_hint: hard && open_enum && i == 0,
                        root: None,
                        parent: if ctx.prop.is_none() && ctx.root.is_some() {
                            Some(parent.clone())
                        } else {
                            ctx.parent.clone()
                        },
                        ..ctx.clone()
                    };
                    self.hoist(b, &c, doc_stem);
                }
            }
        }
        let nullable = m.remove("nullable") == Some(Value::Bool(true));
        let site_description = if nullable {
            m.get("description").cloned()
        } else {
            None
        };
        if open_enum {
            m.insert("x-open-enum".into(), Value::Bool(true));
        }
        let name = self.register(Value::Object(std::mem::take(m)), &base, ctx, doc_stem, hard);
        *schema = if nullable {
            let mut w = json!({ "allOf": [reference(&name)], "nullable": true });
            if let Some(d) = site_description {
                w["description"] = d;
            }
            w
        } else {
            reference(&name)
        };
    }

    /// The names a schema may take, best first.
    fn candidates(&self, base: &str, ctx: &Ctx, doc_stem: &str) -> Vec<String> {
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
    fn free_name(&self, base: &str, ctx: &Ctx, doc_stem: &str) -> String {
        self.candidates(base, ctx, doc_stem)
            .into_iter()
            .find(|c| {
                (c.len() <= MAX_NAME || *c == typify_case(base))
                    && !RESERVED.contains(&c.as_str())
                    && !self.schemas.contains_key(c)
            })
            .unwrap_or_else(|| {
                (2..)
                    .map(|i| typify_case(&format!("{base}{i}")))
                    .find(|c| !self.schemas.contains_key(c))
                    .expect("some number is free")
            })
    }

    /// The name a schema will most likely get: the first candidate that is free, or held by
    /// another document's schema of the same place (which it may merge with).
    fn likely_name(&self, base: &str, ctx: &Ctx, doc_stem: &str, hard: bool) -> String {
        self.candidates(base, ctx, doc_stem)
            .into_iter()
            .filter(|c| {
                (c.len() <= MAX_NAME || *c == typify_case(base)) && !RESERVED.contains(&c.as_str())
            })
            .find(|c| {
                !self.schemas.contains_key(c) || self.mergeable_holder(c, ctx, doc_stem, hard)
            })
            .unwrap_or_else(|| self.free_name(base, ctx, doc_stem))
    }

    /// Whether the schema named `name` was registered by another document for the same place
    /// (or under a name the documents chose themselves).
    fn mergeable_holder(&self, name: &str, ctx: &Ctx, doc_stem: &str, hard: bool) -> bool {
        let other_doc = self
            .used_by
            .get(name)
            .is_some_and(|users| !users.iter().any(|u| u == doc_stem));
        other_doc && (hard || self.place.get(name) == Some(&place_of(ctx)))
    }

    /// Stores a hoisted schema and returns its name: the name an identical schema already has;
    /// else the first candidate name that is free or whose holder it merges with (a holder from
    /// another document of the same place: widened to cover both when both documents are of one
    /// dialect, or when the names were chosen by the documents; across dialects only when one
    /// schema covers the other already).
    fn register(
        &mut self,
        schema: Value,
        base: &str,
        ctx: &Ctx,
        doc_stem: &str,
        hard: bool,
    ) -> String {
        let key = canonical(&schema);
        let name = if let Some(existing) = self.canon.get(&key) {
            existing.clone()
        } else {
            let mut chosen = None;
            for c in self.candidates(base, ctx, doc_stem) {
                if (c.len() > MAX_NAME && *c != typify_case(base)) || RESERVED.contains(&c.as_str())
                {
                    continue;
                }
                let Some(held) = self.schemas.get(&c) else {
                    self.schemas.insert(c.clone(), schema.clone());
                    self.dialect.insert(c.clone(), ctx.dialect.clone());
                    self.place.insert(c.clone(), place_of(ctx));
                    chosen = Some(c);
                    break;
                };
                if !self.mergeable_holder(&c, ctx, doc_stem, hard) {
                    continue;
                }
                let widen = hard || self.dialect.get(&c) == Some(&ctx.dialect);
                let joiner = Joiner {
                    schemas: &self.schemas,
                };
                let merged = if widen {
                    joiner.join(held, &schema)
                } else {
                    joiner.covering(held, &schema)
                };
                match merged {
                    Ok(merged) => {
                        self.canon.insert(canonical(&merged), c.clone());
                        self.schemas.insert(c.clone(), merged);
                        chosen = Some(c);
                        break;
                    }
                    Err(why) => {
                        if std::env::var_os("XTASK_EXPLAIN").is_some() {
                            let how = if widen { "widening" } else { "covering" };
                            eprintln!("hoist: {doc_stem}: `{c}` not merged ({how}): {why}");
                        }
                    }
                }
            }
            let name = chosen.unwrap_or_else(|| {
                let free = self.free_name(base, ctx, doc_stem);
                if std::env::var_os("XTASK_EXPLAIN").is_some() {
                    eprintln!(
                        "hoist: {doc_stem}: `{free}` (place {}; candidates taken: {:?})",
                        place_of(ctx),
                        self.candidates(base, ctx, doc_stem)
                    );
                }
                self.schemas.insert(free.clone(), schema);
                self.dialect.insert(free.clone(), ctx.dialect.clone());
                self.place.insert(free.clone(), place_of(ctx));
                free
            });
            self.canon.insert(key, name.clone());
            name
        };
        let users = self.used_by.entry(name.clone()).or_default();
        if !users.iter().any(|u| u == doc_stem) {
            users.push(doc_stem.to_string());
        }
        name
    }
}

/// Where a schema sits, for deciding whether two schemas of one name are the same thing: its
/// parent's name (or, for a root, what the root is) and its property.
fn place_of(ctx: &Ctx) -> String {
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

/// Joins hoisted schemas, reading the components they refer to from `schemas`.
pub struct Joiner<'a> {
    /// The components by name.
    pub schemas: &'a BTreeMap<String, Value>,
}

impl Joiner<'_> {
    /// The narrowest schema that accepts everything `a` or `b` accepts, when the two differ only
    /// by what one of them leaves out: properties (a property required by only one becomes
    /// optional), branches of a union, values of an enum, looser numeric bounds; a reference
    /// whose schema accepts all the other side does. An error saying where, when they differ in
    /// kind (an object and a string, different string constraints).
    pub fn join(&self, a: &Value, b: &Value) -> Result<Value, String> {
        self.join_at(a, b, 0)
    }

    fn join_at(&self, a: &Value, b: &Value, depth: usize) -> Result<Value, String> {
        if depth > 32 {
            return Err("nested too deep".into());
        }
        if canonical(a) == canonical(b) {
            return Ok(a.clone());
        }
        let (Value::Object(x), Value::Object(y)) = (a, b) else {
            return Err("not both schemas".into());
        };
        if let Some(r) = self.join_refs(a, b, depth) {
            return r;
        }
        // `X or null` against `X`: the nullable side wins.
        if let Some(j) = self
            .join_nullable(x, y, depth)
            .or_else(|| self.join_nullable(y, x, depth))
        {
            return Ok(j);
        }
        let union = |m: &Map<String, Value>| m.contains_key("oneOf") || m.contains_key("anyOf");
        if union(x) || union(y) {
            return self.join_unions(x, y, depth);
        }
        let mut out = Map::new();
        let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
        for k in keys {
            let (vx, vy) = (x.get(k), y.get(k));
            let v = match k.as_str() {
                "properties" => {
                    let (Some(Value::Object(px)), Some(Value::Object(py))) = (vx, vy) else {
                        return Err("properties on one side only".into());
                    };
                    let mut props = Map::new();
                    let names: std::collections::BTreeSet<&String> =
                        px.keys().chain(py.keys()).collect();
                    for n in names {
                        let v = match (px.get(n), py.get(n)) {
                            (Some(p), Some(q)) => self
                                .join_at(p, q, depth + 1)
                                .map_err(|e| format!("{n}: {e}"))?,
                            (Some(p), None) | (None, Some(p)) => p.clone(),
                            (None, None) => unreachable!(),
                        };
                        props.insert(n.clone(), v);
                    }
                    Value::Object(props)
                }
                "required" => {
                    let both: Vec<Value> = match (vx, vy) {
                        (Some(Value::Array(rx)), Some(Value::Array(ry))) => {
                            rx.iter().filter(|r| ry.contains(r)).cloned().collect()
                        }
                        _ => Vec::new(),
                    };
                    if both.is_empty() {
                        continue;
                    }
                    Value::Array(both)
                }
                "additionalProperties" => match (vx, vy) {
                    (Some(Value::Bool(false)), Some(Value::Bool(false))) => Value::Bool(false),
                    (Some(p), Some(q)) => self
                        .join_at(p, q, depth + 1)
                        .map_err(|e| format!("additionalProperties: {e}"))?,
                    _ => continue,
                },
                "enum" => {
                    let (Some(Value::Array(ex)), Some(Value::Array(ey))) = (vx, vy) else {
                        return Err("enum on one side only".into());
                    };
                    let mut values = ex.clone();
                    values.extend(ey.iter().cloned());
                    unique_variants(&mut values);
                    Value::Array(values)
                }
                "minimum" | "exclusiveMinimum" => {
                    match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                        (Some(p), Some(q)) => json!(p.min(q)),
                        _ => continue,
                    }
                }
                "maximum" | "exclusiveMaximum" | "maxItems" => {
                    match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                        (Some(_), Some(_)) if vx == vy => vx.cloned().unwrap_or_default(),
                        (Some(p), Some(q)) => json!(p.max(q)),
                        _ => continue,
                    }
                }
                "minItems" => match (vx.and_then(Value::as_f64), vy.and_then(Value::as_f64)) {
                    (Some(p), Some(q)) => json!(p.min(q)),
                    _ => continue,
                },
                "description" | "example" | "examples" | "default" => match vx.or(vy) {
                    Some(v) => v.clone(),
                    None => continue,
                },
                _ => {
                    if vx != vy {
                        return Err(format!(
                            "{k}: {} against {}",
                            vx.map_or("nothing".into(), short),
                            vy.map_or("nothing".into(), short)
                        ));
                    }
                    vx.cloned().unwrap_or_default()
                }
            };
            out.insert(k.clone(), v);
        }
        Ok(Value::Object(out))
    }

    /// Two references, or a reference and an inline schema: the side whose schema accepts all
    /// the other's does. `None` when neither side is a bare reference.
    fn join_refs(&self, a: &Value, b: &Value, depth: usize) -> Option<Result<Value, String>> {
        fn bare(v: &Value) -> Option<&str> {
            v.as_object()
                .filter(|m| m.len() == 1)
                .and_then(|_| ref_name(v))
        }
        let (ra, rb) = (bare(a), bare(b));
        if ra.is_none() && rb.is_none() {
            return None;
        }
        let resolve = |v: &Value, name: Option<&str>| -> Value {
            name.and_then(|n| self.schemas.get(n))
                .cloned()
                .unwrap_or_else(|| v.clone())
        };
        let (sa, sb) = (resolve(a, ra), resolve(b, rb));
        // A union that has the other as one of its branches.
        let has_branch = |u: &Value, branch: &Value| {
            ["oneOf", "anyOf"].iter().any(|k| {
                u.get(*k)
                    .and_then(Value::as_array)
                    .is_some_and(|bs| bs.iter().any(|x| canonical(x) == canonical(branch)))
            })
        };
        if ra.is_some() && has_branch(&sa, b) {
            return Some(Ok(a.clone()));
        }
        if rb.is_some() && has_branch(&sb, a) {
            return Some(Ok(b.clone()));
        }
        Some(match self.join_at(&sa, &sb, depth + 1) {
            Ok(j) if ra.is_some() && canonical(&j) == canonical(&sa) => Ok(a.clone()),
            Ok(j) if rb.is_some() && canonical(&j) == canonical(&sb) => Ok(b.clone()),
            Ok(_) => Err(format!(
                "{} against {}: each has something the other lacks",
                short(a),
                short(b)
            )),
            Err(e) => Err(format!("{} against {}: {e}", short(a), short(b))),
        })
    }

    /// `x` nullable (`{allOf: [X], nullable: true}`) and `y` plain `X`: `x`.
    fn join_nullable(
        &self,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
        depth: usize,
    ) -> Option<Value> {
        if x.get("nullable") != Some(&Value::Bool(true)) {
            return None;
        }
        let inner = x.get("allOf")?.as_array()?;
        match inner.as_slice() {
            [only]
                if self
                    .join_at(only, &Value::Object(y.clone()), depth + 1)
                    .ok()?
                    == *only =>
            {
                Some(Value::Object(x.clone()))
            }
            _ => None,
        }
    }

    /// Two unions, or a union and one of its possible branches: every branch of both, once.
    fn join_unions(
        &self,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
        depth: usize,
    ) -> Result<Value, String> {
        let branches = |m: &Map<String, Value>| -> (Option<&'static str>, Vec<Value>) {
            for k in ["oneOf", "anyOf"] {
                if let Some(Value::Array(b)) = m.get(k) {
                    return (Some(k), b.clone());
                }
            }
            (None, vec![Value::Object(m.clone())])
        };
        let (kx, bx) = branches(x);
        let (ky, by) = branches(y);
        // Keywords beside the union (nullable, the open-enum marker) must agree.
        let rest = |m: &Map<String, Value>, k: Option<&str>| -> Map<String, Value> {
            if k.is_none() {
                return Map::new();
            }
            m.iter()
                .filter(|(key, _)| {
                    Some(key.as_str()) != k && !matches!(key.as_str(), "description" | "default")
                })
                .map(|(key, v)| (key.clone(), v.clone()))
                .collect()
        };
        let (rx, ry) = (rest(x, kx), rest(y, ky));
        if kx.is_some() && ky.is_some() && rx != ry {
            return Err("unions with different keywords beside their branches".into());
        }
        let mut out: Vec<Value> = bx.clone();
        for b in by {
            if out.iter().any(|o| canonical(o) == canonical(&b)) {
                continue;
            }
            // A branch that covers, or is covered by, one already there takes its place.
            if let Some((i, wider)) = out
                .iter()
                .enumerate()
                .find_map(|(i, o)| self.covering_at(o, &b, depth + 1).ok().map(|w| (i, w)))
            {
                out[i] = wider;
                continue;
            }
            // An open enum's known values: one branch of enum values, widened.
            if let Some(i) = out
                .iter()
                .position(|o| o.get("enum").is_some() && b.get("enum").is_some())
            {
                out[i] = self
                    .join_at(&out[i], &b, depth + 1)
                    .map_err(|e| format!("enum branch: {e}"))?;
                continue;
            }
            out.push(b);
        }
        let keyword = match (kx, ky) {
            (Some("oneOf"), Some("oneOf")) | (Some("oneOf"), None) | (None, Some("oneOf")) => {
                "oneOf"
            }
            _ => "anyOf",
        };
        let mut m = if kx.is_some() { rx } else { ry };
        if let Some(d) = x.get("description").or(y.get("description")) {
            m.insert("description".into(), d.clone());
        }
        m.insert(keyword.into(), Value::Array(out));
        Ok(Value::Object(m))
    }

    /// `a` or `b`, whichever accepts everything the other does; an error when neither does.
    pub fn covering(&self, a: &Value, b: &Value) -> Result<Value, String> {
        self.covering_at(a, b, 0)
    }

    fn covering_at(&self, a: &Value, b: &Value, depth: usize) -> Result<Value, String> {
        let j = self.join_at(a, b, depth)?;
        let c = canonical(&j);
        if c == canonical(a) || c == canonical(b) {
            Ok(j)
        } else {
            Err("each has something the other lacks (different dialects)".into())
        }
    }
}

/// A schema's text, cut short for a message.
fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.len() > 80 {
        format!("{}...", &t[..t.floor_char_boundary(80)])
    } else {
        t
    }
}

/// `name` in the case typify gives type names (heck's `UpperCamelCase`).
pub fn typify_case(name: &str) -> String {
    use heck::ToPascalCase;
    name.to_pascal_case()
}

/// Keeps the first of enum values that are equal, or that typify would give the same variant
/// name (`anthropic/claude-opus-4-7` and `anthropic/claude-opus-4.7` are both
/// `AnthropicClaudeOpus47`, which typify refuses). A string value dropped from an open enum
/// still parses and sends through its string branch. Returns whether any was dropped.
pub fn unique_variants(values: &mut Vec<Value>) -> bool {
    let mut seen: Vec<Value> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let before = values.len();
    values.retain(|v| {
        let name = v.as_str().map(typify_case);
        if seen.contains(v) || name.as_ref().is_some_and(|n| names.contains(n)) {
            return false;
        }
        seen.push(v.clone());
        names.extend(name);
        true
    });
    values.len() != before
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
fn last_word(name: &str) -> &str {
    let start = name.rfind(|c: char| c.is_ascii_uppercase()).unwrap_or(0);
    &name[start..]
}

/// The prefix that qualifies this document's own type names: `info.x-codegen-prefix` when the
/// document sets one, else its file stem: `claude-3-5-sonnet` -> `Claude35Sonnet`.
pub fn doc_prefix(doc: &Doc) -> String {
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
fn is_catch_all(v: &Value) -> bool {
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
fn needs_name(m: &Map<String, Value>) -> bool {
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
fn base_name(m: &Map<String, Value>, ctx: &Ctx) -> String {
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

/// The schema's text without the keywords that only document it: two schemas with the same
/// canonical text generate the same type.
fn canonical(v: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "description" | "example" | "examples" | "default" | "x-codegen-name"
                        )
                    })
                    .map(|(k, v)| {
                        // Property maps hold names, not keywords: keep every key there.
                        if k == "properties" {
                            let props = v
                                .as_object()
                                .map(|p| p.iter().map(|(pk, pv)| (pk.clone(), strip(pv))).collect())
                                .unwrap_or_default();
                            (k.clone(), Value::Object(props))
                        } else {
                            (k.clone(), strip(v))
                        }
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(v).to_string()
}

/// Every `$ref` in `v` that is not a reference to a component schema.
fn stray_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                if !r.starts_with("#/components/schemas/") {
                    out.push(r.clone());
                }
            }
            m.values().for_each(|x| stray_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| stray_refs(x, out)),
        _ => {}
    }
}

/// Every component name that `v` references.
pub fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(n) = ref_name(v) {
                out.push(n.to_string());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_with_body(stem: &str, body: Value) -> Doc {
        Doc {
            stem: stem.into(),
            value: json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/v1/chat/completions": {"post": {
                "operationId": "create_chat_completion",
                "requestBody": {"content": {"application/json": {"schema": body}}},
                "responses": {"200": {"description": "ok"}}}}}}),
        }
    }

    fn text_part() -> Value {
        json!({"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}})
    }

    #[test]
    fn messages_and_parts_are_named_by_their_constants() {
        let body = json!({"type": "object", "properties": {"messages": {"type": "array", "items": {"oneOf": [
            {"type": "object", "properties": {"role": {"type": "string", "enum": ["system"]}, "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": text_part()}]}}},
            {"type": "object", "properties": {"role": {"type": "string", "enum": ["user"]}, "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"anyOf": [
                text_part(),
                {"type": "object", "properties": {"type": {"type": "string", "enum": ["image_url"]}, "image_url": {"type": "object", "properties": {"url": {"type": "string"}}}}}]}}]}}}]}}}});
        let mut reg = Registry::default();
        let mut d = doc_with_body("claude-x", body);
        reg.hoist_doc(&mut d).unwrap();
        let names: Vec<&str> = reg.schemas.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "ClaudeXRequest",
                "ImageUrl",
                "ImageUrlPart",
                "ImageUrlPartType",
                "Message",
                "SystemContent",
                "SystemMessage",
                "SystemMessageRole",
                "TextPart",
                "TextPartType",
                "UserContent",
                "UserContentPart",
                "UserMessage",
                "UserMessageRole"
            ]
        );
        // The two `content` unions differ (the user's has image parts): two types, nothing lost.
        assert_ne!(reg.schemas["SystemContent"], reg.schemas["UserContent"]);
        assert_eq!(
            reg.schemas["UserContentPart"]["anyOf"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn identical_schemas_across_documents_become_one_component() {
        let mut reg = Registry::default();
        let part = json!({"type": "object", "properties": {"parts": {"type": "array", "items": text_part()}}});
        let mut a = doc_with_body("doc-a", part.clone());
        let mut b = doc_with_body("doc-b", part);
        reg.hoist_doc(&mut a).unwrap();
        reg.hoist_doc(&mut b).unwrap();
        assert_eq!(reg.used_by["TextPart"], ["doc-a", "doc-b"]);
        assert_eq!(
            reg.used_by["DocARequest"],
            ["doc-a", "doc-b"],
            "identical request bodies are one type too"
        );
        assert_eq!(
            reg.schemas.len(),
            3,
            "{:?}",
            reg.schemas.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_different_schema_under_a_taken_name_gets_a_qualified_name() {
        // Two documents (each its own dialect) whose `TextP` differ in kind: neither covers the
        // other, so the second is qualified by its document.
        let mut reg = Registry::default();
        let mut a = doc_with_body(
            "doc-a",
            json!({"type": "object", "properties": {"p": {"type": "array", "items": text_part()}}}),
        );
        let mut other = text_part();
        other["properties"]["text"] = json!({"type": "integer"});
        let mut b = doc_with_body(
            "doc-b",
            json!({"type": "object", "properties": {"p": {"type": "array", "items": other}}}),
        );
        reg.hoist_doc(&mut a).unwrap();
        reg.hoist_doc(&mut b).unwrap();
        let names: Vec<&String> = reg.schemas.keys().collect();
        assert!(reg.schemas.contains_key("TextP"), "{names:?}");
        assert!(
            reg.schemas.contains_key("DocBTextP"),
            "a difference between documents is qualified by the document: {names:?}"
        );
    }

    fn in_dialect(stem: &str, dialect: &str, body: Value) -> Doc {
        let mut d = doc_with_body(stem, body);
        d.value["info"]["x-codegen-dialect"] = json!(dialect);
        d
    }

    #[test]
    fn pages_of_one_dialect_share_the_wider_type() {
        // Page b omits `temperature` and adds `thinking`; page c's message takes one more kind
        // of part. One request type, one message type: every property and part of all three.
        let part = |kind: &str| json!({"type": "object", "required": ["type"], "properties": {"type": {"type": "string", "enum": [kind]}, "text": {"type": "string"}}});
        let body = |props: Value| json!({"type": "object", "required": ["model"], "x-codegen-name": "ShapeRequest", "properties": props});
        let messages = |parts: Vec<Value>| json!({"type": "array", "items": {"type": "object", "properties": {"content": {"type": "array", "items": {"oneOf": parts}}}}});
        let mut reg = Registry::default();
        let mut a = in_dialect(
            "page-a",
            "d",
            body(
                json!({"model": {"type": "string"}, "temperature": {"type": "number", "maximum": 1}, "messages": messages(vec![part("text")])}),
            ),
        );
        let mut b = in_dialect(
            "page-b",
            "d",
            body(
                json!({"model": {"type": "string"}, "thinking": {"type": "boolean"}, "messages": messages(vec![part("text")])}),
            ),
        );
        let mut c = in_dialect(
            "page-c",
            "d",
            body(
                json!({"model": {"type": "string"}, "temperature": {"type": "number", "maximum": 2}, "messages": messages(vec![part("text"), part("image")])}),
            ),
        );
        for d in [&mut a, &mut b, &mut c] {
            reg.hoist_doc(d).unwrap();
        }
        let request = &reg.schemas["ShapeRequest"];
        let props: Vec<&String> = request["properties"].as_object().unwrap().keys().collect();
        assert_eq!(props, ["messages", "model", "temperature", "thinking"]);
        assert_eq!(request["properties"]["temperature"]["maximum"], json!(2.0));
        assert_eq!(request["required"], json!(["model"]));
        assert_eq!(reg.used_by["ShapeRequest"], ["page-a", "page-b", "page-c"]);
        let names: Vec<&String> = reg.schemas.keys().collect();
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("Page") || n.ends_with('2')),
            "no name per page: {names:?}"
        );
    }

    #[test]
    fn across_dialects_only_a_covering_schema_is_shared() {
        let part = json!({"type": "object", "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}});
        let mut wider = part.clone();
        wider["properties"]["cache_control"] =
            json!({"type": "object", "properties": {"ttl": {"type": "string"}}});
        let body = |p: &Value| json!({"type": "object", "properties": {"parts": {"type": "array", "items": p}}});
        let mut reg = Registry::default();
        let mut a = in_dialect("page-a", "one", body(&part));
        let mut b = in_dialect("page-b", "two", body(&wider));
        reg.hoist_doc(&mut a).unwrap();
        reg.hoist_doc(&mut b).unwrap();
        // b's part covers a's: one type, the wider.
        assert!(reg.schemas["TextPart"]["properties"]
            .get("cache_control")
            .is_some());
        assert_eq!(reg.used_by["TextPart"], ["page-a", "page-b"]);
    }

    #[test]
    fn nullable_objects_are_referenced_through_a_nullable_all_of() {
        let mut reg = Registry::default();
        let mut d = doc_with_body(
            "doc",
            json!({"type": "object", "properties": {"usage": {"type": "object", "nullable": true, "properties": {"n": {"type": "integer"}}}}}),
        );
        reg.hoist_doc(&mut d).unwrap();
        assert_eq!(
            reg.schemas["DocRequest"]["properties"]["usage"],
            json!({"allOf": [{"$ref": "#/components/schemas/Usage"}], "nullable": true})
        );
        assert!(reg.schemas["Usage"].get("nullable").is_none());
    }
}

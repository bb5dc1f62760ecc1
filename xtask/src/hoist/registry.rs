//! The registry of hoisted schemas: every schema of a document that gets a name becomes a
//! component of the registry, shared by every document that has it, and the document refers to
//! it by `$ref`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Map, Value};

use super::joining::{canonical, Joiner};
use super::naming::{
    acceptable, base_name, doc_dialect, doc_prefix, is_catch_all, last_word, needs_name, place_of,
    Ctx, Root,
};
use crate::doc::Doc;
use crate::walk::{camel, collect_refs, operations_mut, reach, ref_name, reference, refs};

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

impl Registry {
    /// Hoists every schema of `doc` into the registry and rewrites `doc` to reference them;
    /// `doc`'s own `components/schemas` then lists every component it reaches.
    pub fn hoist_doc(&mut self, doc: &mut Doc) -> Result<(), String> {
        let stem = doc_prefix(doc);
        let dialect = doc_dialect(doc);
        // The `pointer_refs` pass resolved every pointer that points somewhere.
        let mut pointers = Vec::new();
        refs(doc.value.get("paths").unwrap_or(&Value::Null), &mut |r| {
            if !r.starts_with("#/components/schemas/") {
                pointers.push(r.to_string());
            }
        });
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
                hint: Some(name.clone()),
                ..Ctx::top(&stem, &dialect)
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
                            parent: Some(format!("{op_name}Param")),
                            prop: Some(pname),
                            ..Ctx::top(&stem, &dialect)
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
                            root: Some(Root::Request),
                            ..Ctx::top(&stem, &dialect)
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
                                root: Some(root),
                                ..Ctx::top(&stem, &dialect)
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
        let mut roots = Vec::new();
        collect_refs(doc.value.get("paths").unwrap_or(&Value::Null), &mut roots);
        let mut missing = None;
        let reach = reach(roots, &mut |name, todo| match self.schemas.get(name) {
            Some(schema) => collect_refs(schema, todo),
            None => {
                missing.get_or_insert_with(|| name.to_string());
            }
        });
        if let Some(name) = missing {
            return Err(format!(
                "{}: a `$ref` points at `{name}`, which is no schema of the document",
                doc.stem
            ));
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
                    parent: Some(parent.clone()),
                    prop: Some(pname.clone()),
                    ..Ctx::top(&ctx.doc, &ctx.dialect)
                };
                self.hoist(p, &c, doc_stem);
            }
        }
        if let Some(ap @ Value::Object(_)) = m.get_mut("additionalProperties") {
            let c = Ctx {
                parent: Some(parent.clone()),
                prop: Some(format!("{base}_value")),
                ..Ctx::top(&ctx.doc, &ctx.dialect)
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

    /// Whether the schema named `name` was registered by another document for the same place
    /// (or under a name the documents chose themselves).
    pub(super) fn mergeable_holder(
        &self,
        name: &str,
        ctx: &Ctx,
        doc_stem: &str,
        hard: bool,
    ) -> bool {
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
                if !acceptable(&c, base) {
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

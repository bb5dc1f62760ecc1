//! Request validation against the normalized documents' request schemas.

use std::collections::BTreeMap;

use jsonschema::Validator;
use serde_json::Value;

/// One compiled request schema per bundled document, and which document each known model id
/// belongs to.
pub(crate) struct Schemas {
    validators: BTreeMap<&'static str, Validator>,
    models: BTreeMap<String, &'static str>,
}

impl Schemas {
    pub(crate) fn load() -> Schemas {
        let mut validators = BTreeMap::new();
        let mut models = BTreeMap::new();
        for (stem, text) in aimlapi_types::REQUEST_SCHEMAS {
            let schema: Value = serde_json::from_str(text).expect("bundled schema is JSON");
            for id in known_models(&schema) {
                models.entry(id).or_insert(*stem);
            }
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("bundled request schema {stem} does not compile: {e}"));
            validators.insert(*stem, validator);
        }
        Schemas { validators, models }
    }

    /// The document a model id belongs to: the one that lists it, else the one listing the id
    /// that shares the longest start with it, at least `claude-3-5-haiku` long (the documented
    /// examples send `claude-3-5-haiku`, an alias the documents' enums do not list).
    pub(crate) fn document_of(&self, model: &str) -> Option<&'static str> {
        if let Some(stem) = self.models.get(model) {
            return Some(stem);
        }
        let shared = |known: &str| {
            known
                .bytes()
                .zip(model.bytes())
                .take_while(|(a, b)| a == b)
                .count()
        };
        self.models
            .iter()
            .map(|(known, stem)| (shared(known), *stem))
            .filter(|(n, _)| *n >= "claude-3-5-haiku".len())
            .max_by_key(|(n, _)| *n)
            .map(|(_, stem)| stem)
    }

    /// Checks `body` against the request schema of the document its `model` names. `Ok` carries
    /// the document's stem; `Err` says what is wrong (at most a few problems).
    pub(crate) fn check(&self, body: &Value) -> Result<&'static str, String> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| "the body has no string `model`".to_string())?;
        let stem = self
            .document_of(model)
            .ok_or_else(|| format!("unknown model `{model}`"))?;
        let problems: Vec<String> = self.validators[stem]
            .iter_errors(body)
            .take(3)
            .map(|e| format!("{} at `{}`", e, e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(stem)
        } else {
            Err(format!("{stem}: {}", problems.join("; ")))
        }
    }

    /// Every known model id, sorted.
    pub(crate) fn models(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.models.iter().map(|(m, d)| (m.as_str(), *d))
    }
}

/// The values of every `Known...ModelId` enum in a request schema.
fn known_models(schema: &Value) -> Vec<String> {
    let Some(defs) = schema.get("$defs").and_then(Value::as_object) else {
        return Vec::new();
    };
    defs.iter()
        .filter(|(name, _)| name.starts_with("Known") && name.ends_with("ModelId"))
        .filter_map(|(_, s)| s.get("enum")?.as_array().cloned())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

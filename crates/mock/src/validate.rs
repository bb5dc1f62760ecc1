//! Request validation against the normalized documents' request schemas.

use std::collections::BTreeMap;
use std::sync::OnceLock;

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
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("bundled request schema {stem} does not compile: {e}"));
            validators.insert(*stem, validator);
        }
        // Which chat document each model id belongs to: the model table (the first chat page
        // that lists an id wins, as for the client; Messages pages are for their own endpoint).
        for page in aimlapi_types::MODEL_PAGES {
            if page.shape.is_messages() || !validators.contains_key(page.page) {
                continue;
            }
            for id in page.ids {
                models.entry(id.to_string()).or_insert(page.page);
            }
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
        let stem = self.check_model(body)?;
        valid(&self.validators[stem], stem, body)?;
        Ok(stem)
    }

    /// Checks a body sent to OpenRouter's path against OpenRouter's own document (its shape:
    /// OpenAI-style tools and content, `reasoning`, `provider`, `models`), whatever Claude model it
    /// names (the document's enum lists one; OpenRouter takes them all). `Ok` carries the stem of
    /// the document of the model it names, for the documented answer.
    pub(crate) fn check_openrouter(&self, body: &Value) -> Result<&'static str, String> {
        let Some(page) = aimlapi_types::MODEL_PAGES
            .iter()
            .find(|p| p.page.starts_with("openrouter-") && self.validators.contains_key(p.page))
        else {
            return self.check(body);
        };
        let named = self.check_model(body);
        let as_listed = match page.ids.first() {
            Some(id) => naming(body, id),
            None => body.clone(),
        };
        valid(&self.validators[page.page], page.page, &as_listed)?;
        named
    }

    /// The stem of the document the body's `model` names.
    fn check_model(&self, body: &Value) -> Result<&'static str, String> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| "the body has no string `model`".to_string())?;
        self.document_of(model)
            .ok_or_else(|| format!("unknown model `{model}`"))
    }

    /// Every known model id, sorted.
    pub(crate) fn models(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.models.iter().map(|(m, d)| (m.as_str(), *d))
    }

    /// Checks a Messages-endpoint body against the request schema of the Messages pages: the
    /// page that lists its model, else (the endpoint takes more ids than its pages list) the
    /// first such page, for the body's shape alone.
    pub(crate) fn check_message(&self, body: &Value) -> Result<(), String> {
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| "the body has no string `model`".to_string())?;
        let pages = || {
            aimlapi_types::MODEL_PAGES
                .iter()
                .filter(|p| p.shape.is_messages() && self.validators.contains_key(p.page))
        };
        let listing = pages().find(|p| p.ids.contains(&model));
        let (stem, body) = match listing {
            Some(page) => (page.page, std::borrow::Cow::Borrowed(body)),
            None => {
                let page = pages()
                    .next()
                    .ok_or_else(|| "no Messages page is bundled".to_string())?;
                let id = page
                    .ids
                    .first()
                    .ok_or_else(|| format!("the Messages page {} lists no model", page.page))?;
                (page.page, std::borrow::Cow::Owned(naming(body, id)))
            }
        };
        valid(&self.validators[stem], stem, &body)
    }
}

impl Schemas {
    /// Checks a batch's body against the batch document's request schema.
    pub(crate) fn check_batch(&self, body: &Value) -> Result<(), String> {
        let stem = "aimlapi-batches";
        let validator = self
            .validators
            .get(stem)
            .ok_or_else(|| "the batch document is not bundled".to_string())?;
        valid(validator, stem, body)
    }
}

/// Checks `body` against `stem`'s validator: `Err` names the document and at most three
/// problems, each with where it is.
fn valid(validator: &Validator, stem: &str, body: &Value) -> Result<(), String> {
    let problems: Vec<String> = validator
        .iter_errors(body)
        .take(3)
        .map(|e| format!("{} at `{}`", e, e.instance_path()))
        .collect();
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!("{stem}: {}", problems.join("; "))),
    }
}

/// `body` naming the model `id`: checked for its shape by a page whose enum lists only its own.
fn naming(body: &Value, id: &str) -> Value {
    let mut named = body.clone();
    if let Some(map) = named.as_object_mut() {
        map.insert("model".into(), Value::String(id.to_string()));
    }
    named
}

/// The bundled documents' schemas, compiled once.
pub(crate) fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(Schemas::load)
}
